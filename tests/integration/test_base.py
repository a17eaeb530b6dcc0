"""Bootstrap into a running application (`run --base`), judged by a real statefun 3.3.0 application.

tests/restore (see its README.md) runs StatefulFunctionsJob on a Flink 1.16.2 MiniCluster with remote
functions on statefun's Java SDK:
1. the application runs from nothing at parallelism 2 on RocksDB (state in relative files), and once
   more on the hashmap backend (every stream inline in _metadata); its ingress
   sends 40 messages to function A (restore/counter), which counts them per id in its state `seen`; then
   the job is stopped with a canonical savepoint (stop-with-savepoint), the base;
2. `run --base` bootstraps function B (restore/greeter, state `greeting`) and a new state of A (`bonus`)
   from CSV files on top of it;
3. the application restores from our output on the base's backend, at the base's parallelism 2 and (RocksDB)
   at 3, which makes Flink re-lay every operator's state
   (execution.savepoint.ignore-unclaimed-state: false, so Flink
   fails if any state of it is not claimed) and every address reports what it sees: A its counts from
   step 1 plus the bootstrapped bonus, B its greeting, untouched addresses nothing.
That ingress is the harness's own (a source that replays a file). A snapshot-compressed base (written by
real Flink, savepoint/testdata) is read and restored the same way, and so is a RocksDB base with heap timers.
`run --base --parallelism 3` (RocksDB base) and `1` (hashmap base) re-lay the functions operator by key group;
those outputs are read by the State Processor API and restored at 3 and at 1 the same way.

Kafka (test_kafka_ingress_resumes_exactly_after_the_base_offsets, on the session broker): an application
with a module.yaml Kafka ingress (startup position: earliest) counts batch 1, a canonical savepoint of it is
the base (taken while it runs, then the job is cancelled: the legacy FlinkKafkaConsumer fails Flink 1.16's
stop-with-savepoint); restored from `run --base`'s output at parallelism 3, it consumes batch 2, and Flink's
next savepoint shows per address that it continued exactly after the base's offsets.
Flink's State Processor API (tests/flink-harness) also reads every function state of the outputs, value
for value, on both backends.

on_existing (writer/on_existing.h): the same bases already hold A's `seen`; a job that declares `seen` again
with replace, keep or merge is run on them, and the application restored from each output reports, per
address, exactly the value that mode gives: addresses only in the base, only in the job, in both.
`validate --base` counts the same addresses without writing anything.
"""
import collections
import json
import pathlib
import shutil
import subprocess
import time

import pytest

from comparison import assert_entries_equal
from conftest import dump, run_cli
from test_restore import RESTORE, run_bounded, stop_group

MESSAGES = 40
IDS = [f"user-{i}" for i in range(7)]
GUESTS = [f"guest-{i}" for i in range(12)] + ["user-0", "Zoë"]

BASE_PLAN = {"states": [{"kind": "remote", "function": "restore/counter", "state": "seen",
                         "type": "io.statefun.types/int", "ttl": None}]}

JOB = """\
savepoint:
  path: out
  max_parallelism: 128
functions:
  restore/greeter:
    states:
      greeting: { type: io.statefun.types/string }
  restore/counter:
    states:
      bonus: { type: io.statefun.types/int }
sources:
  greetings: { file: { path: greetings.csv } }
  bonuses: { file: { path: bonuses.csv } }
routes:
  - from: greetings
    to: restore/greeter
    id: "{id}"
    set: { greeting: "Hello {id}" }
  - from: bonuses
    to: restore/counter
    id: "{id}"
    set: { bonus: "{bonus}" }
"""

# A job that declares the state the bases already have: restore/counter's `seen` (6 for user-0..4, 5 for
# user-5 and user-6), summed from more visits, with the given on_existing.
SEEN_JOB = """\
savepoint:
  path: {out}
  max_parallelism: 128
functions:
  restore/counter:
    states:
      seen: {{ type: io.statefun.types/int, on_existing: {mode} }}
sources:
  more: {{ file: {{ path: more-visits.jsonl }} }}
routes:
  - from: more
    to: restore/counter
    id: "{{id}}"
    merge: {{ seen: sum(n) }}
"""
MORE_VISITS = [("user-0", 10), ("user-5", 3), ("user-0", 2), ("new-user", 7)]
# What each mode gives the addresses the job writes; every other address keeps the base's count.
SEEN_EXPECTED = {
    "replace": {"user-0": 12, "user-5": 3, "new-user": 7},
    "keep": {"new-user": 7},
    "merge": {"user-0": 6 + 12, "user-5": 5 + 3, "new-user": 7},
}
SEEN_COUNTS = {  # validate --base: kept, replaced, merged, added addresses of `seen`
    "replace": {"kept": 5, "replaced": 2, "merged": 0, "added": 1},
    "keep": {"kept": 7, "replaced": 0, "merged": 0, "added": 1},
    "merge": {"kept": 5, "replaced": 0, "merged": 2, "added": 1},
}

# Every state the application declares after the bootstrap: what the probe functions register.
PROBE_PLAN = {"states": [
    {"kind": "remote", "function": "restore/greeter", "state": "greeting", "type": "io.statefun.types/string",
     "ttl": None},
    {"kind": "remote", "function": "restore/counter", "state": "seen", "type": "io.statefun.types/int", "ttl": None},
    {"kind": "remote", "function": "restore/counter", "state": "bonus", "type": "io.statefun.types/int", "ttl": None},
]}


class Functions:
    """The remote function server; with count_type, messages of that type are counted into int states (and with
    delayed_type, a counted message carrying "delay_ms" sends its address a message of that type after the delay,
    counted too when it arrives)."""

    def __init__(self, plan_path, workdir, name, count_type=None, delayed_type=None):
        self.port_file = workdir / f"{name}.port"
        self.count_file = workdir / f"{name}.count"
        self.log = open(workdir / f"{name}.functions.log", "w+")
        args = ["bash", str(RESTORE), "probe-functions", "--plan", str(plan_path), "--port-file", str(self.port_file)]
        if count_type:
            args += ["--count-type", count_type, "--count-file", str(self.count_file)]
        if delayed_type:
            args += ["--delayed-type", delayed_type]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        deadline = time.time() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise AssertionError("the function server did not start:\n" + self.output())
            time.sleep(0.1)
        self.port = int(self.port_file.read_text().strip())

    def counted(self):
        return int(self.count_file.read_text().strip()) if self.count_file.exists() else 0

    def module_yaml(self, path):
        path.write_text("kind: io.statefun.endpoints.v2/http\nspec:\n  functions: restore/*\n"
                        f"  urlPathTemplate: http://127.0.0.1:{self.port}/{{function.name}}\n"
                        "  transport:\n    type: io.statefun.transports.v1/async\n")
        return path

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self):
        stop_group(self.proc, grace=10)
        self.log.close()


def visit(i, delayed, delay_ms):
    v = {"id": IDS[i % len(IDS)], "n": i}
    return {**v, "delay_ms": delay_ms} if i in delayed else v


def take_base(work, backend, inline_threshold, timer_service="rocksdb", delayed=(), delay_ms=0):
    """Runs the application from nothing, lets A count the messages, stops it with a canonical savepoint. The
    messages numbered in `delayed` also send A's address a restore/Delayed message after delay_ms: statefun's
    timers (and the delayed messages) are then pending in the savepoint."""
    messages = work / "visits.jsonl"
    messages.write_text("".join(json.dumps(visit(i, delayed, delay_ms)) + "\n" for i in range(MESSAGES)))
    plan_path = work / "base-plan.json"
    plan_path.write_text(json.dumps(BASE_PLAN))
    functions = Functions(plan_path, work, f"base-{backend}", count_type="restore/Visit",
                          delayed_type="restore/Delayed" if delayed else None)
    stop_file = work / f"stop-{backend}"
    (work / f"sp-{backend}").mkdir()
    (work / f"ck-{backend}").mkdir()
    app = subprocess.Popen(
        ["bash", str(RESTORE), "app", "serve", "--module", str(functions.module_yaml(work / "base-module.yaml")),
         "--parallelism", "2", "--state-backend", backend, "--messages", str(messages),
         "--messages-to", "restore/counter", "--messages-type", "restore/Visit",
         "--checkpoint-dir", str(work / f"ck-{backend}"), "--inline-threshold", str(inline_threshold),
         "--stop-file", str(stop_file), "--savepoint-dir", str(work / f"sp-{backend}"),
         "--timer-service", timer_service],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 180
        while functions.counted() < MESSAGES:
            assert app.poll() is None, f"the application ended:\n{app.stderr.read()[-5000:]}"
            assert time.time() < deadline, f"only {functions.counted()} of {MESSAGES} messages counted"
            time.sleep(0.2)
        stop_file.touch()
        out, err = app.communicate(timeout=180)
    finally:
        stop_group(app)
        functions.close()
    assert app.returncode == 0, err[-5000:]
    lines = [l for l in out.splitlines() if l.startswith("savepoint: ")]
    assert lines, out + err[-3000:]
    return pathlib.Path(lines[0][len("savepoint: "):].removeprefix("file:"))


def probe(work, module, savepoint, function, ids, name, backend, parallelism=2):
    ids_file = work / f"{name}.ids"
    ids_file.write_text("".join(i + "\n" for i in ids), encoding="utf-8")
    out = work / f"{name}.jsonl"
    proc = run_bounded(["bash", str(RESTORE), "app", "probe", "--module", str(module), "--savepoint", str(savepoint),
                        "--function", function, "--ids", str(ids_file), "--max-parallelism", "128",
                        "--timeout", "90", "--run", f"{parallelism}:{backend}:{out}"], timeout=240)
    assert proc.returncode == 0, f"the application did not restore from {savepoint}:\n{proc.stderr[-8000:]}"
    return {r["id"]: r["states"] for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory):
    work = tmp_path_factory.mktemp("base")
    build = run_bounded(["bash", str(RESTORE), "build"], timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]
    base = take_base(work, "rocksdb", 0)  # every stream a relative file
    base_files = {p.name: p.read_bytes() for p in base.iterdir()}
    heap_base = take_base(work, "hashmap", 20480)  # every stream inline in _metadata
    (work / "greetings.csv").write_text("id\n" + "".join(g + "\n" for g in GUESTS), encoding="utf-8")
    (work / "bonuses.csv").write_text("id,bonus\nuser-0,100\nuser-1,200\nnew-user,300\n")
    job = work / "job.yaml"
    job.write_text(JOB)
    run = run_cli("run", job, "--base", base, "--threads", "2")
    run_cli("run", job, "--base", heap_base, "--output", work / "out-hashmap")
    (work / "more-visits.jsonl").write_text("".join(json.dumps({"id": i, "n": n}) + "\n" for i, n in MORE_VISITS))
    seen_jobs = {}
    for mode in SEEN_EXPECTED:
        seen_jobs[mode] = work / f"seen-{mode}.yaml"
        seen_jobs[mode].write_text(SEEN_JOB.format(out=f"seen-{mode}", mode=mode))
        run_cli("run", seen_jobs[mode], "--base", base, "--threads", "2")
    run_cli("run", seen_jobs["merge"], "--base", heap_base, "--output", work / "seen-merge-hashmap")
    # another parallelism than the bases' 2: the functions operator's keyed state re-laid by key group
    run_cli("run", job, "--base", base, "--parallelism", "3", "--threads", "2", "--output", work / "out-p3")
    run_cli("run", job, "--base", heap_base, "--parallelism", "1", "--output", work / "out-hashmap-p1")
    return {"work": work, "base": base, "heap_base": heap_base, "base_files": base_files, "job": job,
            "out": work / "out", "run": run,
            "outputs": {"rocksdb": work / "out", "hashmap": work / "out-hashmap", "rocksdb-p3": work / "out-p3",
                        "hashmap-p1": work / "out-hashmap-p1"},
            "seen_jobs": seen_jobs}


def test_base_is_not_modified_and_output_has_its_operators(bootstrapped):
    base, out = bootstrapped["base"], bootstrapped["out"]
    assert {p.name: p.read_bytes() for p in base.iterdir()} == bootstrapped["base_files"]
    info = json.loads(run_cli("inspect", base, "--json").stdout)
    merged = json.loads(run_cli("inspect", out, "--json").stdout)
    assert [op["id"] for op in merged["operators"]] == [op["id"] for op in info["operators"]]
    assert merged["operators"] == info["operators"]
    base_states = {s["name"]: s["entries"] for s in info["states"]}
    merged_states = {s["name"]: s["entries"] for s in merged["states"]}
    assert base_states["restore.counter.seen"] == len(IDS)
    assert merged_states == {**base_states, "restore.greeter.greeting": len(GUESTS), "restore.counter.bonus": 3}
    # the summary counts every file Flink reads, the ones carried from the base too (not our provenance record)
    flink_files = [p for p in out.iterdir() if p.name != "statefun-bootstrap.json"]
    carried = len(flink_files) - 3  # two keyed-state files and _metadata
    assert carried > 0, sorted(p.name for p in flink_files)
    assert f"files            {len(flink_files)} (2 keyed-state files, {carried} carried from the base + _metadata)" \
        in bootstrapped["run"].stdout, bootstrapped["run"].stdout
    # dump shows the base's values and the job's side by side
    counts = collections.Counter(IDS[i % len(IDS)] for i in range(MESSAGES))
    values = {(e["function"], e["state"], e["id"]): e.get("value") for e in dump(out)}
    for i in IDS:
        assert values[("restore/counter", "seen", i)] == counts[i], i
    assert values[("restore/counter", "bonus", "user-1")] == 200
    assert values[("restore/greeter", "greeting", "Zoë")] == "Hello Zoë"


def test_same_bytes_whatever_threads(bootstrapped):
    work = bootstrapped["work"]
    run_cli("run", bootstrapped["job"], "--base", bootstrapped["base"], "--threads", "1", "--output", work / "out1")
    for p in bootstrapped["out"].iterdir():
        if p.name != "statefun-bootstrap.json":
            assert (work / "out1" / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("output,base_key,parallelism", [("rocksdb-p3", "base", 3), ("hashmap-p1", "heap_base", 1)])
def test_another_parallelism_relays_the_functions_operator_and_keeps_the_others(bootstrapped, output, base_key,
                                                                                parallelism):
    """`--parallelism` other than the base's: the functions operator has that many subtasks, each with
    Flink's key-group range, holding every entry the base-parallelism output holds; every other operator is
    exactly the base's; the bytes do not depend on --threads; validate --base counts the same."""
    work, base, out = bootstrapped["work"], bootstrapped[base_key], bootstrapped["outputs"][output]
    info = json.loads(run_cli("inspect", base, "--json").stdout)
    merged = json.loads(run_cli("inspect", out, "--json").stdout)
    same_p = json.loads(run_cli("inspect", bootstrapped["outputs"][output.split("-")[0]], "--json").stdout)
    assert [op["id"] for op in merged["operators"]] == [op["id"] for op in info["operators"]]
    functions = [op for op in merged["operators"] if op["uid"] == "functions_uid1"]
    assert [op["parallelism"] for op in functions] == [parallelism]
    assert ([op for op in merged["operators"] if op["uid"] != "functions_uid1"]
            == [op for op in info["operators"] if op["uid"] != "functions_uid1"])
    ranges = {3: ["0..42", "43..85", "86..127"], 1: ["0..127"]}[parallelism]  # Flink's ranges of 128 over P
    assert [s["key_groups"] for s in merged["subtasks"]] == ranges
    assert {s["name"]: s["entries"] for s in merged["states"]} == {s["name"]: s["entries"] for s in same_p["states"]}
    key = lambda e: json.dumps(e, sort_keys=True)
    assert sorted(map(key, dump(out))) == sorted(map(key, dump(bootstrapped["outputs"][output.split("-")[0]])))
    got = json.loads(run_cli("get", out, "restore/counter/user-0", "--spec", bootstrapped["job"]).stdout)
    assert got["states"]["seen"]["value"] == 6 and got["states"]["bonus"]["value"] == 100, got
    for threads in ("1", "4"):
        again = work / f"{output}-t{threads}"
        run_cli("run", bootstrapped["job"], "--base", base, "--parallelism", str(parallelism), "--threads", threads,
                "--output", again)
        for p in out.iterdir():
            if p.name != "statefun-bootstrap.json":
                assert (again / p.name).read_bytes() == p.read_bytes(), (threads, p.name)
        shutil.rmtree(again)
    counts = json.loads(run_cli("validate", bootstrapped["seen_jobs"]["merge"], "--base", base, "--parallelism",
                                str(parallelism), "--json", "--tmp-dir", work).stdout)["base"]["states"]
    assert counts == [{"function": "restore/counter", "state": "seen", "on_existing": "merge", **SEEN_COUNTS["merge"]}]


def entries(function, state, values):
    return [{"function": function, "state": state, "id": i, "value": v} for i, v in values.items()]


@pytest.mark.parametrize("output", ["out", "seen-merge-hashmap", "out-p3", "out-hashmap-p1"])
def test_flinks_state_processor_api_reads_every_state_of_the_output(bootstrapped, flink_judge, output):
    """Flink's State Processor API (tests/flink-harness `read`, RocksDB and hashmap backends) reads every
    function state of a --base output value for value: the base's carried over, the job's added or merged;
    our own `dump` shows exactly the same entries."""
    seen = seen_in_base()
    if output != "seen-merge-hashmap":
        expected = (entries("restore/counter", "seen", seen)
                    + entries("restore/counter", "bonus", {"user-0": 100, "user-1": 200, "new-user": 300})
                    + entries("restore/greeter", "greeting", {g: f"Hello {g}" for g in GUESTS}))
        states = PROBE_PLAN["states"]
    else:
        seen.update(SEEN_EXPECTED["merge"])
        expected = entries("restore/counter", "seen", seen)
        states = BASE_PLAN["states"]
    case = f"base-{output}"
    flink_judge.add(case, bootstrapped["work"] / output, {"max_parallelism": 128, "states": states})
    n = assert_entries_equal(expected, flink_judge.read(case), label=f"Flink's read of {output}")
    assert n == len(expected) and n > len(IDS)
    ours = [{k: e[k] for k in ("function", "state", "id", "value")} for e in dump(bootstrapped["work"] / output)
            if e["state"] in {s["state"] for s in states}]
    assert_entries_equal(expected, ours, label=f"our dump of {output}")


def test_a_state_the_base_has_is_refused_before_reading(bootstrapped):
    work = bootstrapped["work"]
    job = work / "clash.yaml"
    job.write_text(JOB.replace("bonus: { type: io.statefun.types/int }", "seen: { type: io.statefun.types/int }")
                   .replace("set: { bonus:", "set: { seen:").replace("path: out", "path: clash"))
    proc = run_cli("run", job, "--base", bootstrapped["base"], check=False)
    assert proc.returncode != 0
    assert "'seen' of function restore/counter" in proc.stderr, proc.stderr
    assert "on_existing: replace | keep | merge" in proc.stderr, proc.stderr
    assert not (work / "clash").exists()
    # another type is refused whatever on_existing says, before reading
    other = work / "clash-long.yaml"
    other.write_text(SEEN_JOB.format(out="clash-long", mode="replace").replace("io.statefun.types/int",
                                                                               "io.statefun.types/long"))
    proc = run_cli("run", other, "--base", bootstrapped["base"], check=False)
    assert proc.returncode == 2, proc.stderr
    assert "as remote io.statefun.types/long without expiration, but the base savepoint holds it as" in proc.stderr
    assert not (work / "clash-long").exists()


# The bases ran at parallelism 2; at 3 Flink re-lays every operator's state, the function operator's key
# groups (ours and the base's carried over) included. rocksdb-p3 and hashmap-p1 were written with
# --parallelism 3 and 1 (the functions operator re-laid by us, the other operators still at 2) and are
# restored at that parallelism.
@pytest.mark.parametrize("output,parallelism", [("rocksdb", 2), ("hashmap", 2), ("rocksdb", 3), ("rocksdb-p3", 3),
                                                ("hashmap-p1", 1)])
def test_real_flink_restores_the_output_and_every_address_sees_its_state(bootstrapped, output, parallelism):
    work, out = bootstrapped["work"], bootstrapped["outputs"][output]
    backend = output.split("-")[0]
    plan_path = work / "probe-plan.json"
    plan_path.write_text(json.dumps(PROBE_PLAN))
    name = f"{output}-p{parallelism}"
    functions = Functions(plan_path, work, f"probe-{name}")
    try:
        module = functions.module_yaml(work / f"probe-module-{name}.yaml")
        counters = probe(work, module, out, "restore/counter", IDS + ["new-user", "nobody"], f"counter-{name}",
                         backend, parallelism)
        greeters = probe(work, module, out, "restore/greeter", GUESTS + ["user-1"], f"greeter-{name}", backend,
                         parallelism)
    finally:
        functions.close()
    counts = collections.Counter(IDS[i % len(IDS)] for i in range(MESSAGES))
    bonus = {"user-0": 100, "user-1": 200, "new-user": 300}
    for i in IDS + ["new-user", "nobody"]:
        assert counters[i] == {"seen": counts.get(i), "bonus": bonus.get(i)}, i
    for g in GUESTS:
        assert greeters[g] == {"greeting": f"Hello {g}"}, g
    assert greeters["user-1"] == {"greeting": None}


def seen_in_base():
    counts = collections.Counter(IDS[i % len(IDS)] for i in range(MESSAGES))
    return {i: counts[i] for i in IDS}


@pytest.mark.parametrize("mode,backend", [("replace", "rocksdb"), ("keep", "rocksdb"), ("merge", "rocksdb"),
                                          ("merge", "hashmap")])
def test_real_flink_sees_what_each_on_existing_gives(bootstrapped, mode, backend):
    work = bootstrapped["work"]
    out = work / (f"seen-{mode}" if backend == "rocksdb" else f"seen-{mode}-hashmap")
    base = seen_in_base()
    assert base["user-0"] == 6 and base["user-1"] == 6 and base["user-5"] == 5 and base["user-6"] == 5
    expected = {**base, **SEEN_EXPECTED[mode]}
    # what we wrote, before Flink reads it: one entry per address, the base's other states untouched
    values = {e["id"]: e.get("value") for e in dump(out) if (e["function"], e["state"]) == ("restore/counter", "seen")}
    assert values == expected
    plan_path = work / "probe-plan.json"
    plan_path.write_text(json.dumps(PROBE_PLAN))
    functions = Functions(plan_path, work, f"seen-{mode}-{backend}")
    try:
        module = functions.module_yaml(work / f"seen-module-{mode}-{backend}.yaml")
        counters = probe(work, module, out, "restore/counter", IDS + ["new-user", "nobody"],
                         f"seen-{mode}-{backend}", backend)
    finally:
        functions.close()
    for i in IDS + ["new-user", "nobody"]:
        assert counters[i] == {"seen": expected.get(i), "bonus": None}, (i, counters[i])


def test_on_existing_output_has_the_same_bytes_whatever_threads(bootstrapped):
    work = bootstrapped["work"]
    one = work / "seen-merge-threads-1"
    run_cli("run", bootstrapped["seen_jobs"]["merge"], "--base", bootstrapped["base"], "--threads", "1",
            "--output", one)
    for p in (work / "seen-merge").iterdir():
        if p.name != "statefun-bootstrap.json":
            assert (one / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("mode", ["replace", "keep", "merge"])
def test_validate_base_counts_what_a_run_would_keep_replace_merge_and_add(bootstrapped, mode):
    work, base = bootstrapped["work"], bootstrapped["base"]
    job = work / f"validate-{mode}.yaml"
    job.write_text(SEEN_JOB.format(out=f"validate-{mode}", mode=mode))
    before = {p.name: p.read_bytes() for p in base.iterdir()}
    proc = run_cli("validate", job, "--base", base, "--json", "--tmp-dir", work)
    report = json.loads(proc.stdout)["base"]
    assert report["records_read"] == len(MORE_VISITS)
    assert report["states"] == [{"function": "restore/counter", "state": "seen", "on_existing": mode,
                                 **SEEN_COUNTS[mode]}]
    assert not (work / f"validate-{mode}").exists()
    assert not list(work.glob("sfb-validate-*")), "the temporary build was not removed"
    assert {p.name: p.read_bytes() for p in base.iterdir()} == before
    text = run_cli("validate", job, "--base", base).stdout
    c = SEEN_COUNTS[mode]
    assert f"restore/counter seen" in text and mode in text, text
    assert " ".join(str(c[k]) for k in ("kept", "replaced", "merged", "added")) in " ".join(text.split()), text
    # run --base reports the same counts
    summary = work / f"summary-{mode}.json"
    run_cli("run", job, "--base", base, "--summary-json", summary, "--output", work / f"validate-run-{mode}")
    state = json.loads(summary.read_text())["states"][0]
    assert {k: state[k] for k in ("on_existing", "kept", "replaced", "merged", "added")} == \
        {"on_existing": mode, **SEEN_COUNTS[mode]}


COMPRESSED_BASE = pathlib.Path(__file__).resolve().parents[2] / "savepoint" / "testdata" / "flink116-rocksdb-compressed"


def test_real_flink_restores_a_run_on_a_snapshot_compressed_base(tmp_path):
    """A base Flink took with execution.checkpointing.snapshot-compression on (savepoint/testdata/README.md:
    the same 40 messages to 7 ids, rocksdb, parallelism 2) has snappy-framed key groups: `run --base` reads
    them, writes its keyed state uncompressed (header flag 0), and the application restored from the output
    sees every address's state. `validate --base` counts on it what the uncompressed bases give."""
    build = run_bounded(["bash", str(RESTORE), "build"], timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]
    before = {p.name: p.read_bytes() for p in COMPRESSED_BASE.iterdir()}
    (tmp_path / "greetings.csv").write_text("id\n" + "".join(g + "\n" for g in GUESTS), encoding="utf-8")
    (tmp_path / "bonuses.csv").write_text("id,bonus\nuser-0,100\nuser-1,200\nnew-user,300\n")
    job = tmp_path / "job.yaml"
    job.write_text(JOB)
    run_cli("run", job, "--base", COMPRESSED_BASE, "--threads", "2", cwd=tmp_path)
    out = tmp_path / "out"
    run_cli("run", job, "--base", COMPRESSED_BASE, "--threads", "1", "--output", tmp_path / "out1", cwd=tmp_path)
    keyed = sorted(out.glob("keyed-state-functions-*"))
    assert len(keyed) == 2, sorted(p.name for p in out.iterdir())
    for p in keyed:
        assert p.read_bytes()[:5] == b"\0\0\0\x06\0", p.name  # proxy version 6, key groups not compressed
    for p in out.iterdir():
        if p.name != "statefun-bootstrap.json":
            assert (tmp_path / "out1" / p.name).read_bytes() == p.read_bytes(), p.name
    assert {p.name: p.read_bytes() for p in COMPRESSED_BASE.iterdir()} == before
    counts = collections.Counter(IDS[i % len(IDS)] for i in range(MESSAGES))
    values = {(e["function"], e["state"], e["id"]): e.get("value") for e in dump(out)}
    assert {i: values[("restore/counter", "seen", i)] for i in IDS} == dict(counts)
    assert {k[2]: v for k, v in values.items() if k[:2] == ("restore/greeter", "greeting")} == \
        {g: f"Hello {g}" for g in GUESTS}

    plan_path = tmp_path / "probe-plan.json"
    plan_path.write_text(json.dumps(PROBE_PLAN))
    functions = Functions(plan_path, tmp_path, "probe-compressed")
    try:
        module = functions.module_yaml(tmp_path / "probe-module.yaml")
        # one restore (the base's `seen` and the job's `bonus` side by side); B's greetings are checked in
        # the output above, as the other tests restore them
        counters = probe(tmp_path, module, out, "restore/counter", IDS + ["new-user", "nobody"], "counter", "rocksdb")
    finally:
        functions.close()
    bonus = {"user-0": 100, "user-1": 200, "new-user": 300}
    for i in IDS + ["new-user", "nobody"]:
        assert counters[i] == {"seen": counts.get(i), "bonus": bonus.get(i)}, i

    (tmp_path / "more-visits.jsonl").write_text("".join(json.dumps({"id": i, "n": n}) + "\n" for i, n in MORE_VISITS))
    seen_job = tmp_path / "seen-merge.yaml"
    seen_job.write_text(SEEN_JOB.format(out="validate-merge", mode="merge"))
    report = json.loads(run_cli("validate", seen_job, "--base", COMPRESSED_BASE, "--json", "--tmp-dir", tmp_path,
                                cwd=tmp_path).stdout)["base"]
    assert report["states"] == [{"function": "restore/counter", "state": "seen", "on_existing": "merge",
                                 **SEEN_COUNTS["merge"]}]
    assert not (tmp_path / "validate-merge").exists()
    assert {p.name: p.read_bytes() for p in COMPRESSED_BASE.iterdir()} == before


def test_a_damaged_snapshot_compressed_base_fails_naming_file_and_key_group(tmp_path):
    """A flipped CRC byte in a compressed key group: the run fails with Corruption naming the file and the
    key group, and writes nothing."""
    base = tmp_path / "base"
    shutil.copytree(COMPRESSED_BASE, base)
    victim = max((p for p in base.iterdir() if p.name != "_metadata"), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    at = data.index(b"\xff\x06\x00\x00sNaPpY") + 10 + 4  # the first data chunk's CRC
    data[at] ^= 0x01
    victim.write_bytes(bytes(data))
    (tmp_path / "more-visits.jsonl").write_text("".join(json.dumps({"id": i, "n": n}) + "\n" for i, n in MORE_VISITS))
    job = tmp_path / "job.yaml"
    job.write_text(SEEN_JOB.format(out="out", mode="merge"))
    proc = run_cli("run", job, "--base", base, check=False, cwd=tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "CRC mismatch" in proc.stderr, proc.stderr
    assert victim.name in proc.stderr, proc.stderr
    assert "key group" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


# --- A Kafka ingress: the restored application continues exactly after the offsets of its base -----------

KAFKA_JOB = """\
savepoint:
  path: out
  max_parallelism: 128
functions:
  restore/greeter:
    states:
      greeting: { type: io.statefun.types/string }
  restore/counter:
    states:
      seen: { type: io.statefun.types/int, on_existing: merge }
sources:
  greetings: { file: { path: greetings.csv } }
  bonuses: { file: { path: bonuses.csv } }
routes:
  - from: greetings
    to: restore/greeter
    id: "{id}"
    set: { greeting: "Hello {id}" }
  - from: bonuses
    to: restore/counter
    id: "{id}"
    merge: { seen: sum(bonus) }
"""
KAFKA_PLAN = {"states": [PROBE_PLAN["states"][0], PROBE_PLAN["states"][1]]}  # greeter's greeting, counter's seen


def kafka_ingress_yaml(path, kafka, topic):
    """module.yaml's Kafka ingress: records keyed by id go to restore/counter/<key> as restore/Visit. It starts
    from the earliest offset when it has no state, so an application that lost its offsets re-reads batch 1."""
    path.write_text("kind: io.statefun.kafka.v1/ingress\nspec:\n  id: restore/visits\n"
                    f"  address: {kafka.bootstrap}\n  consumerGroupId: restore-app-{topic}\n"
                    "  startupPosition:\n    type: earliest\n"
                    f"  topics:\n    - topic: {topic}\n      valueType: restore/Visit\n"
                    "      targets:\n        - restore/counter\n")
    return path


def serve_until_counted(work, name, modules, backend, parallelism, expected, savepoint=None, before_count=None,
                        compression=False, messages=None):
    """Runs the application (restored from `savepoint` if given) until its functions have counted
    `expected` messages (restore/Visit, and restore/Delayed ones a base left pending), calling `before_count()`
    once it runs; with `messages`, a file of visits its ingress sends to restore/counter. Then stops it with a
    canonical savepoint (snapshot-compressed with `compression`). Returns (savepoint path, messages counted when
    it stopped)."""
    plan_path = work / f"{name}-plan.json"
    plan_path.write_text(json.dumps(KAFKA_PLAN))
    functions = Functions(plan_path, work, name, count_type="restore/Visit", delayed_type="restore/Delayed")
    stop_file, ready_file = work / f"{name}.stop", work / f"{name}.ready"
    (work / f"{name}-sp").mkdir()
    (work / f"{name}-ck").mkdir()
    args = ["bash", str(RESTORE), "app", "serve", "--module", str(functions.module_yaml(work / f"{name}-module.yaml"))]
    for m in modules:
        args += ["--module", str(m)]
    args += ["--parallelism", str(parallelism), "--state-backend", backend, "--checkpoint-dir", str(work / f"{name}-ck"),
             "--inline-threshold", "0", "--ready-file", str(ready_file), "--stop-file", str(stop_file),
             "--savepoint-dir", str(work / f"{name}-sp"), "--savepoint-mode", "trigger"]
    if compression:
        args += ["--snapshot-compression", "true"]
    if messages:
        args += ["--messages", str(messages), "--messages-to", "restore/counter", "--messages-type", "restore/Visit"]
    if savepoint:
        args += ["--savepoint", str(savepoint)]
    app = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 180
        while not ready_file.exists():
            assert app.poll() is None, f"the application ended:\n{app.stderr.read()[-5000:]}"
            assert time.time() < deadline, "the application did not start"
            time.sleep(0.2)
        if before_count:
            before_count()
        while functions.counted() < expected:
            assert app.poll() is None, f"the application ended:\n{app.stderr.read()[-5000:]}"
            assert time.time() < deadline, f"only {functions.counted()} of {expected} messages counted"
            time.sleep(0.2)
        time.sleep(2)  # a message delivered twice (or re-read) would arrive in this time
        stop_file.touch()
        out, err = app.communicate(timeout=180)
        counted = functions.counted()
    finally:
        stop_group(app)
        functions.close()
    assert app.returncode == 0, err[-5000:]
    lines = [l for l in out.splitlines() if l.startswith("savepoint: ")]
    assert lines, out + err[-3000:]
    return pathlib.Path(lines[0][len("savepoint: "):].removeprefix("file:")), counted


# Once on RocksDB, once on hashmap with snapshot compression on (the base's key groups snappy-framed).
@pytest.mark.parametrize("backend,compression,restore_parallelism", [("rocksdb", False, 3), ("hashmap", True, 3)])
def test_kafka_ingress_resumes_exactly_after_the_base_offsets(kafka, tmp_path, backend, compression,
                                                              restore_parallelism):
    """A statefun application with a module.yaml Kafka ingress runs from nothing and counts batch 1 into A's
    `seen` (restore/counter), is stopped with a canonical savepoint (the base, RocksDB); `run --base` adds
    B's `greeting` (restore/greeter) and merges a bonus into A's `seen`; the application restored from the
    output (at another parallelism) consumes batch 2 and is stopped with a savepoint again. Flink's final
    savepoint holds, per address, batch 1 + bonus + batch 2 for A (so no record of batch 1 was read again and
    none of batch 2 was lost), B's greetings, and the counts of addresses neither batch 2 nor the job touched.
    Two visits of batch 1 also sent their address a message 15 s later: the base holds their timers pending
    (RocksDB timers on RocksDB, heap ones on hashmap), and each fires once in the restored application."""
    build = run_bounded(["bash", str(RESTORE), "build"], timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]
    topic = kafka.create_topic(f"visits-{tmp_path.name}", 2)
    batch1 = [f"user-{i % 6}" for i in range(30)]                          # user-0..5, 5 each
    batch2 = [f"user-{i % 3}" for i in range(9)] + ["late-1", "late-2"]    # user-0..2 3 each, two new ids
    delayed = {0, 7}  # batch 1's visits to user-0 and user-1 that send their address a message 15 s later
    def produce(ids, first):
        kafka.produce([{"topic": topic, "partition": n % 2, "key": i,
                        "value": json.dumps({"id": i, "n": first + n, **({"delay_ms": 15000} if first + n in delayed
                                                                          else {})})}
                       for n, i in enumerate(ids)])
    produce(batch1, 0)
    ingress = kafka_ingress_yaml(tmp_path / "ingress.yaml", kafka, topic)
    base, counted1 = serve_until_counted(tmp_path, "first", [ingress], backend, 2, len(batch1),
                                         compression=compression)
    assert counted1 == len(batch1)
    assert base.is_dir()
    # keyed-state files open with the proxy's version 6 and the key groups' compression flag
    flags = {p.read_bytes()[4] for p in base.iterdir() if p.read_bytes()[:4] == b"\0\0\0\x06"}
    assert flags == ({1} if compression else {0}), flags
    timers = "_timer_state/processing_delayed-messages-timer-service"
    pending = {s["name"]: s["entries"] for s in json.loads(run_cli("inspect", base, "--json").stdout)["states"]}
    assert pending.get(timers) == len(delayed), f"not {len(delayed)} timers pending in the base: {pending}"

    guests = ["guest-0", "guest-1", "user-5"]
    bonus = {"user-0": 100, "user-4": 40, "bonus-only": 7}
    (tmp_path / "greetings.csv").write_text("id\n" + "".join(g + "\n" for g in guests))
    (tmp_path / "bonuses.csv").write_text("id,bonus\n" + "".join(f"{i},{b}\n" for i, b in bonus.items()))
    job = tmp_path / "job.yaml"
    job.write_text(KAFKA_JOB)
    base_files = {p.name: p.read_bytes() for p in base.iterdir()}
    run_cli("run", job, "--base", base, "--threads", "2")
    assert {p.name: p.read_bytes() for p in base.iterdir()} == base_files
    # the ingress's operator state (its Kafka offsets) is carried over as it was
    info, merged = (json.loads(run_cli("inspect", p, "--json").stdout) for p in (base, tmp_path / "out"))
    assert merged["operators"] == info["operators"]

    final, counted2 = serve_until_counted(tmp_path, "second", [ingress], backend, restore_parallelism,
                                          len(batch2) + len(delayed), savepoint=tmp_path / "out",
                                          before_count=lambda: produce(batch2, 100), compression=compression)
    # batch 2 and the delayed messages the base held pending (they fire once the restored job runs)
    assert counted2 == len(batch2) + len(delayed), "the restored application read more than batch 2"
    values = collections.defaultdict(dict)
    for e in dump(final):
        values[(e.get("function"), e.get("state"))][e.get("id")] = e.get("value")
    one, two = collections.Counter(batch1), collections.Counter(batch2)
    one.update(batch1[n] for n in delayed)
    expected = {i: one[i] + two[i] + bonus.get(i, 0) for i in set(one) | set(two) | set(bonus)}
    assert values[("restore/counter", "seen")] == expected
    assert expected["user-3"] == 5 and expected["user-5"] == 5  # untouched by batch 2 and the job
    assert values[("restore/greeter", "greeting")] == {g: f"Hello {g}" for g in guests}


DELAYED = (0, 1, 9)  # visits to user-0, user-1, user-2 that also send their address a delayed message


def test_a_base_with_pending_heap_timers_is_carried_over_and_they_fire_after_the_restore(tmp_path):
    """RocksDB with state.backend.rocksdb.timer-service.factory: HEAP: a canonical savepoint still holds the
    timer queues (statefun's delayed-message timer services) as keyed states of functions_uid1, which the
    output carries over. Three of the base's visits sent their address a message 25 s later
    (context.sendAfter), so the base holds three pending processing-time timers and statefun's buffered delayed
    messages. The application restored from the output (RocksDB timers) claims every state, and its functions
    count each delayed message exactly once on top of A's counts from the base; its final savepoint has no
    timer left, B's greetings, and the count of every address."""
    build = run_bounded(["bash", str(RESTORE), "build"], timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]
    base = take_base(tmp_path, "rocksdb", 0, timer_service="heap", delayed=DELAYED, delay_ms=25000)
    info = json.loads(run_cli("inspect", base, "--json").stdout)
    timers = {"_timer_state/processing_delayed-messages-timer-service", "_timer_state/event_delayed-messages-timer-service"}
    names = [s["name"] for s in info["states"]]
    assert timers <= set(names), names
    # the setting took effect: heap queues are written after all of RocksDB's column families (with RocksDB
    # timers, as in savepoint/testdata/flink116-rocksdb, they sit between statefun's states and the function's)
    assert set(names[-2:]) == timers, names
    base_states = {s["name"]: s["entries"] for s in info["states"]}
    assert base_states["_timer_state/processing_delayed-messages-timer-service"] == len(DELAYED), \
        "the delayed messages fired before the base was taken (or were never sent)"
    (tmp_path / "greetings.csv").write_text("id\n" + "".join(g + "\n" for g in GUESTS), encoding="utf-8")
    (tmp_path / "bonuses.csv").write_text("id,bonus\nuser-0,100\nuser-1,200\nnew-user,300\n")
    job = tmp_path / "job.yaml"
    job.write_text(JOB)
    run_cli("run", job, "--base", base)
    merged = json.loads(run_cli("inspect", tmp_path / "out", "--json").stdout)
    assert merged["operators"] == info["operators"]
    assert {s["name"]: s["entries"] for s in merged["states"]} == \
        {**base_states, "restore.greeter.greeting": len(GUESTS), "restore.counter.bonus": 3}

    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps({"id": i}) + "\n" for i in ("user-2", "user-6")))
    final, counted = serve_until_counted(tmp_path, "restored", [], "rocksdb", 2, len(DELAYED) + 2,
                                         savepoint=tmp_path / "out", messages=more)
    assert counted == len(DELAYED) + 2, "a delayed message was delivered twice"
    after = {s["name"]: s["entries"] for s in json.loads(run_cli("inspect", final, "--json").stdout)["states"]}
    assert after.get("_timer_state/processing_delayed-messages-timer-service", 0) == 0, after
    values = collections.defaultdict(dict)
    for e in dump(final):
        values[(e.get("function"), e.get("state"))][e.get("id")] = e.get("value")
    expected = collections.Counter(IDS[i % len(IDS)] for i in range(MESSAGES))
    expected.update(IDS[i % len(IDS)] for i in DELAYED)
    expected.update(["user-2", "user-6"])
    assert values[("restore/counter", "seen")] == dict(expected)
    assert values[("restore/greeter", "greeting")] == {g: f"Hello {g}" for g in GUESTS}
