"""A real statefun 3.3.0 application starts from a savepoint our CLI wrote, and its functions see the state.

tests/restore (see its README.md) runs StatefulFunctionsJob on a Flink 1.16.2 MiniCluster, restored from the
savepoint (execution.savepoint.path, unclaimed state not allowed), with a module.yaml whose HTTP endpoint
points at a remote function served by statefun's Java SDK in a separate JVM. The function declares the job
spec's states as SDK ValueSpecs (same names, typenames and TTL presence), gets one message per test
address, and reports every value it sees to an egress that the harness collects.

The savepoint is laid out for parallelism 2; the application runs at parallelism 1 and 3 (RocksDB, as the
statefun image) and 4 (heap backend): Flink redistributes the key groups. Max parallelism is 128 on both
sides.
"""
import csv
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import ROOT, dump, plan, run_cli

RESTORE = ROOT / "tests" / "restore" / "restore.sh"
FUNCTION = "restore/probe"
SAVEPOINT_PARALLELISM = 2
RUNS = [(1, "rocksdb"), (3, "rocksdb"), (4, "hashmap")]

JOB = """\
savepoint:
  path: savepoint
  max_parallelism: 128
  parallelism: {parallelism}
functions:
  restore/probe:
    states:
      name:      {{ type: io.statefun.types/string }}
      vip:       {{ type: io.statefun.types/bool }}
      score:     {{ type: io.statefun.types/double }}
      profile:   {{ type: restore/Profile, codec: json }}
      visits:    {{ type: io.statefun.types/int }}
      total:     {{ type: io.statefun.types/long }}
      last_seen: {{ type: io.statefun.types/long, expire_after_write: 1h }}
      flash:     {{ type: io.statefun.types/string, expire_after_write: 1s }}
sources:
  accounts: {{ file: {{ path: accounts.csv }} }}
  events:   {{ file: {{ path: events.jsonl }} }}
routes:
  - from: accounts
    to: restore/probe
    id: "{{id}}"
    set:
      name: "{{name}}"
      vip: "{{vip}}"
      score: "{{score}}"
      profile: {{ name: "{{name}}", tier: "{{tier}}" }}
  - from: events
    to: restore/probe
    id: "{{user}}"
    merge:
      visits: count
      total: sum(amount)
      last_seen: max(ts)
      flash: last(note)
"""

STATES = ["name", "vip", "score", "profile", "visits", "total", "last_seen", "flash"]


def make_data(directory):
    """Accounts and events, and the state every address must end up with (a model independent of the tool)."""
    accounts = []
    for i in range(40):
        accounts.append({"id": f"user-{i:03d}", "name": f"User {i}", "vip": "true" if i % 3 == 0 else "false",
                         "score": str(i * 0.25 - 3.5), "tier": ["gold", "silver", "bronze"][i % 3]})
    # non-ASCII and non-BMP ids (key groups over UTF-16 code units), CSV quoting, long text
    accounts.append({"id": "Zoë", "name": "Zoë Ä", "vip": "true", "score": "0.1", "tier": "platinum"})
    accounts.append({"id": "中文", "name": "中文 名字", "vip": "false", "score": "1e-7", "tier": "gold"})
    accounts.append({"id": "😀", "name": 'O"Brien, Pat 😀', "vip": "true", "score": "12345.678", "tier": "x" * 300})
    with open(directory / "accounts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "name", "vip", "score", "tier"])
        w.writeheader()
        w.writerows(accounts)

    events = []
    users = [a["id"] for a in accounts[::2]] + ["guest-1", "guest-2", "😀"]  # some without an account row
    for n in range(400):
        user = users[(n * 7) % len(users)]
        amount = 3_000_000_000 + n if n % 50 == 0 else n % 97  # sums beyond 32 bits
        events.append({"user": user, "amount": amount, "ts": 1_700_000_000_000 + n * 1000, "note": f"note {n}"})
    with open(directory / "events.jsonl", "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")

    expected = {}
    for a in accounts:
        s = expected.setdefault(a["id"], dict.fromkeys(STATES))
        s.update(name=a["name"], vip=a["vip"] == "true", score=float(a["score"]),
                 profile={"name": a["name"], "tier": a["tier"]})
    for e in events:
        s = expected.setdefault(e["user"], dict.fromkeys(STATES))
        s["visits"] = (s["visits"] or 0) + 1
        s["total"] = (s["total"] or 0) + e["amount"]
        s["last_seen"] = max(s["last_seen"] or 0, e["ts"])
        s["flash"] = e["note"]
    return expected


def run_bounded(args, timeout, **kw):
    """Runs a command in its own process group; on timeout the whole group (JVMs included) is stopped."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        out, err = proc.communicate()
        raise AssertionError(f"{' '.join(map(str, args))} timed out after {timeout}s:\n{err[-5000:]}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def stop_group(proc, grace=20):
    """SIGTERM to the process group we started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


class ProbeFunctions:
    """The remote probe function server (statefun Java SDK), declaring the plan's states."""

    def __init__(self, plan_path, workdir):
        self.port_file = pathlib.Path(workdir) / f"{pathlib.Path(plan_path).stem}.port"
        self.log = open(pathlib.Path(workdir) / f"{pathlib.Path(plan_path).stem}.functions.log", "w+")
        self.proc = subprocess.Popen(["bash", str(RESTORE), "probe-functions", "--plan", str(plan_path),
                                      "--port-file", str(self.port_file)],
                                     stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        deadline = time.time() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise AssertionError("the probe function server did not start:\n" + self.output())
            time.sleep(0.1)
        self.port = int(self.port_file.read_text().strip())

    def module_yaml(self, path):
        pathlib.Path(path).write_text(
            "kind: io.statefun.endpoints.v2/http\n"
            "spec:\n"
            "  functions: restore/*\n"
            f"  urlPathTemplate: http://127.0.0.1:{self.port}/{{function.name}}\n"
            "  transport:\n"
            "    type: io.statefun.transports.v1/async\n")
        return path

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self):
        stop_group(self.proc, grace=10)
        self.log.close()


def probe(workdir, module, savepoint, ids, runs, timeout=90):
    ids_file = pathlib.Path(workdir) / "ids.txt"
    ids_file.write_text("".join(i + "\n" for i in ids), encoding="utf-8")
    args = ["bash", str(RESTORE), "app", "probe", "--module", str(module), "--savepoint", str(savepoint),
            "--function", FUNCTION, "--ids", str(ids_file), "--max-parallelism", "128", "--timeout", str(timeout)]
    outs = {}
    for parallelism, backend in runs:
        out = pathlib.Path(workdir) / f"seen-p{parallelism}-{backend}.jsonl"
        args += ["--run", f"{parallelism}:{backend}:{out}"]
        outs[(parallelism, backend)] = out
    proc = run_bounded(args, timeout=120 + timeout * len(runs))
    seen = {}
    for key, out in outs.items():
        if out.exists():
            seen[key] = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    return proc, seen


@pytest.fixture(scope="module")
def restored(tmp_path_factory):
    work = tmp_path_factory.mktemp("restore")
    expected = make_data(work)
    job = work / "job.yaml"
    job.write_text(JOB.format(parallelism=SAVEPOINT_PARALLELISM), encoding="utf-8")
    run_cli("run", job)
    savepoint = work / "savepoint"
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan(job)))
    # build the Maven project outside the timed runs (first use downloads the artifacts)
    build = run_bounded(["bash", str(RESTORE), "build"], timeout=1800)
    assert build.returncode == 0, build.stderr[-5000:]

    no_state = ["nobody", "user-999", "zoë"]  # no bootstrapped state (zoë: case matters)
    ids = sorted(expected) + no_state
    functions = ProbeFunctions(plan_path, work)
    try:
        proc, seen = probe(work, functions.module_yaml(work / "module.yaml"), savepoint, ids, RUNS)
        log = functions.output()
    finally:
        functions.close()
    assert proc.returncode == 0, f"the restored application failed:\n{proc.stderr[-8000:]}\n{log[-3000:]}"
    return {"work": work, "job": job, "savepoint": savepoint, "plan": plan_path, "expected": expected,
            "no_state": no_state, "ids": ids, "seen": seen, "stderr": proc.stderr}


def values(report):
    """The report's states, with the JSON-codec value parsed."""
    states = dict(report["states"])
    if states["profile"] is not None:
        states["profile"] = json.loads(states["profile"])
    return states


@pytest.mark.parametrize("parallelism,backend", RUNS)
def test_every_address_reports_once(restored, parallelism, backend):
    seen = restored["seen"][(parallelism, backend)]
    assert sorted(seen) == sorted(restored["ids"])
    assert all(r["function"] == FUNCTION for r in seen.values())


@pytest.mark.parametrize("parallelism,backend", RUNS)
def test_every_bootstrapped_value_arrives_intact(restored, parallelism, backend):
    seen = restored["seen"][(parallelism, backend)]
    for address, want in restored["expected"].items():
        got = values(seen[address])
        want = dict(want, flash=None)  # 1s TTL: expired by now, see below
        assert got == want, f"{address} at parallelism {parallelism} ({backend})"


@pytest.mark.parametrize("parallelism,backend", RUNS)
def test_ttl_state_is_alive_and_expired_one_is_not(restored, parallelism, backend):
    seen = restored["seen"][(parallelism, backend)]
    with_events = [a for a, s in restored["expected"].items() if s["last_seen"] is not None]
    assert len(with_events) > 20
    for address in with_events:
        # expire_after_write: 1h, clock started when the savepoint was written: still alive
        assert seen[address]["states"]["last_seen"] == restored["expected"][address]["last_seen"]
        # expire_after_write: 1s, written at the same time: Flink no longer returns it
        assert seen[address]["states"]["flash"] is None


@pytest.mark.parametrize("parallelism,backend", RUNS)
def test_address_without_bootstrapped_state_sees_empty_state(restored, parallelism, backend):
    seen = restored["seen"][(parallelism, backend)]
    for address in restored["no_state"]:
        assert seen[address]["states"] == dict.fromkeys(STATES), address


def test_the_savepoint_holds_what_the_function_saw(restored):
    """What arrived is what the tool wrote (dump), and the model above is what the tool wrote."""
    entries = dump(restored["savepoint"], restored["job"])
    held = {}
    for e in entries:
        held.setdefault(e["id"], dict.fromkeys(STATES))[e["state"]] = e["value"]
    assert held == restored["expected"]
    # the flash values exist in the savepoint; only their TTL hides them from the application
    assert sum(1 for e in entries if e["state"] == "flash") > 20


def test_rescaling_redistributes_key_groups(restored):
    """The savepoint has 2 key-group files, the runs 1, 3 and 4 subtasks; addresses come from both files."""
    inspect = json.loads(run_cli("inspect", restored["savepoint"], "--json").stdout)
    text = json.dumps(inspect)
    assert '"max_parallelism": 128' in text
    files = [p for p in restored["savepoint"].iterdir() if p.name not in ("_metadata", "statefun-bootstrap.json")]
    assert len(files) == SAVEPOINT_PARALLELISM
    key_groups = {e["key_group"] for e in dump(restored["savepoint"], restored["job"])}
    assert any(k < 64 for k in key_groups) and any(k >= 64 for k in key_groups)
    assert {p for p, _ in RUNS} & {SAVEPOINT_PARALLELISM} == set()
    for parallelism, backend in RUNS:
        assert f"parallelism {parallelism}, max parallelism 128, {backend}): restored and running" in restored["stderr"]


def test_a_function_whose_ttl_differs_from_the_savepoint_is_refused(restored):
    """The check has teeth: a function declaring last_seen without its TTL makes Flink refuse the state."""
    work = restored["work"]
    bad = json.loads(restored["plan"].read_text())
    for s in bad["states"]:
        if s["state"] == "last_seen":
            s["ttl"] = None
    bad_plan = work / "plan-no-ttl.json"
    bad_plan.write_text(json.dumps(bad))
    functions = ProbeFunctions(bad_plan, work)
    try:
        proc, _ = probe(work, functions.module_yaml(work / "module-no-ttl.yaml"), restored["savepoint"],
                        ["user-000"], [(1, "rocksdb")], timeout=60)
    finally:
        functions.close()
    assert proc.returncode == 1, proc.stderr[-5000:]
    assert "StateMigrationException" in proc.stderr and "incompatible" in proc.stderr
