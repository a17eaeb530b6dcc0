"""Bad input gets a clear error naming what, where and the fix; the run fails and leaves no savepoint.

Each case writes a small job, runs it, and checks the exit code, the message (its location and its
hint), and that neither the savepoint nor a staging directory is left behind.
"""
import pathlib

import pytest

from conftest import run_cli

BASE_JOB = """
savepoint: {{ path: out/sp, max_parallelism: {max_p} }}
functions:
  example/greeter:
    states:
      seen_count: {{ type: {type} }}
sources:
  users: {{ file: {{ path: users.{ext} }} }}
routes:
  - from: users
    to: example/greeter
    id: "{id}"
    set: {{ seen_count: "{value}" }}
"""

USERS_CSV = "user_id,name,visits\nalice,Alice,3\nbob,Bob,1\n"


def write_job(tmp_path, job=None, data=USERS_CSV, ext="csv", **fmt):
    params = dict(max_p=128, type="io.statefun.types/int", ext=ext, id="{user_id}", value="{visits}")
    params.update(fmt)
    (tmp_path / f"users.{ext}").write_text(data, encoding="utf-8")
    path = tmp_path / "job.yaml"
    path.write_text(job if job is not None else BASE_JOB.format(**params), encoding="utf-8")
    return path


def assert_fails(tmp_path, job_path, *needles, code=None, extra=()):
    proc = run_cli("run", job_path, "--threads", "2", *extra, check=False)
    assert proc.returncode != 0, proc.stdout
    if code is not None:
        assert proc.returncode == code, proc.stderr
    for n in needles:
        assert n in proc.stderr, f"expected {n!r} in:\n{proc.stderr}"
    out = tmp_path / "out"
    leftovers = list(out.iterdir()) if out.exists() else []
    assert leftovers == [], f"left behind: {leftovers}"
    return proc.stderr


def test_unknown_column_in_template(tmp_path):
    job = write_job(tmp_path, id="{user_idd}")
    err = assert_fails(tmp_path, job, "job.yaml:", "column 'user_idd'", "columns: user_id, name, visits",
                       "fix: did you mean 'user_id'?", code=2)
    assert "route #1 (users -> example/greeter)" in err


def test_unparsable_number_for_int_state(tmp_path):
    job = write_job(tmp_path, data=USERS_CSV + "carol,Carol,lots\n")
    assert_fails(tmp_path, job, "users.csv:4", "state seen_count", "'lots' (text) is not a 32-bit integer (int)",
                 "fix:", code=1)


def test_number_out_of_range_for_int_state(tmp_path):
    job = write_job(tmp_path, data=USERS_CSV + "carol,Carol,3000000000\n")
    assert_fails(tmp_path, job, "users.csv:4", "out of range for a 32-bit integer")


def test_null_id(tmp_path):
    job = write_job(tmp_path, data=USERS_CSV + ",Nobody,1\n")
    assert_fails(tmp_path, job, "users.csv:4", "the id template '{user_id}' gives NULL", "fix:", code=1)


def test_empty_id_in_jsonl(tmp_path):
    data = '{"user_id": "alice", "visits": 1}\n{"user_id": "", "visits": 2}\n'
    job = write_job(tmp_path, data=data, ext="jsonl")
    assert_fails(tmp_path, job, "users.jsonl:2", "gives an empty id", "fix:")


def test_missing_field_in_jsonl_record(tmp_path):
    data = '{"user_id": "alice", "visits": 1}\n{"user": "bob", "visits": 2}\n'
    job = write_job(tmp_path, data=data, ext="jsonl")
    assert_fails(tmp_path, job, "users.jsonl:2", "the record has no field 'user_id'")


def test_malformed_csv_line(tmp_path):
    job = write_job(tmp_path, data=USERS_CSV + "carol,Carol\n")
    assert_fails(tmp_path, job, "users.csv:4", "the line has 2 fields but the header has 3", "fix:")


def test_unclosed_quote_in_csv(tmp_path):
    job = write_job(tmp_path, data=USERS_CSV + 'carol,"Carol,3\ndave,Dave,1\n')
    assert_fails(tmp_path, job, "users.csv:4", "quoted field", "multiline: true")


def test_malformed_json_line(tmp_path):
    data = '{"user_id": "alice", "visits": 1}\n{"user_id": "bob", "visits": }\n'
    job = write_job(tmp_path, data=data, ext="jsonl")
    assert_fails(tmp_path, job, "users.jsonl:2", "parse error", "one complete JSON object")


def test_json_line_that_is_not_an_object(tmp_path):
    job = write_job(tmp_path, data='[1, 2, 3]\n', ext="jsonl")
    assert_fails(tmp_path, job, "users.jsonl:1", "is a JSON array, not an object")


def test_unknown_typename(tmp_path):
    job = write_job(tmp_path, type="io.statefun.types/integer")
    assert_fails(tmp_path, job, "job.yaml:6", "unknown typename 'io.statefun.types/integer'",
                 "io.statefun.types has int, long", code=2)


def test_custom_type_without_codec(tmp_path):
    job = write_job(tmp_path, type="example/Profile")
    assert_fails(tmp_path, job, "custom type example/Profile but no codec", "add codec: json, raw or protobuf", code=2)


@pytest.mark.parametrize("max_p", [0, 32769, -5])
def test_max_parallelism_out_of_range(tmp_path, max_p):
    job = write_job(tmp_path, max_p=max_p)
    assert_fails(tmp_path, job, "job.yaml:2", "savepoint.max_parallelism", "out of range 1..32768",
                 "application's max parallelism", code=2)


def test_parallelism_above_max_parallelism(tmp_path):
    job = write_job(tmp_path, max_p=4)
    assert_fails(tmp_path, job, "parallelism 8 is out of range 1..4", code=2, extra=("--parallelism", "8"))


def test_typo_in_top_level_key(tmp_path):
    job = write_job(tmp_path, job=BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv",
                                                  id="{user_id}", value="{visits}").replace("sources:", "sourcs:"))
    assert_fails(tmp_path, job, "job.yaml:", "unknown key 'sourcs'", "did you mean 'sources'?", code=2)


def test_typo_in_route_key(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace("set:", "sett:"))
    assert_fails(tmp_path, job, "job.yaml:13", "unknown key 'sett' in route #1", "did you mean 'set'?", code=2)


def test_unknown_state_in_route(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace("set: { seen_count:", "set: { seen_cuont:"))
    assert_fails(tmp_path, job, "function example/greeter has no state 'seen_cuont'", "did you mean 'seen_count'?",
                 code=2)


def test_merge_rule_typo(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace('set: { seen_count: "{visits}" }', "merge: { seen_count: cnt }"))
    assert_fails(tmp_path, job, "unknown merge rule 'cnt'", "count, sum(field)", code=2)


def test_sum_on_string_state(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/string", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace('set: { seen_count: "{visits}" }', "merge: { seen_count: sum(visits) }"))
    assert_fails(tmp_path, job, "sum needs a numeric state", code=2)


def test_yaml_syntax_error(tmp_path):
    job = write_job(tmp_path, job="savepoint: { path: out/sp\nfunctions: [\n")
    assert_fails(tmp_path, job, "job.yaml:", "YAML syntax error", code=2)


def test_missing_environment_variable(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace("path: users.csv", "path: \"${SFB_TEST_UNSET_DIR}/users.csv\""))
    assert_fails(tmp_path, job, "environment variable SFB_TEST_UNSET_DIR is not set", "export SFB_TEST_UNSET_DIR=",
                 code=2)


def test_missing_input_file(tmp_path):
    text = BASE_JOB.format(max_p=128, type="io.statefun.types/int", ext="csv", id="{user_id}", value="{visits}")
    job = write_job(tmp_path, job=text.replace("users.csv", "nowhere.csv"))
    assert_fails(tmp_path, job, "source users", "nowhere.csv", "No such file")


def test_existing_output_is_refused_without_overwrite(tmp_path):
    job = write_job(tmp_path)
    run_cli("run", job)
    before = sorted(p.name for p in (tmp_path / "out" / "sp").iterdir())
    proc = run_cli("run", job, check=False)
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--overwrite" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "sp").iterdir()) == before
    run_cli("run", job, "--overwrite")


def test_overwrite_refuses_a_directory_that_is_not_a_savepoint(tmp_path):
    job = write_job(tmp_path)
    (tmp_path / "out" / "sp").mkdir(parents=True)
    (tmp_path / "out" / "sp" / "precious.txt").write_text("keep me")
    proc = run_cli("run", job, "--overwrite", check=False)
    assert proc.returncode == 2
    assert "is not a savepoint (no _metadata); refusing to replace it" in proc.stderr
    assert (tmp_path / "out" / "sp" / "precious.txt").read_text() == "keep me"


def test_unknown_option_and_command_teach_usage(tmp_path):
    proc = run_cli("run", "job.yaml", "--paralelism", "2", check=False)
    assert proc.returncode == 2 and "unknown option --paralelism" in proc.stderr and "--parallelism N" in proc.stderr
    proc = run_cli("frobnicate", check=False)
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr and "statefun-bootstrap run" in proc.stderr


def test_corrupted_savepoint_is_an_error_not_a_crash(tmp_path):
    job = write_job(tmp_path)
    run_cli("run", job)
    sp = tmp_path / "out" / "sp"
    data = bytearray((sp / "keyed-state-functions-0").read_bytes())
    data[len(data) // 2:] = b"\xff" * (len(data) - len(data) // 2)
    (sp / "keyed-state-functions-0").write_bytes(bytes(data))
    proc = run_cli("dump", sp, check=False)
    assert proc.returncode == 1 and "error:" in proc.stderr and "keyed-state-functions-0" in proc.stderr
    (sp / "_metadata").write_bytes(b"not a savepoint")
    proc = run_cli("inspect", sp, check=False)
    assert proc.returncode == 1 and "bad magic number" in proc.stderr


def test_json_number_out_of_range(tmp_path):
    # Found by the record-parser fuzzer: a number too large for a double must be a bad record, not a crash.
    data = '{"user_id": "alice", "visits": 1}\n{"user_id": "bob", "visits": 17e0000400000}\n'
    job = write_job(tmp_path, data=data, ext="jsonl")
    assert_fails(tmp_path, job, "users.jsonl:2", "number overflow", "one complete JSON object", code=1)
