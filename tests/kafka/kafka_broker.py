"""A real single-node Kafka broker for the integration tests (broker.sh), and the test data tools.

KafkaBroker.start() runs tests/kafka/broker.sh on free local ports in a scratch directory and waits
until the broker answers; stop() ends it (broker.sh also stops it by itself if this process dies).
Test data goes in through sfb-kafka-tool (built with the project: tests/kafka/kafka_tool.cc).
"""
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import time

HERE = pathlib.Path(__file__).resolve().parent
BROKER_SH = HERE / "broker.sh"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerExited(RuntimeError):
    pass


class KafkaBroker:
    def __init__(self, workdir, tool):
        self.workdir = pathlib.Path(workdir)
        self.tool = pathlib.Path(tool)
        self.port, self.sasl_port, self.controller_port = free_port(), free_port(), free_port()
        self.password = "pw-" + secrets.token_hex(12)
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.sasl_bootstrap = f"127.0.0.1:{self.sasl_port}"
        self.proc = None
        self.start_seconds = None

    def start(self, timeout=180, attempts=3):
        if not self.tool.exists():
            raise RuntimeError(f"{self.tool} is missing: build the project first (scripts/build.sh)")
        started = time.monotonic()
        # Resolve the jars first, so a slow first download does not count against the start timeout.
        resolved = subprocess.run(["bash", str(BROKER_SH), "classpath"], capture_output=True, text=True, timeout=900)
        if resolved.returncode != 0:
            raise RuntimeError(f"cannot resolve the Kafka jars:\n{resolved.stderr[-4000:]}")
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                break
            except BrokerExited:
                # A free port can be taken by another process before the broker binds it: new ports.
                if attempt + 1 == attempts:
                    raise
                self.port, self.sasl_port, self.controller_port = free_port(), free_port(), free_port()
                self.bootstrap = f"127.0.0.1:{self.port}"
                self.sasl_bootstrap = f"127.0.0.1:{self.sasl_port}"
                shutil.rmtree(self.workdir, ignore_errors=True)
        self.start_seconds = time.monotonic() - started
        return self

    def _start_once(self, timeout):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.workdir / "broker.sh.log", "w")
        self.proc = subprocess.Popen(
            ["bash", str(BROKER_SH), "run", str(self.workdir), str(self.port), str(self.sasl_port),
             str(self.controller_port), self.password, str(os.getpid())],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                logs = self.logs()
                self.proc = None
                self.log.close()
                raise BrokerExited(f"the Kafka broker exited at start:\n{logs}")
            probe = subprocess.run([str(self.tool), "metadata", "--brokers", self.bootstrap, "--timeout-ms", "1000"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Kafka broker did not answer within {timeout} s:\n{self.logs()}")
            time.sleep(0.3)

    def logs(self):
        out = []
        for name in ("broker.sh.log", "format.log", "broker.out", "broker.log"):
            p = self.workdir / name
            if p.exists():
                out.append(f"--- {name}\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # broker.sh waits for its JVM; make sure nothing of the session is left either way.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        self.log.close()
        shutil.rmtree(self.workdir / "data", ignore_errors=True)

    # --- Test data -----------------------------------------------------------------------------------

    def _tool(self, *args, input=None, timeout=300):
        proc = subprocess.run([str(self.tool), *map(str, args)], input=input, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"sfb-kafka-tool {' '.join(map(str, args))} failed:\n{proc.stderr}")
        return proc.stdout

    def create_topic(self, name, partitions=1, **config):
        args = ["create-topic", "--brokers", self.bootstrap, "--topic", name, "--partitions", partitions]
        for k, v in config.items():
            args += ["--config", f"{k.replace('_', '.')}={v}"]
        self._tool(*args)
        return name

    def produce(self, messages, transaction=None):
        """messages: dicts with topic, partition, key / key_b64, value / value_b64 (None: tombstone),
        headers [[name, value]], timestamp."""
        lines = "".join(json.dumps(m) + "\n" for m in messages)
        args = ["produce", "--brokers", self.bootstrap]
        if transaction:
            args += ["--transaction", transaction]
        return json.loads(self._tool(*args, input=lines))

    def generate(self, topic, count, keys=1000, pad=0):
        return json.loads(self._tool("generate", "--brokers", self.bootstrap, "--topic", topic, "--count", count,
                                     "--keys", keys, "--pad", pad, timeout=1800))

    def offsets(self, topic):
        """The end offset (high watermark) of every partition: {"0": n, ...}."""
        return json.loads(self._tool("offsets", "--brokers", self.bootstrap, "--topic", topic))

    def committed(self, group, topic):
        """The group's committed offset of every partition: {"0": n, ...}; -1001 when there is none."""
        return json.loads(self._tool("committed", "--brokers", self.bootstrap, "--group", group, "--topic", topic))
