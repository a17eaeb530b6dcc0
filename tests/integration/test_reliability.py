"""Nothing half-written: a run killed at any moment leaves either no savepoint or a complete one, a full
disk (here: a file-size limit) fails with a message naming the path, and leftovers of a crashed run are
cleaned up by the next one."""
import json
import os
import signal
import subprocess
import time

import pytest

import cases
from comparison import assert_entries_equal
from conftest import CLI, dump, plan, run_cli

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
            # The next run removes what the killed one left and writes a complete savepoint.
            rerun = run_cli("run", job, "--output", out, "--quiet")
            assert "left by an earlier run" in rerun.stderr or not any(out.parent.iterdir())
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
