"""The commands as a user runs them: determinism, validate/dry-run, inspect/get, interruption, summaries."""
import filecmp
import json
import os
import signal
import subprocess
import time

import cases
from conftest import CLI, ROOT, dump, run_cli


def savepoint_files(sp):
    """The files Flink reads (the provenance file holds a creation time, so it is excluded)."""
    return sorted(p.name for p in sp.iterdir() if p.name != "statefun-bootstrap.json")


def test_output_is_byte_identical_whatever_the_thread_count(tmp_path):
    # Small splits so the file is read by many tasks, interleaved differently on each run.
    job, _, expected = cases.make_counter(tmp_path / "data", 256, 3, n_ids=4000, rounds=3, split_size="16KB")
    outs = []
    for threads in (1, 2, 4):
        out = tmp_path / f"t{threads}"
        run_cli("run", job, "--output", out, "--threads", threads, "--quiet")
        outs.append(out)
    names = savepoint_files(outs[0])
    assert names == ["_metadata", "keyed-state-functions-0", "keyed-state-functions-1", "keyed-state-functions-2"]
    for other in outs[1:]:
        assert savepoint_files(other) == names
        for n in names:
            assert filecmp.cmp(outs[0] / n, other / n, shallow=False), f"{n} differs between thread counts"
    assert len(dump(outs[0])) == len(expected)


def test_validate_prints_the_plan_and_writes_nothing(tmp_path):
    job = ROOT / "examples" / "greeter" / "job.yaml"
    out = tmp_path / "sp"
    proc = run_cli("validate", job, "--output", out)
    assert "example.greeter.last_visit" in proc.stdout and "ttl after_write 604800000 ms" in proc.stdout
    assert "ok:" in proc.stdout
    plan = json.loads(run_cli("validate", job, "--json", "--parallelism", "3").stdout)
    assert plan["savepoint"]["parallelism"] == 3 and plan["max_parallelism"] == 128
    assert [s["flink_name"] for s in plan["states"]] == ["example.greeter.seen_count", "example.greeter.profile",
                                                        "example.greeter.last_visit", "example.country-stats.users"]
    proc = run_cli("run", job, "--output", out, "--dry-run")
    assert "dry run: nothing was written" in proc.stdout
    assert not out.exists()


PYTHON_NAMES_JOB = """\
savepoint: { path: out }
functions:
  example/user:
    states:
      firstName: { type: io.statefun.types/string }
      class: { type: io.statefun.types/string }
      seen_count: { type: io.statefun.types/int }
  example/ledger:
    states:
      Balance: { type: java.lang.Long }
sources:
  users: { file: { path: users.csv } }
routes:
  - { from: users, to: example/user, id: "{id}", set: { firstName: "{first}", class: "{first}" }, merge: { seen_count: count } }
  - { from: users, to: example/ledger, id: "{id}", set: { Balance: "1" } }
"""


def test_validate_warns_of_state_names_a_python_function_cannot_declare(tmp_path):
    """Other SDKs accept them, so the job is valid, but validate (and run) say which states a Python SDK
    function could never read, and why; embedded (Java) functions' states are not a Python SDK's business."""
    (tmp_path / "users.csv").write_text("id,first\nu1,Ana\n")
    job = tmp_path / "job.yaml"
    job.write_text(PYTHON_NAMES_JOB)
    proc = run_cli("validate", job)
    expected = [
        f"warning: {job}:5:18: function example/user state 'firstName': a function using statefun's Python SDK "
        "cannot declare this state, because it has upper-case letters (its ValueSpec names must be lower-case "
        "Python identifiers that are not keywords), so it could never read the bootstrapped values\n"
        "  fix: if a Python function reads this state, rename it (e.g. first_name) here and in the function; the "
        "Java, Go and JavaScript SDKs accept the name as it is",
        f"warning: {job}:6:14: function example/user state 'class': a function using statefun's Python SDK "
        "cannot declare this state, because 'class' is a Python keyword (its ValueSpec names must be lower-case "
        "Python identifiers that are not keywords), so it could never read the bootstrapped values\n"
        "  fix: if a Python function reads this state, rename it (e.g. class_) here and in the function; the "
        "Java, Go and JavaScript SDKs accept the name as it is",
    ]
    assert proc.stderr == "".join(w + "\n" for w in expected), proc.stderr
    assert f"ok: {job} is valid (2 warnings, on stderr)" in proc.stdout
    plan = json.loads(run_cli("validate", job, "--json").stdout)
    assert [(w["location"], w["message"].split(":")[0]) for w in plan["warnings"]] == [
        (f"{job}:5:18", "function example/user state 'firstName'"), (f"{job}:6:14", "function example/user state 'class'")]
    proc = run_cli("run", job, "--quiet")
    assert proc.stderr.count("warning: ") == 2 and "savepoint written" in proc.stdout
    # Names a Python function can declare give no warning.
    job.write_text(PYTHON_NAMES_JOB.replace("firstName", "first_name").replace("class", "kind"))
    proc = run_cli("validate", job)
    assert proc.stderr == "" and f"ok: {job} is valid\n" in proc.stdout


def test_summary_inspect_and_get(tmp_path):
    job = ROOT / "examples" / "greeter" / "job.yaml"
    out = tmp_path / "sp"
    summary_json = tmp_path / "summary.json"
    proc = run_cli("run", job, "--output", out, "--summary-json", summary_json)
    assert f"savepoint written: {out}" in proc.stdout
    assert "records read     10" in proc.stdout and "addresses        9" in proc.stdout
    summary = json.loads(summary_json.read_text())
    assert summary["records_read"] == 10 and summary["addresses"] == 9 and summary["files"] == 3
    assert {s["state"]: s["entries"] for s in summary["states"]} == {
        "seen_count": 6, "profile": 5, "last_visit": 4, "users": 3}
    provenance = json.loads((out / "statefun-bootstrap.json").read_text())
    assert provenance["max_parallelism"] == 128 and [s["name"] for s in provenance["sources"]] == ["users", "visits"]

    info = json.loads(run_cli("inspect", out, "--json").stdout)
    assert info["operators"][0]["uid"] == "functions_uid1"
    assert info["addresses"] == 9 and info["entries"] == 18
    assert [s["key_groups"] for s in info["subtasks"]] == ["0..63", "64..127"]
    text = run_cli("inspect", out).stdout
    assert "TtlStateFactory$TtlSerializerSnapshot<java.lang.Long, RemoteValue(io.statefun.types/long)>" in text

    got = json.loads(run_cli("get", out, "example/greeter/zoë", "--spec", job).stdout)
    assert got["states"]["seen_count"]["value"] == 7
    assert got["states"]["profile"]["value"]["name"] == "Zoë Kravitz"
    proc = run_cli("get", out, "example/greeter/nobody", check=False)
    assert proc.returncode == 1 and "no state for example/greeter/nobody" in proc.stderr


def test_interrupt_removes_partial_output(tmp_path):
    rows = 2_000_000
    data = tmp_path / "big.csv"
    with open(data, "w") as f:
        f.write("id,amount\n")
        for k in range(rows):
            f.write(f"user-{k},{k % 97}\n")
    job = tmp_path / "job.yaml"
    job.write_text(f"""
savepoint: {{ path: out/sp, max_parallelism: 128, parallelism: 2 }}
functions:
  example/counter: {{ states: {{ total: {{ type: io.statefun.types/long }} }} }}
sources:
  events: {{ file: {{ path: {data} }} }}
routes:
  - {{ from: events, to: example/counter, id: "{{id}}", merge: {{ total: sum(amount) }} }}
""")
    proc = subprocess.Popen([str(CLI), "run", str(job), "--threads", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out_dir = tmp_path / "out"
    deadline = time.time() + 30
    while time.time() < deadline and not (out_dir.exists() and any(out_dir.iterdir())):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "no savepoint was written" in stderr
    assert not (out_dir / "sp").exists()
    assert list(out_dir.iterdir()) == [], "staging directory left behind"


def test_interrupt_while_a_kafka_source_prepares_does_not_wait_for_it(tmp_path):
    """A source that cannot stop preparing on an interrupt (a Kafka client waiting up to a minute for
    brokers that do not answer) is not waited for: the run exits 130 within a second or two of Ctrl-C,
    having written nothing."""
    job = tmp_path / "job.yaml"
    job.write_text("""
savepoint: { path: out/sp, max_parallelism: 128, parallelism: 1 }
functions:
  example/u: { states: { n: { type: io.statefun.types/long } } }
sources:
  users: { kafka: { brokers: "127.0.0.1:1", topics: users, timeout: 60s } }
routes:
  - { from: users, to: example/u, id: "{key}", merge: { n: count } }
""")
    proc = subprocess.Popen([str(CLI), "run", str(job)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    time.sleep(1.0)  # well inside the minute the client would wait
    assert proc.poll() is None, proc.communicate()
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    elapsed = time.monotonic() - start
    assert proc.returncode == 130, stderr
    assert elapsed < 3.0, f"took {elapsed:.1f} s to stop"
    assert "interrupted while preparing the sources: stopped without waiting for them; no savepoint was written" \
        in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_help_teaches_every_command():
    top = run_cli("help").stdout
    for cmd in ("run", "validate", "inspect", "dump", "get"):
        assert f"statefun-bootstrap {cmd}" in top
        detail = run_cli("help", cmd).stdout
        assert detail.startswith(f"usage: statefun-bootstrap {cmd}")
    assert "--parallelism N" in run_cli("run", "--help").stdout
