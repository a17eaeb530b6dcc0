"""A real schema registry for the integration tests (registry.sh: Apicurio Registry 2.4.2.Final, whose
Confluent-compatible API is under /apis/ccompat/v7), and the stand-in for basic auth.

SchemaRegistry.start() runs tests/registry/registry.sh on a free local port and waits until the registry
answers; stop() ends it (registry.sh also stops it by itself if this process dies).

BasicAuthStandIn is NOT a registry: Apicurio offers basic auth only with an identity server, so the
tests that check that credentials are sent (and never printed) use this small local HTTP server, which
answers the two requests statefun-bootstrap makes (GET /subjects, GET /schemas/ids/N) with schemas
copied from the real registry, and only when the Authorization header carries the expected credentials.
"""
import base64
import http.server
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REGISTRY_SH = HERE / "registry.sh"
CCOMPAT = "/apis/ccompat/v7"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SchemaRegistry:
    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.port = None
        self.url = None
        self.proc = None
        self.start_seconds = None

    def start(self, timeout=240, attempts=3):
        started = time.monotonic()
        # Build first (the first build downloads ~220 MB), so that does not count against the start timeout.
        built = subprocess.run(["bash", str(REGISTRY_SH), "build"], capture_output=True, text=True, timeout=1800)
        if built.returncode != 0:
            raise RuntimeError(f"cannot build the schema registry:\n{built.stderr[-4000:]}")
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                break
            except ChildProcessError:  # the port was taken before the registry bound it: another port
                if attempt + 1 == attempts:
                    raise
        self.start_seconds = time.monotonic() - started
        return self

    def _start_once(self, timeout):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{CCOMPAT}"
        self.log = open(self.workdir / "registry.log", "w")
        self.proc = subprocess.Popen(["bash", str(REGISTRY_SH), "run", str(self.port), str(os.getpid())],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                self.log.close()
                raise ChildProcessError(f"the schema registry exited at start:\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.url + "/subjects", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the schema registry did not answer within {timeout} s:\n{self.logs()}")
            time.sleep(0.3)

    def logs(self):
        p = self.workdir / "registry.log"
        return p.read_text(errors="replace")[-6000:] if p.exists() else ""

    def schema(self, schema_id):
        """The registry's answer for GET /schemas/ids/N (a dict)."""
        with urllib.request.urlopen(f"{self.url}/schemas/ids/{schema_id}", timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        self.log.close()


class BasicAuthStandIn:
    """A stand-in, not a registry: serves `schemas` ({id: answer dict}) under /apis/ccompat/v7 to requests
    whose Authorization header is Basic base64(user_info); 401 to any other. Records each request's
    path and whether it was let in."""

    def __init__(self, user_info, schemas):
        self.expected = "Basic " + base64.b64encode(user_info.encode()).decode()
        self.schemas = schemas
        self.requests = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                allowed = self.headers.get("Authorization") == stand_in.expected
                stand_in.requests.append((self.path, allowed))
                if not allowed:
                    return self._reply(401, {"error_code": 401, "message": "Unauthorized"})
                if self.path == CCOMPAT + "/subjects":
                    return self._reply(200, [])
                prefix = CCOMPAT + "/schemas/ids/"
                if self.path.startswith(prefix) and int(self.path[len(prefix):]) in stand_in.schemas:
                    return self._reply(200, stand_in.schemas[int(self.path[len(prefix):])])
                return self._reply(404, {"error_code": 40403, "message": "Schema not found"})

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{CCOMPAT}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
