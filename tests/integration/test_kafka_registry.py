"""Kafka values in the schema registry wire format, against a real registry and a real broker: Apicurio
Registry 2.4.2.Final (tests/registry/registry.sh, its Confluent API under /apis/ccompat/v7) and the
single-node Kafka broker (tests/kafka/broker.sh), with values produced by confluent-kafka's Producer and
AvroSerializer. Every bootstrapped value is compared with what was produced, and one savepoint is read
by real Flink. Basic auth is checked against a stand-in server (tests/registry/schema_registry.py says
why), the only part here that is not the real thing.
"""
import datetime
import decimal
import json
import os
import pathlib
import sys
import uuid

import pytest

from comparison import assert_entries_equal
from conftest import BUILD, ROOT, dump, plan, run_cli

sys.path.insert(0, str(ROOT / "tests" / "kafka"))
sys.path.insert(0, str(ROOT / "tests" / "registry"))
from kafka_broker import KafkaBroker  # noqa: E402
from schema_registry import BasicAuthStandIn, SchemaRegistry, free_port  # noqa: E402

import confluent_kafka  # noqa: E402  (scripts/install-deps.sh installs confluent-kafka[avro])
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka-broker"), BUILD / "sfb-kafka-tool")
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    r = SchemaRegistry(tmp_path_factory.mktemp("schema-registry"))
    try:
        r.start()
        yield r
    finally:
        r.stop()


USER_V1 = {
    "type": "record", "name": "User", "namespace": "example",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "score", "type": "double"},
        {"name": "vip", "type": "boolean"},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "nick", "type": ["null", "string"]},
        {"name": "address", "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "born", "type": {"type": "int", "logicalType": "date"}},
        {"name": "seen", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "seen_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "photo", "type": "bytes"},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
    ],
}
# v2 adds a field with a default: the registry accepts it as a compatible evolution of v1.
USER_V2 = dict(USER_V1, fields=USER_V1["fields"] + [{"name": "tier", "type": "string", "default": "basic"}])

UTC = datetime.timezone.utc


def user(name, age, version, **extra):
    u = {"name": name, "age": age, "score": age / 4, "vip": age > 35, "color": ["RED", "GREEN", "BLUE"][age % 3],
         "tags": [name[:1], "t" + str(age)], "attrs": {"visits": age * 10}, "nick": None if age % 2 else name.upper(),
         "address": {"city": f"City of {name}"}, "price": decimal.Decimal(f"-{age}.25"),
         "born": datetime.date(1990, 1, 1) + datetime.timedelta(days=age),
         "seen": datetime.datetime(2024, 5, 1, 12, 0, age, 250000, tzinfo=UTC),
         "seen_us": datetime.datetime(2024, 5, 1, 12, 0, age, 123456, tzinfo=UTC),
         "uid": str(uuid.UUID(int=age)), "photo": bytes([age, 0, 255]), "hash": name[:4].ljust(4, "_").encode()}
    if version == 2:
        u["tier"] = extra.get("tier", "gold")
    return u


def produce(broker, registry_url, topic, rows):
    """rows: (partition, key, schema dict, value dict or raw bytes). Returns the schema id of each row
    (None for raw bytes)."""
    client = SchemaRegistryClient({"url": registry_url})
    serializers = {}
    producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap})
    ids = []
    for partition, key, schema, value in rows:
        if isinstance(value, bytes):
            data, schema_id = value, None
        else:
            text = json.dumps(schema)
            if text not in serializers:
                serializers[text] = AvroSerializer(client, text)
            data = serializers[text](value, SerializationContext(topic, MessageField.VALUE))
            schema_id = int.from_bytes(data[1:5], "big")
        producer.produce(topic, value=data, key=key.encode(), partition=partition,
                         headers=[("schema", "v2" if schema is USER_V2 else "v1")])
        ids.append(schema_id)
    assert producer.flush(30) == 0
    return ids


def write_job(directory, source, routes, functions=None, extra=""):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    job = directory / "job.yaml"
    job.write_text(f"""
savepoint: {{ path: {directory / 'savepoint'}, max_parallelism: 128, parallelism: 2 }}
functions:
{functions or USER_FUNCTION}
sources:
{source}
routes:
{routes}
{extra}""")
    return job, directory / "savepoint"


def avro_source(name, broker, topic, registry_url, registry_extra="", extra=""):
    return (f"  {name}: {{ kafka: {{ brokers: '{broker.bootstrap}', topics: [{topic}], progress: off{extra},\n"
            f"      value: {{ format: avro, registry: {{ url: '{registry_url}'{registry_extra} }} }} }} }}")


USER_FUNCTION = """
  example/user:
    states:
      name: { type: io.statefun.types/string }
      age: { type: io.statefun.types/int }
      score: { type: io.statefun.types/double }
      vip: { type: io.statefun.types/bool }
      color: { type: io.statefun.types/string }
      tags: { type: io.statefun.types/string }
      attrs: { type: io.statefun.types/string }
      city: { type: io.statefun.types/string }
      price: { type: io.statefun.types/string }
      born: { type: io.statefun.types/string }
      seen: { type: io.statefun.types/long }
      seen_us: { type: io.statefun.types/long }
      uid: { type: io.statefun.types/string }
      tier: { type: io.statefun.types/string }
      doc: { type: example/UserJson, codec: json }
      updates: { type: io.statefun.types/long }
"""

USER_ROUTES = """
  - from: users
    to: example/user
    set: { name: "{value.name}", age: "{value.age}", score: "{value.score}", vip: "{value.vip}",
           color: "{value.color}", tags: "{value.tags}", attrs: "{value.attrs}", city: "{value.address.city}",
           price: "{value.price}", born: "{value.born}", seen: "{value.seen}", seen_us: "{value.seen_us}",
           uid: "{value.uid}", doc: "{value}" }
    merge: { updates: count }
  - from: users
    to: example/user
    where: "{headers.schema} == v2"
    set: { tier: "{value.tier}" }
"""


def expected_entries(latest, updates):
    """What the savepoint holds for each key's latest value (a dict as produced)."""
    out = []
    u = "example/user"
    for key, v in latest.items():
        epoch = datetime.datetime(1970, 1, 1, tzinfo=UTC)
        values = {
            "name": v["name"], "age": v["age"], "score": v["score"], "vip": v["vip"], "color": v["color"],
            "tags": json.dumps(v["tags"], separators=(",", ":")),
            "attrs": json.dumps(v["attrs"], separators=(",", ":")), "city": v["address"]["city"],
            "price": str(v["price"]), "born": v["born"].isoformat(),
            "seen": (v["seen"] - epoch) // datetime.timedelta(milliseconds=1),
            "seen_us": (v["seen_us"] - epoch) // datetime.timedelta(microseconds=1),
            "uid": v["uid"], "updates": updates[key]}
        if "tier" in v:
            values["tier"] = v["tier"]
        out += [{"function": u, "state": s, "id": key, "value": x} for s, x in values.items()]
    return out


def expected_doc(v):
    """The JSON form of a produced value ("{value}"): the union's branch as is, bytes in base64,
    decimals and dates as text, timestamps as their numbers."""
    import base64
    epoch = datetime.datetime(1970, 1, 1, tzinfo=UTC)
    d = dict(v)
    d["price"] = str(v["price"])
    d["born"] = v["born"].isoformat()
    d["seen"] = (v["seen"] - epoch) // datetime.timedelta(milliseconds=1)
    d["seen_us"] = (v["seen_us"] - epoch) // datetime.timedelta(microseconds=1)
    d["photo"] = base64.b64encode(v["photo"]).decode()
    d["hash"] = base64.b64encode(v["hash"]).decode()
    return d


def test_avro_history_whose_schema_evolved_decodes_record_by_record(kafka, registry, flink_judge, tmp_path):
    kafka.create_topic("avro-users", 2)
    rows = [(0, "ana", USER_V1, user("ana", 31, 1)), (1, "bob", USER_V1, user("bob", 40, 1)),
            (0, "cy", USER_V1, user("cy", 22, 1)),
            (0, "ana", USER_V2, user("Ana Maria", 32, 2, tier="gold")), (1, "dee", USER_V2, user("dee", 50, 2)),
            (1, "bob", USER_V1, user("Bob 2", 41, 1))]
    ids = produce(kafka, registry.url, "avro-users", rows)
    assert len(set(ids)) == 2, ids  # v1 and v2 have their own ids
    job, sp = write_job(tmp_path, avro_source("users", kafka, "avro-users", registry.url), USER_ROUTES)
    run_cli("validate", job, "--connect")
    summary = tmp_path / "summary.json"
    run_cli("run", job, "--quiet", "--summary-json", summary)
    s = json.loads(summary.read_text())
    assert s["records_read"] == len(rows) and s.get("records_dead_lettered", 0) == 0, s

    latest, updates = {}, {}
    for _, key, _, value in rows:
        latest[key] = value
        updates[key] = updates.get(key, 0) + 1
    # bob's v2-free history never sets tier; ana's v2 record does
    expected = expected_entries(latest, updates)
    got = dump(sp, job)
    assert_entries_equal(expected, [e for e in got if e["state"] != "doc"], label="dump")
    docs = {e["id"]: e["value"] for e in got if e["state"] == "doc"}
    assert sorted(docs) == sorted(latest)
    for key, v in latest.items():
        doc = docs[key] if isinstance(docs[key], dict) else json.loads(docs[key])
        assert doc == expected_doc(v), (key, doc)

    flink_judge.add("kafka_avro_registry", sp, plan(job))
    flink = flink_judge.read("kafka_avro_registry")
    assert_entries_equal(expected, [e for e in flink if e["state"] != "doc"], label="Flink read of an Avro-built savepoint")
    assert sorted(e["id"] for e in flink if e["state"] == "doc") == sorted(latest)


def test_records_the_registry_cannot_explain_name_topic_partition_offset_and_schema_id(kafka, registry, tmp_path):
    kafka.create_topic("avro-bad")
    good = user("ana", 31, 1)
    ids = produce(kafka, registry.url, "avro-bad", [(0, "ana", USER_V1, good)])
    v1 = ids[0]
    truncated = b"\x00" + v1.to_bytes(4, "big") + b"\x06ana"  # a name, then nothing
    produce(kafka, registry.url, "avro-bad", [
        (0, "plain", None, b'{"name": "not framed"}'),
        (0, "unknown", None, b"\x00" + (987654).to_bytes(4, "big") + b"\x06ana"),
        (0, "short", None, truncated),
        (0, "bob", USER_V1, user("bob", 40, 1)),
    ])
    dead_letter = tmp_path / "bad.jsonl"
    job, sp = write_job(tmp_path / "dl", avro_source("users", kafka, "avro-bad", registry.url), USER_ROUTES,
                        extra=f"errors: {{ dead_letter: {dead_letter}, max_bad_records: 10 }}\n")
    run_cli("run", job, "--quiet")
    lines = {l["position"]: l for l in map(json.loads, dead_letter.read_text().splitlines())}
    want = {
        "topic avro-bad partition 0 offset 1": "the value is not in the schema registry wire format",
        "topic avro-bad partition 0 offset 2": "the value's schema id 987654 is unknown",
        "topic avro-bad partition 0 offset 3": f"the value (schema id {v1}): the bytes are not an Avro datum of example.User",
    }
    assert set(lines) == set(want), lines
    for position, says in want.items():
        assert lines[position]["stage"] == "parse" and says in lines[position]["error"], lines[position]
    assert sorted({e["id"] for e in dump(sp, job)}) == ["ana", "bob"]

    # without a dead-letter file the first one fails the run, saying where and what
    job, sp = write_job(tmp_path / "fail", avro_source("users", kafka, "avro-bad", registry.url), USER_ROUTES)
    proc = run_cli("run", job, check=False)
    assert proc.returncode != 0 and not sp.exists()
    assert "topic avro-bad partition 0 offset 1: the value is not in the schema registry wire format" in proc.stderr, proc.stderr
    assert "fix: the producer must use a schema registry serializer" in proc.stderr, proc.stderr


def test_a_registry_that_does_not_answer_fails_before_reading(kafka, registry, tmp_path):
    kafka.create_topic("avro-down")
    produce(kafka, registry.url, "avro-down", [(0, "ana", USER_V1, user("ana", 31, 1))])
    down = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"
    job, sp = write_job(tmp_path, avro_source("users", kafka, "avro-down", down, ", timeout: 2s"), USER_ROUTES)
    assert run_cli("validate", job).returncode == 0  # nothing is contacted without --connect
    proc = run_cli("validate", job, "--connect", check=False, timeout=60)
    assert proc.returncode != 0 and "the schema registry does not answer" in proc.stderr, proc.stderr
    proc = run_cli("run", job, check=False, timeout=60)
    assert proc.returncode != 0 and "the schema registry does not answer" in proc.stderr, proc.stderr
    assert down in proc.stderr and not sp.exists()
    # a second url that answers is used when the first does not
    job, sp = write_job(tmp_path / "fallback", avro_source("users", kafka, "avro-down", f"{down}, {registry.url}",
                                                            ", timeout: 2s"), USER_ROUTES)
    run_cli("run", job, "--quiet")
    assert {e["value"] for e in dump(sp, job) if e["state"] == "name"} == {"ana"}


def test_basic_auth_credentials_are_sent_and_never_printed(kafka, registry, tmp_path):
    kafka.create_topic("avro-auth")
    ids = produce(kafka, registry.url, "avro-auth", [(0, "ana", USER_V1, user("ana", 31, 1)),
                                                     (0, "dee", USER_V2, user("dee", 50, 2)),
                                                     (0, "ana", USER_V1, user("ana", 33, 1))])
    schemas = {i: registry.schema(i) for i in set(ids)}
    secret = "s3cr3t-" + os.urandom(6).hex()
    # The stand-in (not a registry) answers with the real registry's schemas, only to these credentials.
    with BasicAuthStandIn(f"app:{secret}", schemas) as stand_in:
        job, sp = write_job(tmp_path / "ok", avro_source(
            "users", kafka, "avro-auth", stand_in.url, ", basic.auth.user.info: '${SFB_TEST_REGISTRY_AUTH}'",
            extra=", readers: 2"), USER_ROUTES)
        env = {"SFB_TEST_REGISTRY_AUTH": f"app:{secret}"}
        out = run_cli("run", job, env=env)
        assert secret not in out.stdout + out.stderr
        assert {(e["id"], e["value"]) for e in dump(sp, job) if e["state"] == "age"} == {("ana", 33), ("dee", 50)}
        fetched = [p for p, allowed in stand_in.requests if "/schemas/ids/" in p]
        assert all(allowed for _, allowed in stand_in.requests), stand_in.requests
        assert sorted(fetched) == sorted(f"/apis/ccompat/v7/schemas/ids/{i}" for i in set(ids)), fetched  # once each

        job, sp = write_job(tmp_path / "wrong", avro_source(
            "users", kafka, "avro-auth", stand_in.url, ", basic.auth.user.info: '${SFB_TEST_REGISTRY_AUTH}'"),
            USER_ROUTES)
        proc = run_cli("run", job, check=False, env={"SFB_TEST_REGISTRY_AUTH": "app:wrong-" + secret})
        assert proc.returncode != 0 and not sp.exists()
        assert "HTTP 401, the registry refused the credentials" in proc.stderr, proc.stderr
        assert "basic.auth.user.info" in proc.stderr and secret not in proc.stdout + proc.stderr
        proc = run_cli("validate", job, "--connect", "--json", check=False,
                       env={"SFB_TEST_REGISTRY_AUTH": f"app:{secret}"})
        assert proc.returncode == 0 and secret not in proc.stdout + proc.stderr, proc.stderr
