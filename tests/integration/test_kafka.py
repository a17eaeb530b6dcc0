"""The Kafka connector against a real Apache Kafka broker (KRaft, started once per session by
tests/kafka/broker.sh): value formats, record fields, tombstones on a compacted topic, the bounded end,
start positions, parallel reads giving the same bytes as one reader, the handoff offsets and ingress
snippet, security pass-through, bad input and unreachable brokers, and one job read by real Flink.
Faults a single real broker cannot inject on demand (brokers lost mid-read, leaders moving) are in
connectors/kafka/kafka_source_mock_test.cc, on librdkafka's mock cluster.
"""
import base64
import json
import os
import pathlib
import subprocess
import time

import pytest

import cases
from comparison import assert_entries_equal
from conftest import CLI, dump, plan, run_cli



def write_job(directory, functions, sources, routes, parallelism=2):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    job = directory / "job.yaml"
    job.write_text(f"""
savepoint: {{ path: {directory / 'savepoint'}, max_parallelism: 128, parallelism: {parallelism} }}
functions:
{functions}
sources:
{sources}
routes:
{routes}
""")
    return job, directory / "savepoint"


def kafka_source(name, broker, topics, extra=""):
    return f"  {name}: {{ kafka: {{ brokers: '{broker.bootstrap}', topics: {json.dumps(topics)}, progress: off{extra} }} }}"


def provenance(savepoint):
    doc = json.loads((pathlib.Path(savepoint) / "statefun-bootstrap.json").read_text())
    return {s["name"]: s["provenance"] for s in doc["sources"]}


def entries(savepoint, job):
    return sorted(dump(savepoint, job), key=lambda e: (e["function"], e["state"], e["id"]))


def assert_no_savepoint(savepoint):
    sp = pathlib.Path(savepoint)
    assert not sp.exists(), f"{sp} was written"
    leftovers = [p.name for p in sp.parent.iterdir() if p.name.startswith("." + sp.name)] if sp.parent.exists() else []
    assert not leftovers, f"staging left behind: {leftovers}"


def snippet_body(path):
    """The ingress snippet without its comment lines (which say when the run started). Its YAML is
    checked structurally by connectors/kafka/kafka_spec_test.cc; here the exact text is compared."""
    return "".join(l for l in pathlib.Path(path).read_text().splitlines(keepends=True) if not l.startswith("#"))


def b64(data):
    return base64.b64encode(data).decode()


# --- Value formats and record fields ----------------------------------------------------------------------

PROTO_TEXT = {"ana": 'name: "Ana" visits: 7 tags: "a" tags: "b" address { city: "Oslo" }',
              "bob": 'name: "Bob" visits: 9000000000'}


def test_every_value_format_and_record_field(kafka, tmp_path):
    kafka.create_topic("fmt-json", 2)
    kafka.create_topic("fmt-raw")
    kafka.create_topic("fmt-bytes")
    kafka.create_topic("fmt-proto")
    kafka.produce([
        {"topic": "fmt-json", "partition": 0, "key": "ana", "timestamp": 1700000000000, "headers": [["source", "web"]],
         "value": json.dumps({"name": "Ana", "age": 31, "address": {"city": "Oslo"}, "vip": True})},
        {"topic": "fmt-json", "partition": 1, "key": "bob", "timestamp": 1700000001000, "headers": [["source", "app"]],
         "value": json.dumps({"name": "Bob", "age": 40, "address": {"city": "Rome"}, "vip": False})},
        {"topic": "fmt-json", "partition": 0, "key": "ana", "timestamp": 1700000002000,
         "headers": [["source", "web"], ["source", "batch"]],
         "value": json.dumps({"name": "Ana Maria", "age": 32, "address": {"city": "Bergen"}, "vip": True})},
        {"topic": "fmt-raw", "key": "ana", "value": "hello, Ana é 🚀"},
        {"topic": "fmt-bytes", "key": "ana", "value_b64": b64(b"\x00\x01\xfe\xff")},
        {"topic": "fmt-proto", "key": "ana", "value_b64": b64(cases.protoc_encode(PROTO_TEXT["ana"]))},
        {"topic": "fmt-proto", "key": "bob", "value_b64": b64(cases.protoc_encode(PROTO_TEXT["bob"]))},
    ])
    desc = tmp_path / "profile.desc"
    cases.descriptor_set(desc)
    job, sp = write_job(tmp_path, f"""
  example/user:
    states:
      name: {{ type: io.statefun.types/string }}
      age: {{ type: io.statefun.types/int }}
      city: {{ type: io.statefun.types/string }}
      vip: {{ type: io.statefun.types/bool }}
      doc: {{ type: example/UserJson, codec: json }}
      source: {{ type: io.statefun.types/string }}
      at: {{ type: io.statefun.types/string }}
      ts: {{ type: io.statefun.types/long }}
      updates: {{ type: io.statefun.types/long }}
      greeting: {{ type: io.statefun.types/string }}
      blob: {{ type: example/Blob, codec: raw }}
      visits: {{ type: io.statefun.types/long }}
      tags: {{ type: example/Tags, codec: json }}
      profile: {{ type: example/Profile, codec: protobuf, descriptor_set: {desc}, message: example.Profile }}
""", "\n".join([
        kafka_source("json", kafka, ["fmt-json"]),
        kafka_source("raw", kafka, ["fmt-raw"], ", value: raw"),
        kafka_source("bytes", kafka, ["fmt-bytes"], ", value: { format: raw, as: bytes }"),
        kafka_source("proto", kafka, ["fmt-proto"],
                     f", value: {{ format: protobuf, descriptor_set: {desc}, message: example.Profile }}"),
    ]), """
  - from: json
    to: example/user
    set: { name: "{value.name}", age: "{value.age}", city: "{value.address.city}", vip: "{value.vip}",
           doc: "{value}", source: "{headers.source}", at: "{topic}/{partition}/{offset}", ts: "{timestamp}" }
    merge: { updates: count }
  - { from: raw, to: example/user, set: { greeting: "{value}" } }
  - { from: bytes, to: example/user, set: { blob: "{value}" } }
  - from: proto
    to: example/user
    set: { visits: "{value.visits}", city: "{value.address.city}", tags: "{value.tags}", profile: "{value}" }
""")
    run_cli("run", job)
    got = entries(sp, job)

    def e(state, ident, value=None, **kw):
        d = {"function": "example/user", "state": state, "id": ident}
        d.update({"value": value} if not kw else kw)
        return d
    expected = [
        e("name", "ana", "Ana Maria"), e("name", "bob", "Bob"),
        e("age", "ana", 32), e("age", "bob", 40),
        # the proto source comes after json in the spec, so its city is applied last for ana; bob's is unset there
        e("city", "ana", "Oslo"), e("city", "bob", "Rome"),
        e("vip", "ana", True), e("vip", "bob", False),
        e("doc", "ana", {"name": "Ana Maria", "age": 32, "address": {"city": "Bergen"}, "vip": True}),
        e("doc", "bob", {"name": "Bob", "age": 40, "address": {"city": "Rome"}, "vip": False}),
        e("source", "ana", "batch"), e("source", "bob", "app"),
        e("at", "ana", "fmt-json/0/1"), e("at", "bob", "fmt-json/1/0"),
        e("ts", "ana", 1700000002000), e("ts", "bob", 1700000001000),
        e("updates", "ana", 2), e("updates", "bob", 1),
        e("greeting", "ana", "hello, Ana é 🚀"),
        e("blob", "ana", value_base64=b64(b"\x00\x01\xfe\xff")),
        e("visits", "ana", 7), e("visits", "bob", 9000000000),
        e("tags", "ana", ["a", "b"]), e("tags", "bob", []),
        e("profile", "ana", value_base64=b64(cases.protoc_encode(PROTO_TEXT["ana"]))),
        e("profile", "bob", value_base64=b64(cases.protoc_encode(PROTO_TEXT["bob"]))),
    ]
    assert_entries_equal(expected, got, label="kafka value formats")


# --- Changelog semantics ----------------------------------------------------------------------------------

CHANGELOG = [  # (key, value): None is a tombstone
    ("ana", {"name": "Ana", "plan": "free"}),
    ("bob", {"name": "Bob", "plan": "pro"}),
    ("ana", None),
    ("cid", {"name": "Cid", "plan": "free"}),
    ("ana", {"name": "Ana 2", "plan": "pro"}),
    ("cid", None),
    ("dan", None),  # a tombstone for a key never seen
]


def changelog_job(directory, kafka, topic, extra=""):
    return write_job(directory, """
  example/user:
    states:
      name: { type: io.statefun.types/string }
      plan: { type: io.statefun.types/string }
      changes: { type: io.statefun.types/int }
""", kafka_source("users", kafka, [topic], extra), """
  - { from: users, to: example/user, set: { name: "{value.name}", plan: "{value.plan}" }, merge: { changes: count } }
""")


def test_tombstones_delete_state_on_a_compacted_topic(kafka, tmp_path):
    kafka.create_topic("users-changelog", 2, cleanup_policy="compact", min_cleanable_dirty_ratio="0.01",
                       segment_ms="100")
    kafka.produce([{"topic": "users-changelog", "key": k, "value": None if v is None else json.dumps(v)}
                   for k, v in CHANGELOG])
    job, sp = changelog_job(tmp_path / "delete", kafka, "users-changelog")
    assert plan(job)["routes"][0]["delete_when"] == ["{value} == null"]
    run_cli("run", job)
    got = entries(sp, job)
    u = "example/user"
    assert_entries_equal([
        {"function": u, "state": "name", "id": "ana", "value": "Ana 2"},
        {"function": u, "state": "plan", "id": "ana", "value": "pro"},
        {"function": u, "state": "changes", "id": "ana", "value": 1},  # counted again after its tombstone
        {"function": u, "state": "name", "id": "bob", "value": "Bob"},
        {"function": u, "state": "plan", "id": "bob", "value": "pro"},
        {"function": u, "state": "changes", "id": "bob", "value": 1},
    ], got, label="compacted changelog")

    # tombstones: skip never routes them: every key keeps its last value.
    job, sp = changelog_job(tmp_path / "skip", kafka, "users-changelog", ", tombstones: skip")
    run_cli("run", job)
    names = {e["id"]: e["value"] for e in entries(sp, job) if e["state"] == "name"}
    assert names == {"ana": "Ana 2", "bob": "Bob", "cid": "Cid"}


FILTERED_CHANGELOG = [  # (key, value): None is a tombstone; the route keeps kind != test
    ("ana", {"name": "Ana", "kind": "real"}),
    ("ana", None),                                  # ana: deleted
    ("tess", {"name": "Tess", "kind": "test"}),
    ("tess", None),                                 # tess: filtered out, and its tombstone deletes nothing
    ("bob", {"name": "Bob", "kind": "real"}),
    ("bob", None),
    ("bob", {"name": "Bob 2", "kind": "real"}),     # bob: back after its tombstone
    ("cid", {"name": "Cid", "kind": "real"}),
    ("cid", {"name": "Cid (test copy)", "kind": "test"}),  # cid: a filtered update leaves the kept value
    ("dan", {"name": "Dan", "kind": "real"}),       # dan: never deleted
    ("dan", None),
    ("dan", {"name": "Dan", "kind": "test"}),       # ... deleted, then back only as a test record: gone
]


def test_a_changelog_filtered_on_its_values_still_applies_its_tombstones(kafka, tmp_path):
    """where conditions on value fields are not evaluated for tombstones (README: What a tombstone is asked):
    a deleted address ends unset, a filtered-out one never appears, one set again after its tombstone holds
    the new value; and `get` shows each address as the savepoint holds it."""
    kafka.create_topic("users-filtered", 2, cleanup_policy="compact")
    kafka.produce([{"topic": "users-filtered", "key": k, "value": None if v is None else json.dumps(v)}
                   for k, v in FILTERED_CHANGELOG])
    job, sp = write_job(tmp_path, """
  example/user:
    states:
      name: { type: io.statefun.types/string }
      changes: { type: io.statefun.types/int }
""", kafka_source("users", kafka, ["users-filtered"]), """
  - from: users
    to: example/user
    where: "{value.kind} != test"
    set: { name: "{value.name}" }
    merge: { changes: count }
""")
    proc = run_cli("validate", job)
    assert "warning" not in proc.stderr, proc.stderr
    run_cli("run", job)
    u = "example/user"
    assert_entries_equal([
        {"function": u, "state": "name", "id": "bob", "value": "Bob 2"},
        {"function": u, "state": "changes", "id": "bob", "value": 1},  # counted again after its tombstone
        {"function": u, "state": "name", "id": "cid", "value": "Cid"},
        {"function": u, "state": "changes", "id": "cid", "value": 1},
    ], entries(sp, job), label="filtered changelog")
    bob = json.loads(run_cli("get", sp, f"{u}/bob", "--spec", job).stdout)
    assert bob["states"]["name"]["value"] == "Bob 2", bob
    for gone in ("ana", "tess", "dan"):
        proc = run_cli("get", sp, f"{u}/{gone}", "--spec", job, check=False)
        assert proc.returncode == 1 and proc.stderr.startswith(f"no state for {u}/{gone} "), proc.stderr


def test_a_route_whose_id_a_tombstone_cannot_give_is_a_warning_and_its_tombstone_a_bad_record(kafka, tmp_path):
    kafka.create_topic("by-session")
    kafka.produce([{"topic": "by-session", "key": "s1", "value": json.dumps({"user": "ana", "name": "Ana"})},
                   {"topic": "by-session", "key": "s1", "value": None}])
    job, sp = write_job(tmp_path, SIMPLE_FUNCTION, kafka_source("sessions", kafka, ["by-session"]), """
  - { from: sessions, to: example/t, id: "{value.user}", set: { s: "{value.name}" } }
""")
    proc = run_cli("validate", job)
    assert ("warning: " + str(job) + ":12:42: route #1 (sessions -> example/t): the id '{value.user}' is taken from "
            "the value, but a tombstone has no value (only a key): a tombstone in the topic would fail the run\n"
            "  fix: address the records by their key (id: \"{key}\", or \"{key.<field>}\" for a json key) so "
            "tombstones delete, or, if the topic has no tombstones, say so on the source: tombstones: skip") in proc.stderr, \
        proc.stderr
    assert "(1 warning, on stderr)" in proc.stdout
    failing_run(job, sp, "topic by-session partition 0 offset 1: route #1 (sessions -> example/t): a tombstone has "
                "no value, so the id template '{value.user}' cannot say which address it deletes",
                "fix: address the records by their key")


def test_transaction_markers_and_read_committed_end(kafka, tmp_path):
    """A committed transaction ends in a control record (an offset no reader receives) and an open one
    holds the last stable offset back: read_committed stops there, read_uncommitted at the high watermark."""
    kafka.create_topic("txn")
    kafka.produce([{"topic": "txn", "key": f"c{i}", "value": json.dumps({"n": i})} for i in range(5)],
                  transaction="commit")
    kafka.produce([{"topic": "txn", "key": f"o{i}", "value": json.dumps({"n": i})} for i in range(3)],
                  transaction="open")
    results = {}
    for isolation in ("read_committed", "read_uncommitted"):
        job, sp = write_job(tmp_path / isolation, """
  example/t:
    states: { n: { type: io.statefun.types/int } }
""", kafka_source("txn", kafka, ["txn"], f", isolation: {isolation}, read_timeout: 20s"), """
  - { from: txn, to: example/t, set: { n: "{value.n}" } }
""")
        start = time.monotonic()
        run_cli("run", job, timeout=60)
        assert time.monotonic() - start < 30
        results[isolation] = (sorted(e["id"] for e in entries(sp, job)), provenance(sp)["txn"])
    ids, prov = results["read_committed"]
    assert ids == [f"c{i}" for i in range(5)]
    assert prov["end_offsets"]["txn"]["0"] == 6  # 5 records and the commit marker
    assert prov["isolation"] == "read_committed"
    ids, prov = results["read_uncommitted"]
    assert ids == sorted([f"c{i}" for i in range(5)] + [f"o{i}" for i in range(3)])
    assert prov["end_offsets"]["txn"]["0"] == 9
    snippet = snippet_body(tmp_path / "read_committed" / "savepoint" / "kafka-ingress-txn.yaml")
    assert snippet.endswith('      - "txn/0": 6\n  topics:\n    - topic: txn\n      valueType: CHANGE-ME/ValueType\n'
                            '      targets:\n        - CHANGE-ME/function\n'
                            '  properties:\n    - isolation.level: read_committed\n'), snippet


# --- Bounded end, start positions, parallelism --------------------------------------------------------------

def test_messages_produced_during_the_run_are_not_read(kafka, tmp_path):
    import confluent_kafka  # scripts/install-deps.sh installs it (the registry tests produce with it too)

    kafka.create_topic("live", 3)
    # The run reads these in well under a second on two cores, so the late messages come from a producer
    # that is connected and knows the topic before the run starts: sending them takes milliseconds, not
    # the start-up of a producer process (which a run of 1M messages no longer outlasts).
    kafka.generate("live", 1000000, keys=2000)
    producer = confluent_kafka.Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 0})
    producer.list_topics("live", timeout=30)
    job, sp = write_job(tmp_path, """
  example/user:
    states: { total: { type: io.statefun.types/long }, n: { type: io.statefun.types/long } }
""", f"  live: {{ kafka: {{ brokers: '{kafka.bootstrap}', topics: [live], progress: 100ms }} }}", """
  - { from: live, to: example/user, merge: { total: "sum(value.amount)", n: count } }
""")
    proc = subprocess.Popen([str(CLI), "run", str(job), "--threads", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The first progress line means the end offsets are captured and reading is under way.
        first = proc.stderr.readline()
        assert first.startswith("kafka live: topic live "), first
        for i in range(60):
            producer.produce("live", key=f"late-{i}", value=json.dumps({"amount": 1}))
        assert producer.flush(30) == 0, "the late messages were not all delivered"
        during = proc.poll() is None
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert during, "the run ended before the late messages were delivered: make the topic bigger"
    prov = provenance(sp)["live"]
    assert sum(prov["end_offsets"]["live"].values()) == 1000000
    assert prov["messages_read"] == 1000000
    assert sum(kafka.offsets("live").values()) == 1000060
    got = entries(sp, job)
    assert not [e for e in got if e["id"].startswith("late-")]
    assert sum(e["value"] for e in got if e["state"] == "n") == 1000000
    assert sum(e["value"] for e in got if e["state"] == "total") == sum(i % 100 for i in range(1000000))
    assert "kafka live: topic live 1,000,000 messages" in err and "100.0% of the captured range" in err


def test_start_at_a_timestamp(kafka, tmp_path):
    kafka.create_topic("clicks", 2)
    old = [{"topic": "clicks", "partition": i % 2, "key": f"u{i}", "timestamp": 1700000000000 + i,
            "value": json.dumps({"page": "old"})} for i in range(10)]
    new = [{"topic": "clicks", "partition": i % 2, "key": f"u{i}", "timestamp": 1714521600000 + i,
            "value": json.dumps({"page": "new"})} for i in range(4)]
    kafka.produce(old + new)
    for start in ("1714521600000", "'2024-05-01T00:00:00Z'", "'2024-05-01T02:00:00+02:00'"):
        job, sp = write_job(tmp_path / str(abs(hash(start))), """
  example/user:
    states: { page: { type: io.statefun.types/string } }
""", kafka_source("clicks", kafka, ["clicks"], f", start: {{ timestamp: {start} }}"), """
  - { from: clicks, to: example/user, set: { page: "{value.page}" } }
""")
        run_cli("run", job)
        got = entries(sp, job)
        assert sorted(e["id"] for e in got) == ["u0", "u1", "u2", "u3"], start
        assert {e["value"] for e in got} == {"new"}
        prov = provenance(sp)["clicks"]
        assert prov["start_offsets"]["clicks"] == {"0": 5, "1": 5}
        assert prov["end_offsets"]["clicks"] == {"0": 7, "1": 7}


def savepoint_files(sp):
    """Every file's bytes, but for the two that record when the run started: the provenance file, and the
    ingress snippet, whose YAML (without comments) is compared instead."""
    out = {}
    for p in sorted(pathlib.Path(sp).rglob("*")):
        if not p.is_file() or p.name == "statefun-bootstrap.json":
            continue
        out[p.relative_to(sp).as_posix()] = snippet_body(p) if p.suffix == ".yaml" else p.read_bytes()
    return out


def test_parallel_partition_readers_write_the_same_bytes_as_one(kafka, tmp_path):
    kafka.create_topic("par", 6)
    kafka.generate("par", 30000, keys=3000)
    # Overwrites across partitions too: every key also gets a record in partition 0 and 5.
    kafka.produce([{"topic": "par", "partition": p, "key": f"user-{k}", "value": json.dumps({"amount": 1000 + p})}
                   for k in range(0, 3000, 7) for p in (0, 5)])
    outputs = []
    for name, readers, threads in (("parallel", 6, 2), ("single", 1, 1)):
        job, sp = write_job(tmp_path / name, """
  example/user:
    states: { last: { type: io.statefun.types/int }, n: { type: io.statefun.types/long } }
""", kafka_source("par", kafka, ["par"], f", readers: {readers}"), """
  - { from: par, to: example/user, set: { last: "{value.amount}" }, merge: { n: count } }
""", parallelism=3)
        run_cli("run", job, "--threads", threads)
        outputs.append(savepoint_files(sp))
        prov = provenance(sp)["par"]
        prov.pop("captured_at_ms")
        outputs.append(prov)
    assert outputs[0].keys() == outputs[2].keys()
    for name in outputs[0]:
        assert outputs[0][name] == outputs[2][name], f"{name} differs between 6 readers and 1"
    assert outputs[1] == outputs[3]
    # "last" is last in (partition, offset) order: partition 5's record for the keys produced above.
    got = {e["id"]: e["value"] for e in dump(tmp_path / "single" / "savepoint") if e["state"] == "last"}
    assert got["user-7"] == 1005


# --- Handoff --------------------------------------------------------------------------------------------------

def test_handoff_offsets_continue_exactly_where_the_bootstrap_stopped(kafka, tmp_path):
    kafka.create_topic("orders", 3)
    kafka.produce([{"topic": "orders", "partition": i % 3, "key": f"c{i % 5}", "value": json.dumps({"amount": i})}
                   for i in range(40)])
    functions = """
  example/customer:
    states: { total: { type: io.statefun.types/long } }
"""
    routes = """
  - { from: orders, to: example/customer, merge: { total: "sum(value.amount)" } }
"""
    job, sp = write_job(tmp_path / "first", functions, kafka_source(
        "orders", kafka, ["orders"],
        ", ingress: { id: com.example/orders, consumer_group_id: shop, value_type: com.example/Order, "
        "targets: [example/customer] }"), routes)
    result = run_cli("run", job)
    ends = kafka.offsets("orders")
    prov = provenance(sp)["orders"]
    assert prov["end_offsets"]["orders"] == ends
    assert prov["messages_read"] == 40
    assert '"end_offsets":{"orders":' in result.stdout  # the run summary shows them
    snippet_path = sp / prov["ingress_snippet"]
    offsets = "".join(f'      - "orders/{p}": {n}\n' for p, n in sorted(ends.items()))
    assert snippet_body(snippet_path) == f"""kind: io.statefun.kafka.v1/ingress
spec:
  id: com.example/orders
  address: "{kafka.bootstrap}"
  consumerGroupId: shop
  startupPosition:
    type: specific-offsets
    offsets:
{offsets}  topics:
    - topic: orders
      valueType: com.example/Order
      targets:
        - example/customer
"""
    assert "CHANGE-ME" not in snippet_path.read_text()

    # What is produced next is exactly what a reader starting at those offsets sees.
    kafka.produce([{"topic": "orders", "partition": i % 3, "key": f"c{i % 5}", "value": json.dumps({"amount": 1})}
                   for i in range(9)])
    offsets = {"orders": {int(p): n for p, n in prov["end_offsets"]["orders"].items()}}
    job2, sp2 = write_job(tmp_path / "continued", functions, kafka_source(
        "orders", kafka, ["orders"], f", start: {{ offsets: {json.dumps(offsets)} }}"), routes)
    run_cli("run", job2)
    assert provenance(sp2)["orders"]["messages_read"] == 9
    assert sum(e["value"] for e in dump(sp2)) == 9
    assert sum(e["value"] for e in dump(sp)) == sum(range(40))


def test_end_offsets_are_committed_only_when_asked(kafka, tmp_path):
    kafka.create_topic("commits", 2)
    kafka.produce([{"topic": "commits", "partition": i % 2, "key": f"k{i}", "value": "{}"} for i in range(5)])
    functions = """
  example/t:
    states: { n: { type: io.statefun.types/int } }
"""
    routes = """
  - { from: c, to: example/t, merge: { n: count } }
"""
    job, _ = write_job(tmp_path / "plain", functions, kafka_source("c", kafka, ["commits"], ", group_id: app-1"), routes)
    run_cli("run", job)
    assert kafka.committed("app-1", "commits") == {"0": -1001, "1": -1001}
    job, _ = write_job(tmp_path / "commit", functions,
                       kafka_source("c", kafka, ["commits"], ", group_id: app-1, commit_offsets: true"), routes)
    run_cli("run", job)
    assert kafka.committed("app-1", "commits") == kafka.offsets("commits") == {"0": 3, "1": 2}


# --- validate, security -------------------------------------------------------------------------------------

def test_validate_connect_lists_topics_partitions_and_ranges(kafka, tmp_path):
    kafka.create_topic("vt.a", 2)
    kafka.create_topic("vt.b", 1)
    kafka.produce([{"topic": "vt.a", "partition": 1, "key": "k", "value": "{}"}] * 3 +
                  [{"topic": "vt.b", "key": "k", "value": "{}"}])
    job, _ = write_job(tmp_path, """
  example/t:
    states: { n: { type: io.statefun.types/int } }
""", f"  v: {{ kafka: {{ brokers: '{kafka.bootstrap}', topic_pattern: 'vt\\..*' }} }}", """
  - { from: v, to: example/t, merge: { n: count } }
""")
    offline = json.loads(run_cli("validate", job, "--json").stdout)
    assert "read" not in offline["sources"][0]  # no --connect: the broker is not contacted
    connected = json.loads(run_cli("validate", job, "--json", "--connect").stdout)
    read = connected["sources"][0]["read"]
    assert read["messages"] == 4
    assert [t["topic"] for t in read["topics"]] == ["vt.a", "vt.b"]
    assert read["topics"][0]["partitions"] == [
        {"partition": 0, "start": 0, "end": 0, "messages": 0},
        {"partition": 1, "start": 0, "end": 3, "messages": 3}]
    text = run_cli("validate", job, "--connect").stdout
    assert '"topic":"vt.b"' in text and "ok:" in text


def test_sasl_settings_pass_through_and_secrets_are_never_printed(kafka, tmp_path):
    kafka.create_topic("secure")
    kafka.produce([{"topic": "secure", "key": "ana", "value": json.dumps({"n": 1})}])

    def job_with(password_ref, name):
        return write_job(tmp_path / name, """
  example/t:
    states: { n: { type: io.statefun.types/int } }
""", f"""  secure:
    kafka:
      brokers: '{kafka.sasl_bootstrap}'
      topics: [secure]
      timeout: 8s
      properties:
        security.protocol: SASL_PLAINTEXT
        sasl.mechanism: PLAIN
        sasl.username: alice
        sasl.password: "{password_ref}"
""", """
  - { from: secure, to: example/t, set: { n: "{value.n}" } }
""")
    job, sp = job_with("${SFB_TEST_KAFKA_PASSWORD}", "good")
    env = {"SFB_TEST_KAFKA_PASSWORD": kafka.password}
    outputs = [run_cli("run", job, env=env), run_cli("validate", job, "--json", "--connect", env=env),
               run_cli("run", job, "--dry-run", "--output", tmp_path / "dry", env=env)]
    assert [e["value"] for e in dump(sp)] == [1]
    files = [p.read_text(errors="replace") for p in sp.iterdir() if p.suffix in (".json", ".yaml")]
    for text in [o.stdout + o.stderr for o in outputs] + files:
        assert kafka.password not in text
    assert "sasl.password" in outputs[1].stdout  # the property is named, its value is not

    job, sp = job_with("wrong-${SFB_TEST_KAFKA_PASSWORD}", "bad")
    start = time.monotonic()
    proc = run_cli("run", job, env=env, check=False, timeout=60)
    assert time.monotonic() - start < 30
    assert proc.returncode == 1
    assert "cannot reach the Kafka brokers" in proc.stderr and "Authentication failed" in proc.stderr, proc.stderr
    assert kafka.password not in proc.stderr + proc.stdout
    assert_no_savepoint(sp)


# --- Bad input and faults --------------------------------------------------------------------------------------

def failing_run(job, sp, *needles, code=1, seconds=60):
    start = time.monotonic()
    proc = run_cli("run", job, check=False, timeout=seconds + 30)
    took = time.monotonic() - start
    assert proc.returncode == code, proc.stdout + proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in:\n{proc.stderr}"
    assert took < seconds, f"took {took:.1f} s"
    assert_no_savepoint(sp)
    return proc.stderr


SIMPLE_FUNCTION = """
  example/t:
    states: { s: { type: io.statefun.types/string } }
"""


def test_bad_records_name_topic_partition_offset_and_the_fix(kafka, tmp_path):
    kafka.create_topic("bad-json", 2)
    kafka.produce([{"topic": "bad-json", "partition": 1, "key": "ok", "value": '{"s": "fine"}'},
                   {"topic": "bad-json", "partition": 1, "key": "bad", "value": '{"s": fine}'}])
    job, sp = write_job(tmp_path / "json", SIMPLE_FUNCTION, kafka_source("j", kafka, ["bad-json"]), """
  - { from: j, to: example/t, set: { s: "{value.s}" } }
""")
    err = failing_run(job, sp, "topic bad-json partition 1 offset 1", "the value is not JSON",
                      "fix: fix the producer, or read the value as text: value: raw")

    kafka.create_topic("bad-proto")
    kafka.produce([{"topic": "bad-proto", "key": "x", "value_b64": b64(b"\x0a\x10not a profile")}])
    desc = tmp_path / "profile.desc"
    cases.descriptor_set(desc)
    job, sp = write_job(tmp_path / "proto", SIMPLE_FUNCTION, kafka_source(
        "p", kafka, ["bad-proto"], f", value: {{ format: protobuf, descriptor_set: {desc}, message: example.Profile }}"),
        """
  - { from: p, to: example/t, set: { s: "{value.name}" } }
""")
    failing_run(job, sp, "topic bad-proto partition 0 offset 0", "is not a valid example.Profile protobuf message")

    kafka.create_topic("no-key")
    kafka.produce([{"topic": "no-key", "key": "a", "value": '{"s": "x"}'}, {"topic": "no-key", "value": '{"s": "y"}'}])
    job, sp = write_job(tmp_path / "key", SIMPLE_FUNCTION, kafka_source("k", kafka, ["no-key"]), """
  - { from: k, to: example/t, set: { s: "{value.s}" } }
""")
    failing_run(job, sp, "topic no-key partition 0 offset 1", "the id template '{key}' gives NULL",
                "where: \"{key} != null\"")
    assert err.count("error:") == 1


def test_errors_and_ids_show_non_ascii_text_as_written(kafka, tmp_path):
    """A decode error quotes the value as the producer wrote it (UTF-8 as is, only control characters and
    bytes that are not UTF-8 escaped), and ids print as written in errors, dump and get."""
    kafka.create_topic("utf8")
    kafka.produce([{"topic": "utf8", "key": "Zoë", "value": '{"s": Zoë}'}])
    job, sp = write_job(tmp_path / "json", SIMPLE_FUNCTION, kafka_source("u", kafka, ["utf8"]), """
  - { from: u, to: example/t, set: { s: "{value.s}" } }
""")
    failing_run(job, sp, "error: topic utf8 partition 0 offset 0: the value is not JSON ('{\"s\": Zoë}'): "
                "parse error at byte 7: expected a JSON value, found 'Z'")

    kafka.create_topic("latin1")
    kafka.produce([{"topic": "latin1", "key": "k", "value_b64": b64("Zoë\n".encode("latin-1"))}])
    job, sp = write_job(tmp_path / "raw", SIMPLE_FUNCTION, kafka_source("l", kafka, ["latin1"], ", value: raw"), """
  - { from: l, to: example/t, set: { s: "{value}" } }
""")
    failing_run(job, sp, "the value is not UTF-8 text ('Zo\\xeb\\n')")

    kafka.create_topic("utf8-names")
    kafka.produce([{"topic": "utf8-names", "key": "Zoë", "value": json.dumps({"s": "Zoë Ä 中文"})}])
    job, sp = write_job(tmp_path / "ids", """
  example/t:
    states: { n: { type: io.statefun.types/int } }
""", kafka_source("u", kafka, ["utf8-names"]), """
  - { from: u, to: example/t, set: { n: "{value.s}" } }
""")
    failing_run(job, sp, "route #1 (u -> example/t) state n: value 'Zoë Ä 中文' (text) is not a 32-bit integer")
    job, sp = write_job(tmp_path / "ok", SIMPLE_FUNCTION, kafka_source("u", kafka, ["utf8-names"]), """
  - { from: u, to: example/t, set: { s: "{value.s}" } }
""")
    run_cli("run", job)
    out = run_cli("dump", sp, "--spec", job).stdout
    assert '"id":"Zoë"' in out and '"value":"Zoë Ä 中文"' in out, out
    out = run_cli("get", sp, "example/t/Zoë", "--spec", job).stdout
    assert '"address": "example/t/Zoë"' in out and '"value": "Zoë Ä 中文"' in out, out


def test_bad_messages_go_to_the_dead_letter_file_with_topic_partition_offset(kafka, tmp_path):
    """errors.dead_letter: every bad message is one line with its topic/partition/offset and the raw key
    and value (base64 when not UTF-8); every good one is in the savepoint; read = routed + dead-lettered."""
    kafka.create_topic("dl-mixed", 2)
    messages = [  # (partition, key, value bytes or None, good?, stage, what the error says)
        (0, "ana", b'{"visits": 1}', True, None, None),
        (0, "bad-json", b'{"visits": 2', False, "parse", "the value is not JSON"),
        (1, "bytes", b"\xff\xfe\x00", False, "parse", "the value is not"),
        (1, None, b'{"visits": 4}', False, "route", "the id template '{key}' gives NULL"),
        (0, "wrong-type", b'{"visits": "four"}', False, "route", "is not a 32-bit integer"),
        (1, "bob", b'{"visits": 6}', True, None, None),
        (0, "ana", b'{"visits": 7}', True, None, None),
    ]
    produced = kafka.produce([
        {"topic": "dl-mixed", "partition": p, **({"key": k} if k is not None else {}), "value_b64": b64(v)}
        for p, k, v, *_ in messages])
    offsets = {0: 0, 1: 0}
    expected = {}  # position -> message
    for m in messages:
        position = f"topic dl-mixed partition {m[0]} offset {offsets[m[0]]}"
        offsets[m[0]] += 1
        expected[position] = m
    dead_letter = tmp_path / "bad.jsonl"
    job, sp = write_job(tmp_path, """
  example/user:
    states: { visits: { type: io.statefun.types/int } }
""", kafka_source("events", kafka, ["dl-mixed"]), """
  - { from: events, to: example/user, merge: { visits: "sum(value.visits)" } }
""")
    job.write_text(job.read_text() + f"errors: {{ dead_letter: {dead_letter}, max_bad_records: 10 }}\n")
    summary = tmp_path / "summary.json"
    run_cli("run", job, "--quiet", "--summary-json", summary)

    lines = [json.loads(l) for l in dead_letter.read_text().splitlines()]
    by_position = {l["position"]: l for l in lines}
    bad = {pos: m for pos, m in expected.items() if not m[3]}
    assert set(by_position) == set(bad), (produced, lines)
    for pos, (partition, key, value, _, stage, says) in bad.items():
        line = by_position[pos]
        assert line["source"] == "events" and line["stage"] == stage and says in line["error"], line
        if stage == "parse":
            raw = line["raw"]
            assert (raw["topic"], raw["partition"], raw["key"]) == ("dl-mixed", partition, key), raw
            got = base64.b64decode(raw["value"]["base64"]) if isinstance(raw["value"], dict) else raw["value"].encode()
            assert got == value
        else:
            assert line["record"]["topic"] == "dl-mixed" and line["record"]["key"] == key, line
    s = json.loads(summary.read_text())
    assert s["records_read"] == len(messages)
    assert s["records_dead_lettered"] == len(bad)
    assert s["records_routed"] == len(messages) - len(bad)
    assert {(e["id"], e["value"]) for e in entries(sp, job)} == {("ana", 8), ("bob", 6)}


def test_unknown_topic_and_unreachable_broker_fail_fast_and_clearly(kafka, tmp_path):
    kafka.create_topic("known-topic")
    job, sp = write_job(tmp_path / "unknown", SIMPLE_FUNCTION, kafka_source("u", kafka, ["knwon-topic"]), """
  - { from: u, to: example/t, set: { s: "{value}" } }
""")
    failing_run(job, sp, "topic 'knwon-topic' does not exist", "did you mean 'known-topic'?")

    job, sp = write_job(tmp_path / "down", SIMPLE_FUNCTION,
                        "  d: { kafka: { brokers: '127.0.0.1:1', topics: [t], timeout: 3s } }", """
  - { from: d, to: example/t, set: { s: "{value}" } }
""")
    err = failing_run(job, sp, "cannot reach the Kafka brokers 127.0.0.1:1 within 3 s", "Connection refused",
                      "fix: check brokers:", seconds=15)
    proc = run_cli("validate", job, "--connect", check=False, timeout=60)
    assert proc.returncode == 1 and "cannot reach the Kafka brokers" in proc.stderr
    assert run_cli("validate", job).returncode == 0  # without --connect nothing is contacted
    assert err


# --- Real Flink reads a Kafka-built savepoint --------------------------------------------------------------------

def test_real_flink_reads_a_savepoint_built_from_a_changelog(kafka, flink_judge, tmp_path):
    kafka.create_topic("flink-users", 3, cleanup_policy="compact")
    rows = [("ana", {"name": "Ana", "age": 31}), ("bob", {"name": "Bob", "age": 40}), ("ana", None),
            ("李雷", {"name": "Li Lei", "age": 25}), ("ana", {"name": "Ana 2", "age": 32}), ("😀", {"name": "E", "age": 1}),
            ("😀", None)]
    kafka.produce([{"topic": "flink-users", "key": k, "value": None if v is None else json.dumps(v, ensure_ascii=False)}
                   for k, v in rows])
    job, sp = write_job(tmp_path, """
  example/user:
    states:
      name: { type: io.statefun.types/string }
      age: { type: java.lang.Integer }
      profile: { type: example/Profile, codec: json }
      changes: { type: io.statefun.types/long }
""", kafka_source("users", kafka, ["flink-users"]), """
  - { from: users, to: example/user, set: { name: "{value.name}", age: "{value.age}", profile: "{value}" },
      merge: { changes: count } }
""")
    run_cli("run", job)
    u = "example/user"
    expected = []
    for ident, name, age in (("ana", "Ana 2", 32), ("bob", "Bob", 40), ("李雷", "Li Lei", 25)):
        expected += [{"function": u, "state": "name", "id": ident, "value": name},
                     {"function": u, "state": "age", "id": ident, "value": age},
                     {"function": u, "state": "changes", "id": ident, "value": 1}]
    assert_entries_equal(expected, [e for e in dump(sp, job) if e["state"] != "profile"], label="dump")
    flink_judge.add("kafka_changelog", sp, plan(job))
    flink = [e for e in flink_judge.read("kafka_changelog") if e["state"] != "profile"]
    assert_entries_equal(expected, flink, label="Flink read of a Kafka-built savepoint")
    profiles = {e["id"]: e for e in flink_judge.read("kafka_changelog") if e["state"] == "profile"}
    assert sorted(profiles) == ["ana", "bob", "李雷"]
