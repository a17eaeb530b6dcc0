"""Nothing half-written: a run killed at any moment leaves either no savepoint or a complete one (a file
job, a PostgreSQL job and a Kafka job, killed while connecting, reading, building and committing), a
full disk (here: a file-size limit) fails with a message naming the path, and leftovers of a crashed run
are cleaned up by the next one. Secrets (PostgreSQL passwords, Kafka client properties) never appear in
anything the tool prints or writes, whether the run succeeds or fails."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

import cases
from comparison import assert_entries_equal
from conftest import CLI, dump, plan, run_cli
# The servers' fixtures, reused as they are (pg: a throwaway cluster per module; kafka: the session's
# broker, from conftest.py).
from test_postgres import ENV as PG_ENV
from test_postgres import connection, pg, wait_for  # noqa: F401  (pg: fixture)

KILL_DELAYS = [0.02, 0.1, 0.25, 0.4, 0.6, 0.8, 1.0, 1.3, 1.7, 2.5]


@pytest.fixture(scope="module")
def counter_job(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    job, _, expected = cases.make_counter(base / "data", 128, 2, n_ids=60000, rounds=4, split_size="256KB")
    return job, expected


def test_sigkill_at_any_point_leaves_nothing_or_a_complete_savepoint(counter_job, tmp_path, flink_judge):
    job, expected = counter_job
    outcomes = {"absent": 0, "complete": 0}
    completed = None
    for i, delay in enumerate(KILL_DELAYS):
        out = tmp_path / f"run{i}" / "sp"
        proc = subprocess.Popen([str(CLI), "run", str(job), "--output", str(out), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():
            info = json.loads(run_cli("inspect", out, "--json").stdout)
            assert info["entries"] == len(expected), f"kill after {delay}s left an incomplete savepoint"
            outcomes["complete"] += 1
            completed = out
        else:
            outcomes["absent"] += 1
            # The next run removes what the killed one left (and says so) and writes a complete savepoint.
            # A kill before the run made its staging directory leaves nothing, and nothing is said.
            left = list(out.parent.iterdir()) if out.parent.exists() else []
            rerun = run_cli("run", job, "--output", out, "--quiet")
            assert ("left by an earlier run" in rerun.stderr) == bool(left), (left, rerun.stderr)
            assert sorted(p.name for p in out.parent.iterdir()) == ["sp"]
            completed = out
    assert outcomes["absent"] > 0, f"no kill landed mid-run ({outcomes}); the test would prove nothing"
    print(f"kill outcomes: {outcomes}")
    flink_judge.add("after_sigkill", completed, plan(job))
    assert_entries_equal(expected, flink_judge.read("after_sigkill"), label="Flink read after a SIGKILL series")


def test_file_size_limit_fails_clearly_and_leaves_nothing(counter_job, tmp_path):
    job, _ = counter_job
    out = tmp_path / "sp"
    proc = subprocess.run(["bash", "-c", f'ulimit -f 512; exec "{CLI}" run "{job}" --output "{out}" --quiet'],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "File too large" in proc.stderr, proc.stderr
    # How much space it needed: the spill store's use per record, or how far the keyed-state file got
    # (which file meets the limit first depends on how the splits' flushes fell).
    assert re.search(r"the spill store held \d+ MB for [1-9]\d* routed records, about [1-9]\d* bytes each",
                     proc.stderr) or re.search(r"keyed-state-functions-\d: File too large after \d+ bytes of this file",
                                               proc.stderr), proc.stderr
    assert "fix:" in proc.stderr and "no savepoint was written" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_spill_directory_can_be_elsewhere(counter_job, tmp_path):
    job, expected = counter_job
    spill = tmp_path / "spill"
    spill.mkdir()
    out = tmp_path / "sp"
    run_cli("run", job, "--output", out, "--tmp-dir", spill, "--quiet")
    assert list(spill.iterdir()) == [], "spill files left behind"
    assert len(dump(out)) == len(expected)


def test_sigkill_leaves_no_spill_directory_in_tmp_dir_after_the_next_run(counter_job, tmp_path):
    """--tmp-dir puts the spill store outside the staging directory, as sfb-spill-<pid>-<n>: a run that is
    killed cannot remove it, so the next run must (as it removes a killed run's staging directory)."""
    job, expected = counter_job
    spill = tmp_path / "spill"
    spill.mkdir()
    out = tmp_path / "out" / "sp"
    proc = subprocess.Popen([str(CLI), "run", str(job), "--output", str(out), "--tmp-dir", str(spill), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: list(spill.glob("sfb-spill-*/store/*")), what="the run to spill")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = sorted(p.name for p in spill.iterdir())
    assert left == [p.name for p in spill.glob(f"sfb-spill-{proc.pid}-*")] and len(left) == 1, left
    assert not out.exists(), "the kill came too late"
    rerun = run_cli("run", job, "--output", out, "--tmp-dir", spill, "--quiet")
    assert "left by an earlier run" in rerun.stderr  # the staging directory and the spill are removed
    assert sorted(p.name for p in out.parent.iterdir()) == ["sp"] and len(dump(out)) == len(expected)
    still = sorted(p.name for p in spill.iterdir())
    assert still == [], f"spill left behind: {still}"


# --- SIGKILL during PostgreSQL and Kafka jobs ------------------------------------------------------------

# When to kill, as fractions of the wall time of an undisturbed run of the same job: connecting and
# taking the snapshot / capturing the end offsets, reading (progress lines show it), sorting and
# writing the keyed-state files, and around the rename into place.
# Denser where reading ends: building from memory is a short phase, and a kill must land in it.
KILL_FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.55, 0.7, 0.78, 0.85, 0.9, 0.95, 1.0, 1.1]
STAGING_PREFIX = ".sp.inprogress-"


class KilledRun:
    """`run JOB --output OUT` in the background, stderr collected line by line as it comes."""

    def __init__(self, job, out, env=None):
        self.proc = subprocess.Popen([str(CLI), "run", str(job), "--output", str(out)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stderr), daemon=True)
        self.reader.start()

    def kill_after(self, seconds):
        time.sleep(seconds)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=30)
        return "".join(self.lines)


def timed_run(job, out, env=None):
    start = time.monotonic()
    proc = run_cli("run", job, "--output", out, env=env)
    return time.monotonic() - start, proc


def flink_files(sp):
    """The files Flink reads, byte for byte (the provenance file and the ingress snippet say when the
    run started, so they differ between runs)."""
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(sp).iterdir())
            if p.name != "statefun-bootstrap.json" and p.suffix != ".yaml"}


def next_fraction_after_reading(kills, total):
    """Where to kill next so that reading is over and the savepoint not yet complete: between the latest
    kill that still found reading under way and the earliest one that found the savepoint complete."""
    reading = [k["fraction"] for k in kills if k["progress"] is None or k["progress"] < total]
    complete = [k["fraction"] for k in kills if k["outcome"] == "complete"]
    low = max(reading, default=0.5)
    high = min((f for f in complete if f > low), default=low * 1.5)
    return round((low + high) / 2, 4)


def sigkill_series(job, tmp_path, reference, entries, progress, total, env=None, until=None, extra_kills=6):
    """Kills `run` at KILL_FRACTIONS of the reference run's wall time, every run writing to the same
    path. After each kill the path holds nothing or a complete savepoint (the same bytes as the
    reference run; moved aside for the Flink read, so the next run finds the path free). With `until` (a
    test on the kill records), up to `extra_kills` more kills land after reading, aimed between the
    kills seen so far, until the test holds: on a loaded machine the window between the end of reading
    and the commit moves. Then a follow-up run to the path must remove what the killed runs left and
    write the savepoint. Returns the kill records, the savepoints kills left complete, and the follow-up
    run's savepoint."""
    reference_sp, seconds = reference
    reference_bytes = flink_files(reference_sp)
    out = tmp_path / "series" / "sp"
    aside = tmp_path / "complete"
    aside.mkdir()
    kills, completed, cleaned = [], [], []

    def fractions():
        yield from KILL_FRACTIONS
        for _ in range(extra_kills if until else 0):
            if until(kills):
                return
            yield next_fraction_after_reading(kills, total)

    for i, fraction in enumerate(fractions()):
        stale_before = sorted(p.name for p in out.parent.glob(STAGING_PREFIX + "*")) if out.parent.exists() else []
        run = KilledRun(job, out, env)
        err = run.kill_after(fraction * seconds)
        counts = [int(m.group(1).replace(",", "")) for m in map(progress.match, err.splitlines()) if m]
        # Reading was under way: a progress line came, and the last one is well short of the end. Half
        # the rows take several progress intervals even at full speed (a CI run saw the last 20% read,
        # built and committed within one 50 ms interval, so 80% was not "well short").
        mid_read = bool(counts) and counts[-1] <= 0.5 * total
        cleaned += re.findall(r"note: removed (\S+), left by an earlier run \(pid \d+\) that did not finish", err)
        record = dict(fraction=fraction, delay=round(fraction * seconds, 3), progress=counts[-1] if counts else None,
                      mid_read=mid_read, stale_before=stale_before)
        if out.exists():
            info = json.loads(run_cli("inspect", out, "--json").stdout)
            assert info["entries"] == entries, f"kill {record} left an incomplete savepoint: {info}"
            assert flink_files(out) == reference_bytes, f"kill {record} left a savepoint that differs from an " \
                                                        "undisturbed run's"
            assert not mid_read, f"kill {record} during reading left a savepoint"
            record["outcome"] = "complete"
            completed.append(out.rename(aside / f"kill{i}"))
        else:
            record["outcome"] = "absent"
        kills.append(record)
    print("kills:", *kills, sep="\n  ")

    # A follow-up run to the same path removes what the killed runs left and writes the savepoint.
    stale = sorted(p.name for p in out.parent.glob(STAGING_PREFIX + "*"))
    proc = run_cli("run", job, "--output", out, env=env)
    for name in stale:
        assert f"note: removed {out.parent / name}, left by an earlier run" in proc.stderr, (name, proc.stderr)
    cleaned += [str(out.parent / name) for name in stale]
    assert sorted(p.name for p in out.parent.iterdir()) == ["sp"], "leftovers after the follow-up run"
    assert json.loads(run_cli("inspect", out, "--json").stdout)["entries"] == entries
    assert flink_files(out) == reference_bytes

    outcomes = [k["outcome"] for k in kills]
    assert "absent" in outcomes, f"no kill landed before the savepoint was complete: {kills}"
    assert any(k["mid_read"] and k["outcome"] == "absent" for k in kills), \
        f"no kill landed while records were read (use more data): {kills}"
    assert cleaned, f"no run found a staging directory of a killed run to remove: {kills}"
    return kills, completed, out


def judge_series(flink_judge, name, job_plan, completed, final, expected):
    """One harness run reads the follow-up run's savepoint and every one a kill left complete."""
    to_read = [("final", final)] + [(p.name, p) for p in completed]
    for label, sp in to_read:
        flink_judge.add(f"{name}_{label}", sp, job_plan)
    for label, _ in to_read:
        assert_entries_equal(expected, flink_judge.read(f"{name}_{label}"), label=f"Flink read of {name} {label}")


PG_KILL_ROWS = 300000
PG_KILL_JOB = """savepoint: { path: series/sp, max_parallelism: 128, parallelism: 2 }
functions:
  pg/user:
    states:
      total: { type: io.statefun.types/long }
      n: { type: io.statefun.types/long }
      last_note: { type: io.statefun.types/string }
sources:
  rows:
    postgres: { %s, table: public.kill_rows, chunk_rows: 40000, workers: 2, progress: 50ms }
routes:
  - { from: rows, to: pg/user, id: "{user_id}", set: { last_note: "{note}" }, merge: { total: sum(amount), n: count } }
"""


def test_sigkill_during_a_postgres_job_leaves_nothing_or_a_complete_savepoint(pg, tmp_path, flink_judge):
    pg.psql("CREATE TABLE kill_rows AS SELECT g AS id, 'user-' || (g % 2000) AS user_id, (g * 7) % 1000 AS amount, "
            f"md5(g::text) AS note FROM generate_series(1, {PG_KILL_ROWS}) g; "
            "ALTER TABLE kill_rows ADD PRIMARY KEY (id); GRANT SELECT ON kill_rows TO sfb_reader; ANALYZE kill_rows")
    job = tmp_path / "job.yaml"
    job.write_text(PG_KILL_JOB % connection(pg))
    expected = []
    for user, total, n, last in pg.psql("SELECT user_id, sum(amount), count(*), (array_agg(note ORDER BY id DESC))[1] "
                                        "FROM kill_rows GROUP BY user_id"):
        expected += [dict(function="pg/user", state="total", id=user, value=int(total)),
                     dict(function="pg/user", state="n", id=user, value=int(n)),
                     dict(function="pg/user", state="last_note", id=user, value=last)]
    seconds, _ = timed_run(job, tmp_path / "reference", env=PG_ENV)
    assert_entries_equal(expected, dump_env(tmp_path / "reference", PG_ENV), label="undisturbed run")

    kills, completed, final = sigkill_series(
        job, tmp_path, (tmp_path / "reference", seconds), len(expected),
        re.compile(r"^source rows \(public\.kill_rows\): ([\d,]+) of"), PG_KILL_ROWS, env=PG_ENV)
    # The server has no session of the killed runs left (each noticed its client was gone).
    wait_for(lambda: pg.our_backends() == [], timeout=20, what="the killed runs' sessions to end")
    judge_series(flink_judge, "pg_sigkill", plan_env(job, PG_ENV), completed, final, expected)


KAFKA_KILL_MESSAGES = 300000


def test_sigkill_during_a_kafka_job_leaves_nothing_or_a_complete_savepoint(kafka, tmp_path, flink_judge):
    kafka.create_topic("kill-series", 4)
    kafka.generate("kill-series", KAFKA_KILL_MESSAGES, keys=2000)  # {"user": "user-<i % 2000>", "amount": i % 100}
    job = tmp_path / "job.yaml"
    # A small memory budget: this series kills runs while they spill and while they build from the spill
    # store (the file and PostgreSQL series kill runs that stay in memory). In memory, this job builds in
    # a tenth of a second, too short a window for the kills after reading to land in.
    job.write_text(f"""savepoint: {{ path: series/sp, max_parallelism: 128, parallelism: 2, memory: 8MB }}
functions:
  example/user:
    states: {{ total: {{ type: io.statefun.types/long }}, n: {{ type: io.statefun.types/long }} }}
sources:
  k: {{ kafka: {{ brokers: '{kafka.bootstrap}', topics: [kill-series], progress: 100ms }} }}
routes:
  - {{ from: k, to: example/user, merge: {{ total: "sum(value.amount)", n: count }} }}
""")
    totals, counts = {}, {}
    for i in range(KAFKA_KILL_MESSAGES):
        user = f"user-{i % 2000}"
        totals[user] = totals.get(user, 0) + i % 100
        counts[user] = counts.get(user, 0) + 1
    expected = [dict(function="example/user", state=s, id=u, value=v[u])
                for u in totals for s, v in (("total", totals), ("n", counts))]
    seconds, _ = timed_run(job, tmp_path / "reference")
    assert_entries_equal(expected, dump(tmp_path / "reference"), label="undisturbed run")

    def killed_while_building(kills):
        return any(k["progress"] == KAFKA_KILL_MESSAGES and k["outcome"] == "absent" for k in kills)

    kills, completed, final = sigkill_series(
        job, tmp_path, (tmp_path / "reference", seconds), len(expected),
        re.compile(r"^kafka k: topic kill-series ([\d,]+) messages"), KAFKA_KILL_MESSAGES,
        until=killed_while_building)
    assert killed_while_building(kills), f"no kill landed after reading, while the savepoint was built: {kills}"
    # The follow-up run read the whole captured range.
    assert json.loads((final / "statefun-bootstrap.json").read_text())["sources"][0]["provenance"][
        "messages_read"] == KAFKA_KILL_MESSAGES
    judge_series(flink_judge, "kafka_sigkill", plan(job), completed, final, expected)


def dump_env(savepoint, env):
    return [json.loads(line) for line in run_cli("dump", savepoint, env=env).stdout.splitlines() if line.strip()]


def plan_env(job, env):
    return json.loads(run_cli("validate", job, "--json", env=env).stdout)


# --- Secrets never appear in any output ---------------------------------------------------------------------

SECRET = "s3cr3t-Zq9x"
SECRET_ENV = {"SFB_SECRET": SECRET}


def start(*args, env):
    return subprocess.Popen([str(CLI), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})


def finish(procs):
    """Waits for every command started: {name: (returncode, stdout + stderr)}."""
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[name] = (proc.returncode, stdout + stderr)
    return out


def files_holding(root, *secrets):
    """Every file under root (recursively, hidden ones too) whose bytes contain one of the secrets."""
    return [(str(p), s) for p in sorted(pathlib.Path(root).rglob("*")) if p.is_file()
            for s in secrets if s.encode() in p.read_bytes()]


def test_secrets_never_appear_in_output_files_or_errors(pg, kafka, tmp_path):
    """The secret s3cr3t-Zq9x is the real password of a PostgreSQL role (given as password: ${ENV}, and
    through ${ENV} inside a URI and a keyword dsn) and a librdkafka property value (ssl.key.password) of a
    SASL source whose real sasl.password (the broker's) comes from ${ENV} too; then it is the wrong
    password, and the password for brokers that are not there. Searched for in everything the tool
    prints or writes: run (progress and summary), run --dry-run, validate (with and without --connect,
    text and JSON), inspect, dump, get, every file of the savepoint and the summary file."""
    pg.psql(f"CREATE ROLE sfb_secret LOGIN PASSWORD '{SECRET}'; GRANT CONNECT ON DATABASE sfb_test TO sfb_secret; "
            "CREATE TABLE secret_rows AS SELECT g AS id, 'row ' || g AS name FROM generate_series(1, 50) g; "
            "GRANT SELECT ON secret_rows TO sfb_secret")
    kafka.create_topic("secret-topic")
    kafka.produce([{"topic": "secret-topic", "key": f"k{i}", "value": json.dumps({"n": i})} for i in range(7)])
    secrets_ = (SECRET, kafka.password)
    env = {**SECRET_ENV, "SFB_KAFKA_PASSWORD": kafka.password}
    host = f"host=127.0.0.1 port={pg.port} dbname=sfb_test"

    def kafka_block(brokers, password_ref, timeout):
        return f"""
    kafka:
      brokers: '{brokers}'
      topics: [secret-topic]
      timeout: {timeout}
      progress: 50ms
      properties:
        security.protocol: SASL_PLAINTEXT
        sasl.mechanism: PLAIN
        sasl.username: alice
        sasl.password: "{password_ref}"
        ssl.key.password: "${{SFB_SECRET}}"
"""

    def job(name, sources):
        directory = tmp_path / name
        directory.mkdir()
        functions = "".join(f"  secret/{s}: {{ states: {{ v: {{ type: io.statefun.types/string }} }} }}\n"
                            for s in sources)
        # PostgreSQL rows are (id, name); Kafka records are keyed, with a value {"n": ...}.
        routes = "".join(f'  - {{ from: {s}, to: secret/{s}, set: {{ v: "{{value.n}}" }} }}\n' if "kafka" in block
                         else f'  - {{ from: {s}, to: secret/{s}, id: "{{id}}", set: {{ v: "{{name}}" }} }}\n'
                         for s, block in sources.items())
        path = directory / "job.yaml"
        path.write_text(f"savepoint: {{ path: sp, max_parallelism: 128, parallelism: 2 }}\nfunctions:\n{functions}"
                        "sources:\n" + "".join(f"  {s}:{b}" for s, b in sources.items()) + f"routes:\n{routes}")
        assert SECRET not in path.read_text() and kafka.password not in path.read_text()  # only through ${ENV}
        return path, directory / "sp"

    # --- Runs that succeed: every command, every file --------------------------------------------------------
    good, sp = job("good", {
        "fields": f"\n    postgres: {{ host: 127.0.0.1, port: {pg.port}, database: sfb_test, user: sfb_secret, "
                  'password: "${SFB_SECRET}", table: public.secret_rows, progress: 50ms }\n',
        "uri": f"\n    postgres: {{ dsn: 'postgresql://sfb_secret:${{SFB_SECRET}}@127.0.0.1:{pg.port}/sfb_test', "
               "table: public.secret_rows }\n",
        "keywords": f"\n    postgres: {{ dsn: '{host} user=sfb_secret password=${{SFB_SECRET}}', "
                    "table: public.secret_rows }\n",
        "sasl": kafka_block(kafka.sasl_bootstrap, "${SFB_KAFKA_PASSWORD}", "8s"),
    })
    outputs = {}
    for name, args in {"run": ["run", good, "--summary-json", tmp_path / "good" / "summary.json"],
                       "dry-run": ["run", good, "--dry-run", "--output", tmp_path / "good" / "dry"],
                       "validate": ["validate", good], "validate --json": ["validate", good, "--json"],
                       "validate --connect": ["validate", good, "--connect"],
                       "validate --connect --json": ["validate", good, "--connect", "--json"],
                       }.items():
        proc = run_cli(*args, env=env)
        outputs[name] = proc.stdout + proc.stderr
    for name, args in {"inspect": ["inspect", sp], "inspect --json": ["inspect", sp, "--json"],
                       "dump": ["dump", sp], "dump --spec": ["dump", sp, "--spec", good],
                       "get": ["get", sp, "secret/fields/7", "--spec", good],
                       "get kafka": ["get", sp, "secret/sasl/k3", "--spec", good]}.items():
        proc = run_cli(*args, env=env)
        outputs[name] = proc.stdout + proc.stderr
    leaks = [(name, s) for name, text in outputs.items() for s in secrets_ if s in text]
    leaks += files_holding(tmp_path / "good", *secrets_)
    # Not vacuous: the passwords worked (each source read its rows), the output describes the sources.
    entries = dump(sp)
    for source in ("fields", "uri", "keywords"):
        assert sorted(e["id"] for e in entries if e["function"] == f"secret/{source}") == sorted(
            str(i) for i in range(1, 51)), source
    assert {e["id"]: e["value"] for e in entries if e["function"] == "secret/sasl"} == {
        f"k{i}": str(i) for i in range(7)}
    assert sorted(p.name for p in sp.iterdir()) == [
        "_metadata", "kafka-ingress-sasl.yaml", "keyed-state-functions-0", "keyed-state-functions-1",
        "statefun-bootstrap.json"]
    assert "sfb_secret" in outputs["validate --connect"] and "ssl.key.password" in outputs["validate --connect"]
    assert "sasl.password" in outputs["validate --json"] and "source fields" in outputs["run"]
    assert not (tmp_path / "good" / "dry").exists()

    # --- Runs that fail: the secret is the wrong password, or meant for brokers that are not there ----------
    bad = {
        "pg-password": job("pg-password", {"s": f"\n    postgres: {{ {connection(pg)}, table: public.events }}\n"}),
        "pg-dsn": job("pg-dsn", {"s": f"\n    postgres: {{ dsn: 'postgresql://sfb_reader:${{SFB_SECRET}}@127.0.0.1:"
                                      f"{pg.port}/sfb_test', table: public.events }}\n"}),
        "pg-down": job("pg-down", {"s": "\n    postgres: { dsn: 'host=127.0.0.1 port=1 dbname=sfb_test user=sfb_secret "
                                        "password=${SFB_SECRET}', table: public.events }\n"}),
        "kafka-password": job("kafka-password", {"s": kafka_block(kafka.sasl_bootstrap, "${SFB_SECRET}", "5s")}),
        "kafka-down": job("kafka-down", {"s": kafka_block("127.0.0.1:1", "${SFB_SECRET}", "5s")}),
    }
    # connection(pg) takes the password from ${SFB_PG_PASSWORD}: here it is the secret, sfb_reader's is another.
    bad_env = {**env, "SFB_PG_PASSWORD": SECRET}
    procs = {}
    for name, (path, _) in bad.items():
        procs[(name, "run")] = start("run", path, env=bad_env)
        procs[(name, "dry-run")] = start("run", path, "--dry-run", "--output", path.parent / "dry", env=bad_env)
        procs[(name, "validate --connect")] = start("validate", path, "--connect", env=bad_env)
        procs[(name, "validate --connect --json")] = start("validate", path, "--connect", "--json", env=bad_env)
        procs[(name, "validate")] = start("validate", path, env=bad_env)
    results = finish(procs)
    why = {"pg-password": 'password authentication failed for user "sfb_reader"',
           "pg-dsn": 'password authentication failed for user "sfb_reader"',
           "pg-down": "Connection refused",
           "kafka-password": "Authentication failed",
           "kafka-down": "Connection refused"}
    for (name, command), (code, text) in results.items():
        leaks += [(f"{name}: {command}", s) for s in secrets_ if s in text]
        if command == "validate":  # offline: nothing contacted, nothing wrong
            assert code == 0 and "ok:" in text, (name, text)
        else:
            assert code == 1, (name, command, code, text)
            assert why[name] in text, (name, command, text)
    for name, (path, _) in bad.items():
        leaks += files_holding(path.parent, *secrets_)
        assert sorted(p.name for p in path.parent.iterdir()) == ["job.yaml"], f"{name} left files behind"
    assert not leaks, f"secrets leaked: {leaks}"


# --- run --resume after a kill ---------------------------------------------------------------------------

RESUME_ROWS = 600000
# A split is journaled as done once its routed records are in the spill store, so the resume tests give
# their jobs a memory budget a small part of what they route: their killed runs have spilled, as runs
# larger than memory do. (A run that fits its budget journals nothing: see the in-memory test below.)
RESUME_MEMORY = "4MB"


def journal_of(out):
    """(done splits, journal lines) of the staging directory a killed run left beside `out`."""
    left = list(out.parent.glob(f".{out.name}.inprogress-*/resume.jsonl"))
    assert len(left) == 1, left
    lines = [json.loads(l) for l in left[0].read_text().splitlines() if l.endswith("}")]
    return sum(1 for l in lines if "done" in l), lines


def kill_with_some_splits_done(job, out, seconds, total_splits):
    """Kills runs of `job` at growing fractions of `seconds` until one dies with some but not all splits
    journaled as done; returns how many were done."""
    for fraction in (0.35, 0.5, 0.65, 0.8, 0.25, 0.9):
        run = KilledRun(job, out)
        run.kill_after(seconds * fraction)
        if out.exists():
            shutil.rmtree(out)
            continue
        done, _ = journal_of(out)
        if 0 < done < total_splits:
            return done
        for d in out.parent.glob(f".{out.name}.inprogress-*"):
            shutil.rmtree(d)
    pytest.fail("no kill landed with some splits finished")


def test_resume_after_sigkill_gives_the_same_bytes_and_the_same_dead_letters(tmp_path):
    """A file job with bad lines and a dead-letter file, killed mid-read: run --resume reads only the
    splits the killed run had not finished and writes the savepoint and dead-letter file an uninterrupted
    run writes."""
    csv = tmp_path / "users.csv"
    with open(csv, "w") as f:
        f.write("id,name,visits\n")
        for i in range(RESUME_ROWS):
            f.write(f"user-{i % 100000},Name {i},{'x' if i % 50000 == 7 else i % 1000}\n")
    bad = sum(1 for i in range(RESUME_ROWS) if i % 50000 == 7)
    job = tmp_path / "job.yaml"
    job.write_text(f"""savepoint: {{ path: {tmp_path / 'out'}, max_parallelism: 128, parallelism: 2, memory: {RESUME_MEMORY} }}
errors: {{ dead_letter: {tmp_path / 'bad.jsonl'}, max_bad_records: 100 }}
functions:
  ex/user: {{ states: {{ visits: {{ type: io.statefun.types/long }}, name: {{ type: io.statefun.types/string }} }} }}
sources:
  users: {{ file: {{ path: {csv}, split_size: 1MB }} }}
routes:
  - {{ from: users, to: ex/user, id: "{{id}}", set: {{ name: "{{name}}" }}, merge: {{ visits: "sum(visits)" }} }}
""")
    reference = tmp_path / "reference"
    start = time.monotonic()
    run_cli("run", job, "--output", reference, "--quiet", "--ttl-timestamp", "0")
    seconds = time.monotonic() - start
    reference_bad = sorted((tmp_path / "bad.jsonl").read_text().splitlines())
    assert len(reference_bad) == bad
    splits = csv.stat().st_size // (1 << 20) + 1

    out = tmp_path / "out"
    done = kill_with_some_splits_done(job, out, seconds, splits)
    summary = tmp_path / "summary.json"
    proc = run_cli("run", job, "--resume", "--summary-json", summary, "--quiet")
    assert "note: resuming the interrupted run" in proc.stderr
    assert f"resumed        {done} splits were finished by the interrupted run" in proc.stdout
    assert flink_files(out) == flink_files(reference)
    s = json.loads(summary.read_text())
    assert (s["records_read"], s["records_dead_lettered"]) == (RESUME_ROWS, bad)
    assert sorted((tmp_path / "bad.jsonl").read_text().splitlines()) == reference_bad  # none twice, none lost
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    assert "resume.jsonl" not in {p.name for p in out.iterdir()}


def test_resume_of_a_run_killed_with_everything_in_memory_reads_everything_again(tmp_path):
    """Within its memory budget a run writes nothing to disk until the savepoint, so it journals no split:
    a kill loses what it held, and run --resume reads every split again, to the same bytes."""
    csv = tmp_path / "users.csv"
    csv.write_text("id,visits\n" + "".join(f"user-{i % 50000},{i % 7}\n" for i in range(RESUME_ROWS)))
    job = tmp_path / "job.yaml"
    job.write_text(f"""savepoint: {{ path: {tmp_path / 'out'}, max_parallelism: 128, parallelism: 2, memory: 1GB }}
functions: {{ ex/user: {{ states: {{ visits: {{ type: io.statefun.types/long }} }} }} }}
sources: {{ users: {{ file: {{ path: {csv}, split_size: 256KB }} }} }}
routes: [ {{ from: users, to: ex/user, id: "{{id}}", merge: {{ visits: "sum(visits)" }} }} ]
""")
    reference = tmp_path / "reference"
    start = time.monotonic()
    summary = tmp_path / "summary.json"
    run_cli("run", job, "--output", reference, "--quiet", "--summary-json", summary)
    seconds = time.monotonic() - start
    assert json.loads(summary.read_text())["spills"] == 0
    out = tmp_path / "out"
    for fraction in (0.5, 0.35, 0.65, 0.2, 0.8):
        run = KilledRun(job, out)
        run.kill_after(seconds * fraction)
        if not out.exists() and list(out.parent.glob(f".{out.name}.inprogress-*/resume.jsonl")):
            break
        if out.exists():
            shutil.rmtree(out)
        for d in out.parent.glob(f".{out.name}.inprogress-*"):
            shutil.rmtree(d)
    else:
        pytest.fail("no kill landed while the run was under way")
    done, lines = journal_of(out)
    assert done == 0 and "journal" in lines[0], lines  # the header, and the schemas it used
    proc = run_cli("run", job, "--resume")
    assert "note: resuming the interrupted run" in proc.stderr
    assert "splits were finished by the interrupted run" not in proc.stdout
    assert flink_files(out) == flink_files(reference)


def test_resume_refuses_what_it_cannot_continue_and_keeps_the_work(tmp_path, pg):
    csv = tmp_path / "users.csv"
    csv.write_text("id,visits\n" + "".join(f"u{i},{i}\n" for i in range(RESUME_ROWS // 2)))
    job = tmp_path / "job.yaml"
    body = f"""savepoint: {{ path: {tmp_path / 'out'}, max_parallelism: 128, parallelism: 1, memory: {RESUME_MEMORY} }}
functions: {{ ex/user: {{ states: {{ visits: {{ type: io.statefun.types/long }} }} }} }}
sources: {{ users: {{ file: {{ path: {csv}, split_size: 256KB }} }} }}
routes: [ {{ from: users, to: ex/user, id: "{{id}}", set: {{ visits: "{{visits}}" }} }} ]
"""
    job.write_text(body)
    out = tmp_path / "out"
    proc = run_cli("run", job, "--resume", check=False)
    assert proc.returncode == 1 and "there is no interrupted run of" in proc.stderr, proc.stderr
    assert "run without --resume" in proc.stderr

    start = time.monotonic()
    run_cli("run", job, "--output", tmp_path / "reference", "--quiet")
    kill_with_some_splits_done(job, out, time.monotonic() - start, csv.stat().st_size // (256 << 10) + 1)
    # The job changed: refused, and the interrupted run's work stays for a --resume of the original job.
    job.write_text(body.replace("parallelism: 1", "parallelism: 2"))
    proc = run_cli("run", job, "--resume", check=False)
    assert proc.returncode == 2 and "the job changed since the interrupted run" in proc.stderr, proc.stderr
    # The input changed: refused.
    job.write_text(body)
    with open(csv, "a") as f:
        f.write("late,1\n")
    proc = run_cli("run", job, "--resume", check=False)
    assert proc.returncode == 2 and "the source changed since the interrupted run" in proc.stderr, proc.stderr
    assert not out.exists() and journal_of(out)[0] > 0
    # Without --resume the work is discarded and the run starts over.
    proc = run_cli("run", job, "--quiet")
    assert "left by an earlier run" in proc.stderr and len(dump(out)) == RESUME_ROWS // 2 + 1

    # PostgreSQL: the exported snapshot ended with the killed run, so a resume cannot read the same rows.
    pg_job = tmp_path / "pg.yaml"
    pg_job.write_text(f"""savepoint: {{ path: {tmp_path / 'pg-out'}, max_parallelism: 128, parallelism: 1 }}
functions: {{ pg/t: {{ states: {{ n: {{ type: io.statefun.types/long }} }} }} }}
sources: {{ t: {{ postgres: {{ {connection(pg)}, table: public.events }} }} }}
routes: [ {{ from: t, to: pg/t, id: "{{id}}", merge: {{ n: count }} }} ]
""")
    pg_out = tmp_path / "pg-out"
    run = KilledRun(pg_job, pg_out, env=PG_ENV)
    wait_for(lambda: list(tmp_path.glob(".pg-out.inprogress-*/resume.jsonl")), what="the run's journal")
    run.kill_after(0)
    assert not pg_out.exists(), "the kill came too late"
    proc = run_cli("run", pg_job, "--resume", env=PG_ENV, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "source t: a PostgreSQL source cannot continue an interrupted run" in proc.stderr, proc.stderr
    assert "run without --resume" in proc.stderr


def test_resume_of_a_kafka_job_reads_the_ranges_the_killed_run_captured(kafka, tmp_path):
    """Messages produced after the killed run started are not read by its resumption either: the resumed
    run reuses the captured end offsets, so its savepoint is the one an uninterrupted run would have written."""
    kafka.create_topic("resume-series", 4)
    kafka.generate("resume-series", KAFKA_KILL_MESSAGES, keys=2000)
    job = tmp_path / "job.yaml"
    job.write_text(f"""savepoint: {{ path: {tmp_path / 'out'}, max_parallelism: 128, parallelism: 2, memory: {RESUME_MEMORY} }}
functions:
  example/user:
    states: {{ total: {{ type: io.statefun.types/long }}, n: {{ type: io.statefun.types/long }} }}
sources:
  k: {{ kafka: {{ brokers: '{kafka.bootstrap}', topics: [resume-series], progress: off, readers: 4 }} }}
routes:
  - {{ from: k, to: example/user, merge: {{ total: "sum(value.amount)", n: count }} }}
""")
    start = time.monotonic()
    run_cli("run", job, "--output", tmp_path / "reference", "--quiet", "--ttl-timestamp", "0")
    seconds = time.monotonic() - start
    out = tmp_path / "out"
    done = kill_with_some_splits_done(job, out, seconds, 4)
    kafka.generate("resume-series", 1000, keys=2000)  # after the capture: must not be read
    proc = run_cli("run", job, "--resume", "--quiet")
    assert f"resumed        {done} splits were finished" in proc.stdout
    assert flink_files(out) == flink_files(tmp_path / "reference")
    reference_snippet = snippet_lines(tmp_path / "reference")
    assert reference_snippet and snippet_lines(out) == reference_snippet  # the same handoff offsets


def snippet_lines(savepoint):
    return [l for p in sorted(pathlib.Path(savepoint).glob("*.yaml")) for l in p.read_text().splitlines()
            if not l.startswith("#")]
