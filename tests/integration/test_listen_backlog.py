"""The HTTP servers our remote functions run behind accept a burst of connections without dropping any.

statefun's async transport opens many connections per function type and subtask at once (a restore opens
them in a burst). When a server's listen backlog is small the accept queue overflows, the kernel drops the
SYNs, and each client retries on TCP back-off (1, 3, 7 ... s): a restore test stalls or times out at random,
and Flink logs nothing at WARN. Both servers set an explicit backlog (4096); here each gets a burst of
connections and none may wait for a retransmission.

Servers: tests/restore's probe function server (ProbeServer) and the demo's greeter (GreeterServer).
"""
import json
import os
import re
import select
import socket
import subprocess
import time

from conftest import ROOT

RESTORE = ROOT / "tests" / "restore" / "restore.sh"
DEMO_FUNCTIONS = ROOT / "demo" / "functions"
# More than the old backlog (64) and the JDK default (50) many times over, and well under somaxconn.
BURST = 1500
# A dropped SYN is retransmitted after 1 s: a connection that took longer waited for one.
RETRANSMIT_SECONDS = 1.0


def connect_burst(port, n=BURST):
    """Starts n non-blocking connects to 127.0.0.1:port at once; returns each one's seconds to connect."""
    socks, started, took = {}, {}, {}
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            started[s.fileno()] = time.monotonic()
            err = s.connect_ex(("127.0.0.1", port))
            assert err in (0, 115), os.strerror(err)  # 115: EINPROGRESS
            socks[s.fileno()] = s
        poller = select.poll()
        for fd in socks:
            poller.register(fd, select.POLLOUT)
        deadline = time.monotonic() + 10
        while len(took) < n and time.monotonic() < deadline:
            for fd, _ in poller.poll(100):
                err = socks[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                assert err == 0, f"a connection failed: {os.strerror(err)}"
                took[fd] = time.monotonic() - started[fd]
                poller.unregister(fd)
        return sorted(took.values()) + [float("inf")] * (n - len(took))
    finally:
        for s in socks.values():
            s.close()


def assert_no_connection_waited(port, what):
    times = connect_burst(port)
    slow = [t for t in times if t >= RETRANSMIT_SECONDS]
    assert not slow, (f"{len(slow)} of {len(times)} connections to the {what} waited for a SYN retransmission "
                      f"(slowest {max(times):.2f} s): its listen backlog is too small")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_probe_function_server_accepts_a_burst_of_connections(tmp_path):
    build = subprocess.run(["bash", str(RESTORE), "build"], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"states": [{"function": "restore/probe", "state": "seen", "kind": "remote",
                                            "type": "io.statefun.types/int", "ttl": None}]}))
    port_file = tmp_path / "port"
    log = open(tmp_path / "functions.log", "w+")
    proc = subprocess.Popen(["bash", str(RESTORE), "probe-functions", "--plan", str(plan), "--port-file",
                             str(port_file)], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "functions.log").read_text()
            time.sleep(0.1)
        assert_no_connection_waited(int(port_file.read_text()), "probe function server")
    finally:
        stop(proc)
        log.close()


def test_the_demo_greeter_accepts_a_burst_of_connections(tmp_path):
    target = DEMO_FUNCTIONS / "target"
    if not (target / "lib").is_dir() or any(p.stat().st_mtime > (target / "classes").stat().st_mtime
                                            for p in (DEMO_FUNCTIONS / "src").rglob("*.java")):
        build = subprocess.run(["mvn", "-q", "-B", "package", "-DskipTests"], cwd=DEMO_FUNCTIONS,
                               capture_output=True, text=True, timeout=1800)
        assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-5000:]
        os.utime(target / "classes")
    out = open(tmp_path / "greeter.log", "w+")
    proc = subprocess.Popen(["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                             f"{target / 'classes'}:{target / 'lib'}/*", "demo.GreeterServer"],
                            env={**os.environ, "PORT": "0", "BIND": "127.0.0.1"}, stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "greeter.log").read_text()
            m = re.search(r"serving demo/greeter on http://127\.0\.0\.1:(\d+)/", (tmp_path / "greeter.log").read_text())
            port = int(m.group(1)) if m else None
            time.sleep(0.1)
        assert_no_connection_waited(port, "demo greeter")
    finally:
        stop(proc)
        out.close()
