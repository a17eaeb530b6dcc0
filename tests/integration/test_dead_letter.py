"""Bad records and the dead-letter file (errors: { dead_letter, max_bad_records }), with file sources.

Every way a record can be rejected is in one input: each rejected record must be a dead-letter line
naming its source, line and reason with the raw input or the record's fields, every good record must be
in the savepoint, and records read = records routed + records dead-lettered. The PostgreSQL and Kafka
rejection paths are in test_postgres.py and test_kafka.py.
"""
import base64
import json
import pathlib

from conftest import dump, run_cli

FUNCTIONS = """
functions:
  ex/user:
    states:
      visits: { type: io.statefun.types/int }
      name: { type: io.statefun.types/string }
      profile: { type: example/profile, codec: json }
"""

# (line content, good?, stage, what the error says): header is line 1, so entry i is on line i + 2.
CSV_LINES = [
    (b"u1,Ann,3,{}", True, None, None),
    (b"u2,Bo,4", False, "parse", "the line has 3 fields but the header has 4"),
    (b'u3,"Cy"x,4,{}', False, "parse", "unexpected character 'x' after a closing quote"),
    (b'u4,D"i,4,{}', False, "parse", "a quote character appears inside an unquoted field"),
    (b'u5,"Ed,4,{}', False, "parse", "a quoted field contains a line break"),
    (b"u6,Fay,not-a-number,{}", False, "route", "value 'not-a-number' (text) is not a 32-bit integer"),
    (b"u7,Gil,99999999999,{}", False, "route", "out of range"),
    (b",Hal,5,{}", False, "route", "the id template '{id}' gives NULL"),
    (b"u9,\xff\xfeIvy,5,{}", False, "route", "is not UTF-8 text"),
    (b'u10,Jo,5,"{""a"": 1"', False, "route", "is not JSON"),
    (b"u11,Kim,,{}", True, None, None),  # NULL visits: the state is just not set
    (b'u12,"Lu, Jr.",12,"{""a"": [1, 2]}"', True, None, None),
    (b"\xc3\xa9\xc3\xa9,\xc3\x89lo\xc3\xafse,13,{}", True, None, None),  # non-ASCII id and name
    # messages quote input as written, escaping only control characters and bytes that are not UTF-8
    (b'u14,"Zo"\xc3\xab,4,{}', False, "parse", "unexpected character '\u00eb' after a closing quote"),
    (b"u15,Zo\xc3\xab,Zo\xc3\xab,{}", False, "route", "value 'Zo\u00eb' (text) is not a 32-bit integer"),
    (b"u16,Zo,Zo\xeb,{}", False, "route", "value 'Zo\\xeb' (text) is not a 32-bit integer"),
]

JSONL_LINES = [
    (b'{"id": "j1", "visits": 1}', True, None, None),
    (b'{"id": "j2", "visits": 2', False, "parse", "parse error"),
    (b'["j3", 3]', False, "parse", "the line is a JSON array, not an object"),
    (b'{"id": "j4", "visits": 1e999}', False, "parse", "number overflow"),
    (b'{"id": "j5", "visits": true}', False, "route", "is not a 32-bit integer"),
    (b'{"id": "", "visits": 6}', False, "route", "gives an empty id"),
    (b'{"name": "no id at all", "visits": 7}', False, "route", "the record has no field 'id'"),
    (b'{"id": "j8", "visits": 8}', True, None, None),
    (b'{"id": "j9", "visits": Zo\xc3\xab}', False, "parse", "invalid literal; last read: '\"visits\": Z'"),
    (b'{"id": "j10", "visits": "Zo\xeb"}', False, "parse", "ill-formed UTF-8 byte; last read: '\"Zo\\xeb\"'"),
]


def write_inputs(tmp_path):
    csv = tmp_path / "users.csv"
    csv.write_bytes(b"id,name,visits,profile\n" + b"\n".join(l for l, *_ in CSV_LINES) + b"\n")
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_bytes(b"\n".join(l for l, *_ in JSONL_LINES) + b"\n")
    return csv, jsonl


def write_job(tmp_path, errors):
    csv, jsonl = write_inputs(tmp_path)
    job = tmp_path / "job.yaml"
    job.write_text(f"""
savepoint: {{ path: {tmp_path / 'savepoint'}, max_parallelism: 128, parallelism: 2 }}
{errors}
{FUNCTIONS}
sources:
  users: {{ file: {{ path: {csv} }} }}
  events: {{ file: {{ path: {jsonl} }} }}
routes:
  - from: users
    to: ex/user
    id: "{{id}}"
    set: {{ visits: "{{visits}}", name: "{{name}}", profile: "{{profile}}" }}
  - from: events
    to: ex/user
    id: "{{id}}"
    merge: {{ visits: "sum(visits)" }}
""")
    return job, tmp_path / "savepoint"


def raw_text(value):
    return base64.b64decode(value["base64"]) if isinstance(value, dict) else value.encode()


def test_every_bad_record_is_dead_lettered_and_every_good_one_is_kept(tmp_path):
    dead_letter = tmp_path / "bad.jsonl"
    job, sp = write_job(tmp_path, f"errors: {{ dead_letter: {dead_letter}, max_bad_records: 100 }}")
    summary = tmp_path / "summary.json"
    proc = run_cli("run", job, "--quiet", "--threads", "2", "--summary-json", summary)

    lines = [json.loads(l) for l in dead_letter.read_text(encoding="utf-8").splitlines()]
    by_position = {l["position"]: l for l in lines}
    assert len(by_position) == len(lines), "a record was dead-lettered twice"
    expected_bad = {}
    for name, records in (("users.csv", CSV_LINES), ("events.jsonl", JSONL_LINES)):
        first_line = 2 if name.endswith(".csv") else 1
        for i, (content, good, stage, says) in enumerate(records):
            if not good:
                expected_bad[f"{tmp_path / name}:{i + first_line}"] = (content, stage, says)
    assert set(by_position) == set(expected_bad), proc.stdout
    for position, (content, stage, says) in expected_bad.items():
        line = by_position[position]
        assert line["stage"] == stage, line
        assert says in line["error"], line
        assert line["source"] == ("users" if "users.csv" in position else "events")
        assert "hint" in line, line
        if stage == "parse":  # the raw line, byte for byte
            assert raw_text(line["raw"]["line"]) == content
        else:  # the record's fields
            assert isinstance(line["record"], dict) and line["record"], line

    # Nothing lost: every record read was routed or dead-lettered, and every good record is in the savepoint.
    s = json.loads(summary.read_text())
    total = len(CSV_LINES) + len(JSONL_LINES)
    good = sum(1 for _, g, *_ in CSV_LINES + JSONL_LINES if g)
    assert s["records_read"] == total
    assert s["records_dead_lettered"] == len(lines) == total - good
    assert s["records_routed"] == good  # one address per good record
    assert f"dead-lettered  {len(lines)} ({dead_letter})" in proc.stdout
    assert f"routed         {good}" in proc.stdout
    provenance = json.loads((sp / "statefun-bootstrap.json").read_text())
    assert provenance["records_dead_lettered"] == len(lines) and provenance["dead_letter"] == str(dead_letter)

    entries = dump(sp, job)
    ids = {e["id"] for e in entries}
    assert ids == {"u1", "u11", "u12", "éé", "j1", "j8"}
    values = {(e["id"], e["state"]): e.get("value") for e in entries}
    assert values[("u12", "name")] == "Lu, Jr." and values[("u12", "visits")] == 12
    assert values[("éé", "name")] == "Éloïse"
    assert ("u11", "visits") not in values
    assert values[("j1", "visits")] == 1 and values[("j8", "visits")] == 8


def test_the_run_fails_once_the_budget_is_spent_and_keeps_the_dead_letters(tmp_path):
    dead_letter = tmp_path / "bad.jsonl"
    job, sp = write_job(tmp_path, f"errors: {{ dead_letter: {dead_letter}, max_bad_records: 3 }}")
    proc = run_cli("run", job, "--quiet", "--threads", "1", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "more than 3 bad records (errors.max_bad_records)" in proc.stderr
    assert f"the bad records are in {dead_letter}" in proc.stderr
    assert f"no savepoint was written to {sp}" in proc.stderr
    assert not sp.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".savepoint")]
    assert len(dead_letter.read_text().splitlines()) == 4  # the three allowed and the one over


def test_without_errors_section_the_first_bad_record_fails_the_run(tmp_path):
    job, sp = write_job(tmp_path, "")
    proc = run_cli("run", job, "--quiet", "--threads", "1", check=False)
    assert proc.returncode == 1
    # One reader thread reads users.csv first: its first bad record is line 3.
    assert f"error: {tmp_path / 'users.csv'}:3: the line has 3 fields but the header has 4" in proc.stderr
    assert not sp.exists()


def test_command_line_sets_the_dead_letter_file_and_validates_the_pair(tmp_path):
    job, sp = write_job(tmp_path, "")
    dead_letter = tmp_path / "cli-bad.jsonl"
    proc = run_cli("run", job, "--quiet", "--dead-letter", dead_letter, "--max-bad-records", "100")
    assert len(dead_letter.read_text().splitlines()) == sum(1 for _, g, *_ in CSV_LINES + JSONL_LINES if not g)
    assert sp.exists()
    proc = run_cli("run", job, "--output", tmp_path / "other", "--dead-letter", dead_letter, check=False)
    assert proc.returncode == 2 and "--dead-letter needs --max-bad-records" in proc.stderr
    proc = run_cli("run", job, "--output", tmp_path / "other", "--max-bad-records", "3", check=False)
    assert proc.returncode == 2 and "--max-bad-records needs a dead-letter file" in proc.stderr
    proc = run_cli("run", job, "--output", tmp_path / "other", "--dead-letter", tmp_path / "other" / "x.jsonl",
                   "--max-bad-records", "3", check=False)
    assert proc.returncode == 2 and "is inside the savepoint" in proc.stderr
    assert not (tmp_path / "other").exists()


def test_spec_errors_section_is_checked(tmp_path):
    for errors, says in (("errors: { dead_letter: bad.jsonl }", "errors: needs max_bad_records"),
                         ("errors: { max_bad_records: 5 }", "errors: needs dead_letter"),
                         ("errors: { dead_letter: bad.jsonl, max_bad_records: -1 }", "errors.max_bad_records"),
                         ("errors: { dead_letter: bad.jsonl, max_bad_records: 5, skip: true }", "skip")):
        job, _ = write_job(tmp_path, errors)
        proc = run_cli("validate", job, check=False)
        assert proc.returncode == 2 and says in proc.stderr, (errors, proc.stderr)
    job, _ = write_job(tmp_path, "errors: { dead_letter: bad.jsonl, max_bad_records: 5 }")
    proc = run_cli("validate", job)
    assert f"bad records   to {tmp_path / 'bad.jsonl'}, at most 5, then the run fails" in proc.stdout
