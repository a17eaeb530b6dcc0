"""The demo: docker-compose.yml (checked offline: no Docker engine here) and scripts/demo-local.sh (run).

What can be checked without Docker:
* the compose file against the Compose Specification's JSON schema (demo/schema, what `docker compose` reads);
* the compose file through Docker's own loader, `docker stack config` (the docker client needs no engine for
  it; its legacy v3 schema wants depends_on as a list, so conditions are flattened for that check only);
* services, images, commands, mounts and ordering, and that they name the files scripts/demo-local.sh uses;
* the seed transform the compose services run (sed) on the real seed files;
* the greeter's ValueSpecs against the job spec, the job spec against its file-source twin.
What cannot: pulling and running the images only Docker Hub has (postgres:16, apache/kafka:3.7.1,
apache/flink-statefun:3.3.0), and the containers' networking. Both Dockerfiles of ours are built and their
images run in test_containers.py (podman).

scripts/demo-local.sh runs the same story on this machine and is run here end to end.
"""
import copy
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT
from test_restore import run_bounded

yaml = pytest.importorskip("yaml")

COMPOSE = ROOT / "docker-compose.yml"
LOCAL = ROOT / "scripts" / "demo-local.sh"
SEED = ROOT / "demo" / "seed"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def local_vars():
    """NAME=value assignments at the top of scripts/demo-local.sh."""
    return dict(re.findall(r"^([A-Z_]+)=([^\s$]+)$", LOCAL.read_text(), re.M))


def unescape(command):
    """A compose command as the container gets it ($$ is a literal $)."""
    return command.replace("$$", "$")


def test_compose_file_matches_the_compose_specification(compose):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "demo" / "schema" / "compose-spec.json").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert errors == []
    # the check has teeth: a misspelt key is an error
    bad = copy.deepcopy(compose)
    bad["services"]["statefun"]["depend_on"] = ["bootstrap"]
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


def test_docker_loads_the_compose_file(compose, tmp_path):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    flat = copy.deepcopy(compose)
    for service in flat["services"].values():
        if isinstance(service.get("depends_on"), dict):
            service["depends_on"] = sorted(service["depends_on"])
    flat["version"] = "3.9"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(flat, sort_keys=False))
    proc = subprocess.run([docker, "stack", "config", "-c", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = yaml.safe_load(proc.stdout)
    assert set(loaded["services"]) == set(compose["services"])
    # interpolation: $$ reaches the container as $, nothing else is substituted
    assert "$bin/kafka-topics.sh" in loaded["services"]["kafka-seed"]["command"][0]
    assert "$$" not in json.dumps(loaded)


def test_compose_services_images_and_commands(compose):
    s = compose["services"]
    assert set(s) == {"postgres", "kafka", "kafka-seed", "bootstrap", "functions", "statefun", "statefun-worker",
                      "live-events"}
    assert s["statefun"]["image"] == s["statefun-worker"]["image"] == "apache/flink-statefun:3.3.0"
    assert s["kafka"]["image"] == s["kafka-seed"]["image"] == s["live-events"]["image"] == "apache/kafka:3.7.1"
    assert s["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, single node
    assert s["postgres"]["image"].startswith("postgres:")
    assert s["bootstrap"]["build"] == "."
    assert s["functions"]["build"] == "./demo/functions"
    assert (ROOT / "demo" / "functions" / "Dockerfile").exists()

    # bootstrap: demo/bootstrap.sh JOB SAVEPOINT HANDOFF; statefun starts from that savepoint with the handoff
    assert s["bootstrap"]["entrypoint"] == ["/bin/sh", "/demo/bootstrap.sh"]
    job, savepoint, handoff = s["bootstrap"]["command"]
    assert job == "/demo/job.yaml" and "./demo:/demo:ro" in s["bootstrap"]["volumes"]
    assert s["statefun"]["command"][:2] == ["-s", f"file://{savepoint}"]
    assert s["statefun"]["environment"]["ROLE"] == "master"
    assert s["statefun-worker"]["environment"] == {"ROLE": "worker", "MASTER_HOST": "statefun"}
    assert s["statefun"]["environment"]["MASTER_HOST"] == "statefun"
    savepoint_volume = next(v.split(":")[0] for v in s["bootstrap"]["volumes"] if v.split(":")[1] == "/savepoints")
    handoff_volume = next(v.split(":")[0] for v in s["bootstrap"]["volumes"] if v.split(":")[1] == handoff)
    for name in ("statefun", "statefun-worker"):  # TaskManagers load the modules and read the state too
        volumes = s[name]["volumes"]
        assert "./demo/module.yaml:/opt/statefun/modules/demo/module.yaml:ro" in volumes
        assert f"{handoff_volume}:/opt/statefun/modules/handoff:ro" in volumes
        assert f"{savepoint_volume}:/savepoints:ro" in volumes
    assert set(compose["volumes"]) == {savepoint_volume, handoff_volume}

    # order: history seeded -> bootstrap completed -> application
    assert s["bootstrap"]["depends_on"]["kafka-seed"]["condition"] == "service_completed_successfully"
    assert s["bootstrap"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert s["statefun"]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"
    assert s["statefun-worker"]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"
    assert s["kafka-seed"]["depends_on"]["kafka"]["condition"] == "service_healthy"

    # every bind mount names a file of this repository
    for name, service in s.items():
        for v in service.get("volumes", []):
            source = v.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_compose_and_local_script_tell_the_same_story(compose):
    """The same job spec, module, bootstrap script, seed files and topic, in both."""
    v = local_vars()
    text = COMPOSE.read_text()
    s = compose["services"]
    assert v["JOB"] == "demo/job.yaml" and s["bootstrap"]["command"][0] == "/" + v["JOB"]
    assert v["BOOTSTRAP"] == "demo/bootstrap.sh" and s["bootstrap"]["entrypoint"][1] == "/" + v["BOOTSTRAP"]
    assert f"./{v['MODULE']}:/opt/statefun/modules/demo/module.yaml:ro" in s["statefun"]["volumes"]
    assert f"./{v['USERS_SQL']}:/docker-entrypoint-initdb.d/10-users.sql:ro" in s["postgres"]["volumes"]
    assert f"./{v['USERS_CSV']}:/seed/users.csv:ro" in s["postgres"]["volumes"]
    seed_cmd, live_cmd = s["kafka-seed"]["command"][0], s["live-events"]["command"][0]
    assert f"/seed/{pathlib.Path(v['EVENTS']).name}" in seed_cmd
    assert f"/seed/{pathlib.Path(v['LIVE_EVENTS']).name}" in live_cmd
    assert f"--topic {v['TOPIC']}" in seed_cmd and f"--topic {v['TOPIC']}" in live_cmd
    assert "--partitions 2" in seed_cmd and "--partitions 2" in LOCAL.read_text()
    for f in ("JOB", "JOB_FILES", "MODULE", "BOOTSTRAP", "USERS_CSV", "USERS_SQL", "EVENTS", "LIVE_EVENTS", "EXPECTED"):
        assert (ROOT / v[f]).exists(), v[f]
    # the job reads the topic the compose file seeds, with the compose services' defaults
    job = yaml.safe_load((ROOT / v["JOB"]).read_text())
    assert job["sources"]["events"]["kafka"]["topics"] == [v["TOPIC"]]
    assert "kafka:9092" in job["sources"]["events"]["kafka"]["brokers"]
    assert "postgres" in job["sources"]["users"]["postgres"]["host"]
    assert s["bootstrap"]["environment"]["KAFKA_BROKERS"] == "kafka:9092"
    # the application's function endpoint is the functions service
    module = yaml.safe_load((ROOT / v["MODULE"]).read_text())
    port = s["functions"]["environment"]["PORT"]
    assert module["spec"]["urlPathTemplate"] == f"http://functions:{port}/{{function.name}}"
    assert "http://functions:8000/" in LOCAL.read_text()  # what demo-local.sh rewrites to 127.0.0.1
    assert "${" not in text  # nothing for compose to interpolate from the host environment


def test_seed_transform_keys_each_event_by_user(compose):
    """The sed both Kafka services run turns each JSON line into user|line for the console producer."""
    for service, name in (("kafka-seed", "events.jsonl"), ("live-events", "live-events.jsonl")):
        command = unescape(compose["services"][service]["command"][0])
        expr = re.search(r"sed -E '([^']+)' /seed/" + re.escape(name), command).group(1)
        out = subprocess.run(["sed", "-E", expr, str(SEED / name)], capture_output=True, text=True, check=True).stdout
        lines = (SEED / name).read_text().splitlines()
        assert out.splitlines() == [json.loads(l)["user"] + "|" + l for l in lines]


def test_job_spec_module_and_greeter_agree():
    job = yaml.safe_load((ROOT / "demo" / "job.yaml").read_text())
    files = yaml.safe_load((ROOT / "demo" / "job-files.yaml").read_text())
    assert files["functions"] == job["functions"]
    assert files["savepoint"]["max_parallelism"] == job["savepoint"]["max_parallelism"] == 128
    assert [(r["from"], r["to"], r.get("set"), sorted(r.get("merge", {}))) for r in files["routes"]] == \
           [(r["from"], r["to"], r.get("set"), sorted(r.get("merge", {}))) for r in job["routes"]]
    ingress = job["sources"]["events"]["kafka"]["ingress"]
    assert ingress["targets"] == ["demo/greeter"] and ingress["value_type"] == "demo/Event"

    # the greeter declares exactly the job spec's states: name, type name, TTL presence
    java = (ROOT / "demo" / "functions" / "src" / "main" / "java" / "demo" / "GreeterServer.java").read_text()
    declared = {}
    for name, chain in re.findall(r'ValueSpec\.named\("(\w+)"\)((?:\s*\.\w+\([^;]*?\))+);', java):
        if "withIntType" in chain:
            type_name = "io.statefun.types/int"
        elif "withLongType" in chain:
            type_name = "io.statefun.types/long"
        else:
            type_name = re.search(r'typeNameFromString\("([^"]+)"\)', chain).group(1)
        declared[name] = (type_name, "thatExpire" in chain)
    states = job["functions"]["demo/greeter"]["states"]
    assert declared == {n: (st["type"], "expire_after_write" in st or "expire_after_invoke" in st)
                        for n, st in states.items()}
    assert 'typeNameFromString("demo/Event")' in java and 'typeNameFromString("demo/greeter")' in java
    assert "--messages-type demo/Event" in LOCAL.read_text()


def test_dockerfile_builds_the_cli_on_bookworm():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM debian:bookworm AS build$", text, re.M)
    assert re.search(r"^FROM debian:bookworm-slim$", text, re.M)
    assert "--target statefun-bootstrap" in text and 'ENTRYPOINT ["statefun-bootstrap"]' in text
    # every build tool and -dev package the project installs for itself is in the image too
    deps = (ROOT / "scripts" / "install-deps.sh").read_text()
    block = re.search(r"PACKAGES=\((.*?)\)", deps, re.S).group(1)
    tools = {"cmake", "ninja-build", "g++", "pkg-config", "protobuf-compiler"}
    wanted = {p for p in block.split() if p.endswith("-dev") or p in tools}
    assert {"cmake", "librocksdb-dev"} <= wanted
    installed = set(re.search(r"apt-get install[^\n]*\\\n(.*?)&&", text, re.S).group(1).replace("\\", " ").split())
    assert wanted <= installed, wanted - installed
    subprocess.run(["sh", "-n", str(ROOT / "demo" / "bootstrap.sh")], check=True)


# The servers demo-local.sh starts itself unless the caller names them (the tests below decide which).
SERVER_ENV = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "KAFKA_BROKERS")


def run_local_demo(tmp_path, *args, **extra_env):
    """scripts/demo-local.sh ARGS --keep, with its work directory under tmp_path; returns (output, work)."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
    env.update(SFB_BUILD_DIR=str(BUILD), TMPDIR=str(tmp_path), **extra_env)
    proc = run_bounded(["bash", str(LOCAL), *args, "--keep"], timeout=900, cwd=ROOT, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert "demo-local: OK" in out
    work = pathlib.Path(re.search(r"^demo-local: work directory kept: (\S+)$", out, re.M).group(1))
    assert work.parent == tmp_path
    return out, work


def greetings(out):
    return [l for l in out.splitlines() if l.startswith("greeter: Hello")]


def assert_greeted_as_expected(out):
    """What the remote function saw, as the greeter logged it: one greeting per live event, and each line of
    demo/seed/expected-greetings.txt in one of them (the greeter's lines, not the script's own messages)."""
    assert "statefun application running: job" in out and "restored from" in out
    seen = greetings(out)
    live = [l for l in (SEED / "live-events.jsonl").read_text().splitlines() if l.strip()]
    assert len(seen) == len(live), "\n".join(seen)
    expected = [l for l in (SEED / "expected-greetings.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert len(expected) >= 4
    for line in expected:
        assert any(line in g for g in seen), f"no greeting contains {line!r}; the greeter said:\n" + "\n".join(seen)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_local_runs_the_story(tmp_path):
    """The default (auto) mode, with no server named: PostgreSQL from tests/postgres/cluster.sh and a KRaft
    broker from tests/kafka/broker.sh, both started by the script and stopped when it ends."""
    out, work = run_local_demo(tmp_path)
    assert "demo-local: mode services" in out
    pg_port = int(re.search(r"loaded into PostgreSQL 127\.0\.0\.1:(\d+)$", out, re.M).group(1))
    brokers = re.search(r"^kafka: a single-node KRaft broker \(tests/kafka/broker\.sh\) on (127\.0\.0\.1:\d+)$",
                        out, re.M).group(1)
    # history from both servers: the users table and the topic (15 events) ...
    source_users = json.loads(re.search(r"^  source users +(\{.*\})$", out, re.M).group(1))
    source_events = json.loads(re.search(r"^  source events +(\{.*\})$", out, re.M).group(1))
    assert source_users["kind"] == "postgres" and source_users["rows"] == 6
    assert source_users["server"] == f"127.0.0.1:{pg_port}"
    assert source_events["connector"] == "kafka" and source_events["brokers"] == brokers
    events = [l for l in (SEED / "events.jsonl").read_text().splitlines() if l.strip()]
    assert source_events["messages_read"] == len(events)
    # ... the application continues the topic at the handoff's offsets, so the live events came through Kafka
    handoff = (work / "handoff" / "module.yaml").read_text()
    assert "specific-offsets" in handoff and brokers in handoff
    assert_greeted_as_expected(out)
    produced = [json.loads(l) for l in out.splitlines() if l.startswith('{"') and '"produced"' in l]
    live = [l for l in (SEED / "live-events.jsonl").read_text().splitlines() if l.strip()]
    assert [p["produced"] for p in produced] == [len(events), len(live)]
    assert "live events: demo/seed/live-events.jsonl to Kafka topic events" in out
    # everything the script started is gone
    broker_jvm = int((work / "kafka" / "broker.pid").read_text())
    assert not process_alive(broker_jvm)
    assert not port_open(int(brokers.split(":")[1]))
    assert not port_open(pg_port)


def test_demo_local_files_mode(tmp_path):
    """--mode files: the same story from the seed files, no servers; the live events through the ingress."""
    out, work = run_local_demo(tmp_path, "--mode", "files")
    assert "demo-local: mode files" in out
    assert '"kind":"postgres"' not in out and '"connector":"kafka"' not in out
    assert "bootstrap: no Kafka source" in out and not (work / "kafka").exists()
    assert_greeted_as_expected(out)


def test_demo_local_uses_the_servers_the_caller_names(tmp_path):
    """KAFKA_BROKERS set: the script uses that broker (and leaves it running) instead of starting one."""
    sys.path.insert(0, str(ROOT / "tests" / "kafka"))
    from kafka_broker import KafkaBroker

    broker = KafkaBroker(tmp_path / "broker", BUILD / "sfb-kafka-tool")
    broker.start()
    try:
        out, work = run_local_demo(tmp_path, "--mode", "services", KAFKA_BROKERS=broker.bootstrap)
        assert "demo-local: mode services" in out
        assert "kafka: a single-node KRaft broker" not in out and not (work / "kafka").exists()
        assert json.loads(re.search(r"^  source events +(\{.*\})$", out, re.M).group(1))["brokers"] == broker.bootstrap
        assert_greeted_as_expected(out)
        assert broker.proc.poll() is None
        events = [l for l in (SEED / "events.jsonl").read_text().splitlines() if l.strip()]
        live = [l for l in (SEED / "live-events.jsonl").read_text().splitlines() if l.strip()]
        assert sum(broker.offsets("events").values()) == len(events) + len(live)
    finally:
        broker.stop()
