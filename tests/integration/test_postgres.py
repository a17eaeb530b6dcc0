"""The PostgreSQL connector against a real server: PostgreSQL from Debian's packages, started as a
throwaway cluster on a free local port for this module (tests/postgres/cluster.sh), loaded with
tests/postgres/schema.sql, and stopped at the end whatever happens.

Covered: table and query sources; every mapped type with NULLs and non-ASCII text; chunked parallel
reads giving byte-identical savepoints to single-worker reads; one consistent snapshot while another
session writes; validate --connect; clear errors (password, table, column, type, permissions) before
any data is read; identifier quoting; a worker backend killed mid-read (retried), the snapshot lost
and the server stopping (failed, no savepoint); provenance; passwords never shown; exact numeric
(integral values into longs, scale:, sums of 100,000 customers equal to SQL's sum()); numeric, jsonb and
arrays embedded in json objects; BC timestamps, epoch-millis floor and hstore; Ctrl-C while a query runs
and while LOCK TABLE waits; and one job read by real Flink.
"""
import base64
import datetime
import json
import os
import pathlib
import re
import secrets
import signal
import subprocess
import threading
import time

import pytest

from comparison import assert_entries_equal
from conftest import CLI, ROOT, FlinkJudge, run_cli

CLUSTER = ROOT / "tests" / "postgres" / "cluster.sh"
SCHEMA = ROOT / "tests" / "postgres" / "schema.sql"
# Random, so a leak anywhere is found by searching for it.
READER_PASSWORD = "rd-" + secrets.token_hex(8)
OUTSIDER_PASSWORD = "out-" + secrets.token_hex(8)


class Cluster:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.port = int((self.dir / "port").read_text())

    def psql(self, sql, db="sfb_test", check=True):
        """Runs SQL as the superuser; returns the rows as lists of strings."""
        proc = subprocess.run(["bash", str(CLUSTER), "psql", str(self.dir), "-d", db, "-At", "-F", "\t", "-c", sql],
                              capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"psql failed: {sql}\n{proc.stderr}")
        return [line.split("\t") for line in proc.stdout.splitlines() if line]

    def session(self):
        """A psql session fed statement by statement (for transactions that span test steps)."""
        return subprocess.Popen(["bash", str(CLUSTER), "psql", str(self.dir), "-d", "sfb_test", "-At"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def our_backends(self, kind=""):
        return self.psql("SELECT pid, application_name, state, wait_event_type, left(query, 60) FROM pg_stat_activity "
                         f"WHERE application_name LIKE 'statefun-bootstrap{(' ' + kind) if kind else ''}%'")


@pytest.fixture(scope="module")
def pg():
    proc = subprocess.run(["bash", str(CLUSTER), "start"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"could not start PostgreSQL:\n{proc.stderr}"
    directory = proc.stdout.strip().splitlines()[-1]
    try:
        cluster = Cluster(directory)
        load = subprocess.run(["bash", str(CLUSTER), "psql", directory, "-v", f"reader_password={READER_PASSWORD}",
                               "-v", f"outsider_password={OUTSIDER_PASSWORD}", "-f", str(SCHEMA)],
                              capture_output=True, text=True, timeout=300)
        assert load.returncode == 0, load.stderr
        yield cluster
    finally:
        subprocess.run(["bash", str(CLUSTER), "stop", directory], capture_output=True, timeout=180)


ENV = {"SFB_PG_PASSWORD": READER_PASSWORD}


def connection(pg, user="sfb_reader", password="${SFB_PG_PASSWORD}"):
    return f'host: 127.0.0.1, port: {pg.port}, database: sfb_test, user: {user}, password: "{password}"'


def write_job(directory, body, parallelism=2):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    job = directory / "job.yaml"
    job.write_text(f"savepoint: {{ path: {directory / 'sp'}, max_parallelism: 128, parallelism: {parallelism} }}\n"
                   + body, encoding="utf-8")
    return job, directory / "sp"


def run(job, *args, check=True):
    proc = run_cli("run", job, "--overwrite", *args, env=ENV, check=check)
    for stream in (proc.stdout, proc.stderr):
        assert READER_PASSWORD not in stream
    return proc


def dump(savepoint, spec=None):
    """Entries as `dump` prints them (the job file is read with the password variable set)."""
    args = ["dump", savepoint] + (["--spec", spec] if spec else [])
    return [json.loads(line) for line in run_cli(*args, env=ENV).stdout.splitlines() if line.strip()]


def savepoint_bytes(sp):
    """Every file Flink reads (the provenance file holds the snapshot id and times, so it differs)."""
    sp = pathlib.Path(sp)
    return {p.name: p.read_bytes() for p in sorted(sp.iterdir()) if p.name != "statefun-bootstrap.json"}


def assert_no_savepoint(sp):
    sp = pathlib.Path(sp)
    assert not sp.exists(), f"{sp} was left behind"
    leftovers = [p.name for p in sp.parent.iterdir() if p.name.startswith(".") and sp.name in p.name]
    assert leftovers == [], leftovers


# --- Every mapped type ------------------------------------------------------------------------------

TYPES_FUNCTIONS = """
functions:
  pg/types:
    states:
      i2: { type: io.statefun.types/long }
      i4: { type: io.statefun.types/long }
      i8: { type: io.statefun.types/long }
      num: { type: io.statefun.types/string }
      num_p: { type: io.statefun.types/string }
      f4: { type: io.statefun.types/double }
      f8: { type: io.statefun.types/double }
      b: { type: io.statefun.types/bool }
      t: { type: io.statefun.types/string }
      vc: { type: io.statefun.types/string }
      ch: { type: io.statefun.types/string }
      by: { type: pg/Bytes, codec: raw }
      d: { type: io.statefun.types/string }
      ts: { type: io.statefun.types/string }
      tstz: { type: io.statefun.types/string }
      u: { type: io.statefun.types/string }
      j: { type: pg/Json, codec: json }
      jb: { type: pg/Json, codec: json }
      ia: { type: pg/Json, codec: json }
      ta: { type: pg/Json, codec: json }
      tsa: { type: pg/Json, codec: json }
      ba: { type: pg/Json, codec: json }
      ja: { type: pg/Json, codec: json }
      m: { type: io.statefun.types/string }
      tm: { type: io.statefun.types/string }
      iv: { type: io.statefun.types/string }
      ip: { type: io.statefun.types/string }
      dom: { type: io.statefun.types/int }
  pg/epoch:
    states:
      d: { type: io.statefun.types/long }
      ts: { type: io.statefun.types/long }
      tstz: { type: io.statefun.types/long }
      tsa: { type: pg/Json, codec: json }
"""

TYPE_COLUMNS = ["i2", "i4", "i8", "num", "num_p", "f4", "f8", "b", "t", "vc", "ch", "by", "d", "ts", "tstz", "u",
                "j", "jb", "ia", "ta", "tsa", "ba", "ja", "m", "tm", "iv", "ip", "dom"]


def types_job(directory, pg, table_source=True):
    if table_source:
        source = f"postgres: {{ {connection(pg)}, table: public.all_types }}"
    else:
        source = (f"postgres: {{ {connection(pg)}, query: 'SELECT id, {', '.join(TYPE_COLUMNS)} "
                  "FROM all_types ORDER BY id' }")
    sets = ", ".join(f'{c}: "{{{c}}}"' for c in TYPE_COLUMNS)
    return write_job(directory, TYPES_FUNCTIONS + f"""
sources:
  types: {{ {source} }}
  epochs:
    postgres:
      dsn: host=127.0.0.1 port={pg.port} dbname=sfb_test user=sfb_reader
      password: ${{SFB_PG_PASSWORD}}
      query: |
        SELECT id, d, ts, tstz, tsa FROM all_types
        WHERE id <> 4 -- its tstz is infinity, which is no number
      timestamps: epoch_millis
routes:
  - from: types
    to: pg/types
    id: "{{id}}"
    set: {{ {sets} }}
  - from: epochs
    to: pg/epoch
    id: "{{id}}"
    set: {{ d: "{{d}}", ts: "{{ts}}", tstz: "{{tstz}}", tsa: "{{tsa}}" }}
""")


def b64(data):
    return base64.b64encode(data).decode()


def ms(text):
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(milliseconds=1)


# What each row of all_types must become, written out by hand from schema.sql (row 2 is all NULL, so
# it sets nothing: a NULL leaves a state unset). A real becomes the double of its shortest decimal
# text (3.4028235e38), as a real read from a CSV file would.
TYPES_EXPECTED_BY_ROW = {
    "1": dict(i2=32767, i4=-2147483648, i8=9223372036854775807, num="12345678901234567890.0123456789",
              num_p="42.50", f4=1.5, f8=0.1, b=True, t="zoë 李雷 🚀 tab\tand\nnewline \\ backslash",
              vc="varchar", ch="ab   ", by=("b64", b64(b"\x00\xffA")), d="2024-02-29", ts="2024-01-31T12:34:56.789",
              tstz="2024-01-31T10:34:56.789Z", u="a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", j={"k": [1, "ü"]},
              jb={"a": 1, "b": 2}, ia=[1, None, -3], ta=["x y", 'q"z', None, "李"], tsa=["2024-01-01T00:00:00Z"],
              ba=[b64(b"\x01\x02")], ja=[{"a": 1}], m="ünïcode", tm="13:14:15.5", iv="1 day 02:03:04",
              ip="192.168.0.1/24", dom=7),
    "3": dict(i2=-32768, i4=0, i8=-9223372036854775808, num="NaN", num_p="-0.01", f4="NaN", f8="-Infinity",
              b=False, t="", vc="", ch="     ", by="", d="1970-01-01", ts="1969-12-31T23:59:59.999999",
              tstz="1970-01-01T00:00:00Z", u="00000000-0000-0000-0000-000000000000", j=[], jb=None, ia=[], ta=[],
              tsa=[], ba=[], ja=[], m="sad", tm="00:00:00", iv="-1 mons", ip="::1", dom=1),
    "4": dict(i2=1, i4=1, i8=1, num="0.5", num_p="1000000000.00", f4=3.4028235e38, f8=1e308, b=True,
              t="Ωmega", vc="ß", ch="x    ", by="hello", d="0001-01-01", ts="2262-04-11T23:47:16", tstz="infinity",
              u="ffffffff-ffff-ffff-ffff-ffffffffffff", j="just a string", jb=3.25, ia=[[1, 2], [3, 4]],
              ta=["", "NULL"], tsa=[None, "1999-12-31T23:59:59.5Z"], ba=[None], ja=[[1, 2], None], m="happy",
              tm="23:59:59.999999", iv="3 years 2 mons", ip="2001:db8::/32", dom=2147483647),
}
EPOCH_EXPECTED_BY_ROW = {
    "1": dict(d=ms("2024-02-29"), ts=ms("2024-01-31T12:34:56.789"), tstz=ms("2024-01-31T10:34:56.789+00:00"),
              tsa=[ms("2024-01-01T00:00:00+00:00")]),
    "3": dict(d=0, ts=-1, tstz=0, tsa=[]),
}


def types_expected():
    out = []
    for ident, states in TYPES_EXPECTED_BY_ROW.items():
        for state, value in states.items():
            if isinstance(value, tuple):
                out.append(dict(function="pg/types", state=state, id=ident, value_base64=value[1]))
            else:
                out.append(dict(function="pg/types", state=state, id=ident, value=value))
    for ident, states in EPOCH_EXPECTED_BY_ROW.items():
        for state, value in states.items():
            out.append(dict(function="pg/epoch", state=state, id=ident, value=value))
    return out


@pytest.mark.parametrize("table_source", [True, False], ids=["table", "query"])
def test_every_mapped_type_table_and_query(pg, tmp_path, table_source):
    job, sp = types_job(tmp_path, pg, table_source)
    out = run(job, "--threads", "2").stdout
    assert_entries_equal(types_expected(), dump(sp, job), label="all_types")
    assert "source types" in out and "source epochs" in out  # provenance in the end summary
    # Both sources connect the same way (one with fields, one with a dsn): they share one snapshot.
    sources = json.loads((sp / "statefun-bootstrap.json").read_text())["sources"]
    assert sources[0]["provenance"]["snapshot"] == sources[1]["provenance"]["snapshot"]


# --- Parallel chunks give the same savepoint as one worker --------------------------------------------

EVENTS_JOB = """
functions:
  pg/user:
    states:
      total: { type: io.statefun.types/long }
      n: { type: io.statefun.types/int }
      last_note: { type: io.statefun.types/string }
      first_amount: { type: io.statefun.types/long }
sources:
  events:
    postgres: { %(conn)s, table: %(table)s, split_by: %(split)s, chunk_rows: %(chunk_rows)d, workers: %(workers)d }
routes:
  - from: events
    to: pg/user
    id: "{user_id}"
    set: { last_note: "{%(note)s}" }
    merge: { total: sum(%(amount)s), n: count, first_amount: first(%(amount)s) }
"""

# Per table: what orders its records (an integer primary key, else the ctid), and its columns.
TABLES = {
    "public.events": dict(order="id", note="note", amount="amount"),
    "public.nokey": dict(order="ctid", note="seq", amount="amount"),
    "public.uuid_items": dict(order="ctid", note="v", amount="v"),
}


def events_job(directory, pg, table="public.events", split="auto", chunk_rows=10000, workers=2, conn=None):
    cols = TABLES[table]
    return write_job(directory, EVENTS_JOB % dict(conn=conn or connection(pg), table=table, split=split,
                                                  chunk_rows=chunk_rows, workers=workers, note=cols["note"],
                                                  amount=cols["amount"]))


def events_expected(pg, table):
    """The job's states computed by the server itself, records taken in key or physical order."""
    c = TABLES[table]
    rows = pg.psql(f"SELECT user_id, sum({c['amount']}), count(*), "
                   f"(array_agg({c['note']}::text ORDER BY {c['order']} DESC))[1], "
                   f"(array_agg({c['amount']} ORDER BY {c['order']}))[1] FROM {table} GROUP BY user_id")
    out = []
    for user, total, n, last, first in rows:
        out += [dict(function="pg/user", state="total", id=user, value=int(total)),
                dict(function="pg/user", state="n", id=user, value=int(n)),
                dict(function="pg/user", state="last_note", id=user, value=last),
                dict(function="pg/user", state="first_amount", id=user, value=int(first))]
    return out


@pytest.mark.parametrize("table,splits", [
    ("public.events", ["ctid", "key", "auto"]),      # integer key: positions are keys
    ("public.nokey", ["ctid", "auto", "auto"]),      # no key: positions are ctids
    ("public.uuid_items", ["ctid", "key", "auto"]),  # uuid key (split by uuid ranges); positions are ctids
], ids=["int-key", "no-key", "uuid-key"])
def test_parallel_chunks_equal_single_worker(pg, tmp_path, table, splits):
    single_job, single_sp = events_job(tmp_path / "single", pg, table, split="none", workers=1)
    run(single_job, "--threads", "1")
    reference = savepoint_bytes(single_sp)
    for split, workers, threads in zip(splits, [4, 3, 2], [4, 2, 3]):
        job, sp = events_job(tmp_path / f"{split}-{workers}", pg, table, split=split, chunk_rows=700, workers=workers)
        plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"][0]
        assert plan["chunks"] > 3, plan
        run(job, "--threads", str(threads))
        assert savepoint_bytes(sp) == reference, f"split_by {split}, {workers} workers differs from one worker"
    assert_entries_equal(events_expected(pg, table), dump(single_sp), label=table)


def test_fewer_workers_when_the_server_has_no_connections_to_spare(pg, tmp_path):
    """sfb_limited may open two connections: the snapshot session and one worker of the four asked for."""
    reference_job, reference_sp = events_job(tmp_path / "ref", pg, split="none", workers=1)
    run(reference_job, "--threads", "1")
    job, sp = events_job(tmp_path / "limited", pg, chunk_rows=3000, workers=4,
                         conn=connection(pg, user="sfb_limited"))
    proc = run(job, "--threads", "4")
    assert proc.stderr.count("warning: ") == 1, proc.stderr
    assert ('accepts no more connections (too many connections for role "sfb_limited"); reading with fewer '
            "workers than the 4 asked for") in proc.stderr, proc.stderr
    assert savepoint_bytes(sp) == savepoint_bytes(reference_sp)


def test_partitioned_table_and_view(pg, tmp_path):
    job, sp = write_job(tmp_path, f"""
functions:
  pg/sensor:
    states:
      n: {{ type: io.statefun.types/int }}
      last: {{ type: io.statefun.types/double }}
  pg/spender:
    states:
      total: {{ type: io.statefun.types/long }}
sources:
  m: {{ postgres: {{ {connection(pg)}, table: public.measurements, chunk_rows: 1000 }} }}
  v: {{ postgres: {{ {connection(pg)}, table: public.big_spenders }} }}
routes:
  - {{ from: m, to: pg/sensor, id: "{{sensor}}", set: {{ last: "{{value}}" }}, merge: {{ n: count }} }}
  - {{ from: v, to: pg/spender, id: "{{user_id}}", set: {{ total: "{{total}}" }} }}
""")
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"]
    assert plan[0]["split_by"] == "key id" and plan[0]["chunks"] >= 8, plan[0]
    assert plan[1]["split_by"] == "none", plan[1]
    run(job, "--threads", "3")
    expected = []
    for sensor, n, last in pg.psql("SELECT sensor, count(*), (array_agg(value ORDER BY id DESC))[1] "
                                   "FROM measurements GROUP BY sensor"):
        expected += [dict(function="pg/sensor", state="n", id=sensor, value=int(n)),
                     dict(function="pg/sensor", state="last", id=sensor, value=float(last))]
    for user, total in pg.psql("SELECT user_id, total FROM big_spenders"):
        expected.append(dict(function="pg/spender", state="total", id=user, value=int(total)))
    assert len(expected) > 60
    assert_entries_equal(expected, dump(sp), label="partitioned and view")


# --- One snapshot while another session writes --------------------------------------------------------

def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_run(job, threads=1):
    return subprocess.Popen([str(CLI), "run", str(job), "--threads", str(threads), "--overwrite", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})


def test_snapshot_is_consistent_while_another_session_writes(pg, tmp_path):
    """Another session holds a lock the run's snapshot session must wait for (after taking the snapshot),
    changes rows, and commits before any worker starts. Workers that took their own snapshot would see
    the changes; workers that import the exported snapshot must not."""
    job, sp = write_job(tmp_path, f"""
functions:
  pg/account:
    states:
      balance: {{ type: io.statefun.types/long }}
      owner: {{ type: io.statefun.types/string }}
sources:
  accounts: {{ postgres: {{ {connection(pg)}, table: public.accounts, chunk_rows: 500, workers: 4 }} }}
routes:
  - {{ from: accounts, to: pg/account, id: "{{id}}", set: {{ balance: "{{balance}}", owner: "{{owner}}" }} }}
""")
    before = {int(i): (owner, int(b)) for i, owner, b in pg.psql("SELECT id, owner, balance FROM accounts")}
    writer = pg.session()
    writer.stdin.write("BEGIN;\nLOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;\n")
    writer.stdin.flush()
    wait_for(lambda: pg.psql("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                             "WHERE c.relname = 'accounts' AND l.mode = 'AccessExclusiveLock' AND l.granted"),
             what="the writer's lock")
    reader = start_run(job, threads=4)
    try:
        wait_for(lambda: [b for b in pg.our_backends("snapshot") if b[3] == "Lock"],
                 what="the run to wait for the lock")
        writer.stdin.write("UPDATE accounts SET balance = balance + 1000 WHERE id <= 100;\n"
                           "DELETE FROM accounts WHERE id > 4900;\n"
                           "INSERT INTO accounts SELECT g, 'new', 1 FROM generate_series(5001, 5100) g;\n"
                           "COMMIT;\n")
        writer.stdin.close()
        assert writer.wait(timeout=60) == 0, writer.stderr.read()
        # And one more change in its own transaction while the run goes on.
        pg.psql("UPDATE accounts SET owner = 'changed' WHERE id BETWEEN 200 AND 300")
        out, err = reader.communicate(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
        if writer.poll() is None:
            writer.kill()
    assert reader.returncode == 0, err
    expected = []
    for i, (owner, balance) in before.items():
        expected += [dict(function="pg/account", state="balance", id=str(i), value=balance),
                     dict(function="pg/account", state="owner", id=str(i), value=owner)]
    assert_entries_equal(expected, dump(sp), label="accounts as of the snapshot")
    assert pg.psql("SELECT count(*), sum(balance) FROM accounts") != [["5000", "500000"]]  # it did change
    pg.psql("DELETE FROM accounts WHERE id > 5000; "
            "INSERT INTO accounts SELECT g, 'owner-' || g, 100 FROM generate_series(4901, 5000) g; "
            "UPDATE accounts SET balance = 100, owner = 'owner-' || id")


def test_a_given_snapshot_is_read_as_is(pg, tmp_path):
    """snapshot: imports a snapshot exported elsewhere (as a replication slot's creation does) instead of
    exporting one: the run sees the data as of that snapshot, and the provenance says so."""
    id_file = tmp_path / "snapshot_id"
    holder = pg.session()
    holder.stdin.write(f"BEGIN ISOLATION LEVEL REPEATABLE READ;\n\\copy (SELECT pg_export_snapshot()) TO '{id_file}'\n")
    holder.stdin.flush()
    try:
        snapshot_id = wait_for(lambda: id_file.exists() and id_file.read_text().strip(), what="the exported snapshot")
        pg.psql("UPDATE accounts SET balance = 7 WHERE id = 1")  # after that snapshot
        job, sp = write_job(tmp_path, f"""
functions: {{ pg/account: {{ states: {{ balance: {{ type: io.statefun.types/long }} }} }} }}
sources:
  accounts: {{ postgres: {{ {connection(pg)}, table: public.accounts, snapshot: '{snapshot_id}' }} }}
routes: [ {{ from: accounts, to: pg/account, id: "{{id}}", set: {{ balance: "{{balance}}" }} }} ]
""")
        run(job)
        balances = {e["id"]: e["value"] for e in dump(sp)}
        assert len(balances) == 5000 and set(balances.values()) == {100}
        snap = json.loads((sp / "statefun-bootstrap.json").read_text())["sources"][0]["provenance"]["snapshot"]
        assert snap["id"] == snapshot_id and snap["exported"] is False
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        holder.wait(timeout=60)
        # Once the exporting transaction ends, the snapshot is gone, and the message says so.
        gone = run_cli("validate", job, "--connect", env=ENV, check=False)
        assert gone.returncode != 0
        assert f"snapshot {snapshot_id} is no longer available" in gone.stderr, gone.stderr
        assert "keep that session open until the run ends" in gone.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
        pg.psql("UPDATE accounts SET balance = 100 WHERE id = 1")


# --- validate --connect, provenance, secrets ------------------------------------------------------------

def test_validate_connect_prints_the_plan_without_reading(pg, tmp_path):
    job, sp = events_job(tmp_path, pg, chunk_rows=5000, workers=3)
    # Without --connect nothing is contacted, so even a wrong password passes.
    offline = run_cli("validate", job, env={"SFB_PG_PASSWORD": "not-the-password"})
    assert "kind=postgres" in offline.stdout and "chunks=" not in offline.stdout
    pg.psql("SELECT pg_stat_reset()")
    online = run_cli("validate", job, "--connect", env=ENV)
    assert "split_by=ctid" in online.stdout and "chunks=6" in online.stdout, online.stdout
    assert "workers=3" in online.stdout and "estimated_rows=" in online.stdout
    assert "order=primary key id" in online.stdout
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"][0]
    assert plan["table"] == "public.events" and plan["chunks"] == 6 and 25000 < plan["estimated_rows"] < 35000
    assert READER_PASSWORD not in online.stdout + online.stderr + json.dumps(plan)
    # Planning read no table rows: the server counted no tuples fetched from events by a scan.
    time.sleep(0.7)  # statistics are flushed by the backends within a second
    scans = pg.psql("SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'events'")
    assert scans == [["0"]], scans
    assert not sp.exists()


def test_provenance_records_the_snapshot(pg, tmp_path):
    job, sp = events_job(tmp_path, pg)
    lsn_before = pg.psql("SELECT pg_current_wal_lsn()")[0][0]
    proc = run(job, "--threads", "2", "--summary-json", tmp_path / "summary.json")
    prov = json.loads((sp / "statefun-bootstrap.json").read_text())
    source = prov["sources"][0]["provenance"]
    snap = source["snapshot"]
    assert source["kind"] == "postgres" and source["table"] == "public.events"
    assert source["rows"] == int(pg.psql("SELECT count(*) FROM events")[0][0])
    assert snap["exported"] is True and snap["id"]
    lsn = lambda text: int(text.split("/")[0], 16) << 32 | int(text.split("/")[1], 16)
    assert lsn(snap["lsn"]) >= lsn(lsn_before)
    assert abs(snap["time_ms"] / 1000 - time.time()) < 120 and snap["time"].endswith("Z")
    assert snap["lsn"] in proc.stdout  # the end summary shows it
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["sources"][0]["provenance"]["snapshot"]["lsn"] == snap["lsn"]
    for path in [*sp.iterdir(), tmp_path / "summary.json"]:
        assert READER_PASSWORD.encode() not in path.read_bytes(), path
    # Every session is closed when the run ends.
    assert pg.our_backends() == []


def test_password_in_the_dsn_is_never_shown(pg, tmp_path):
    dsn = f"postgresql://sfb_reader:{READER_PASSWORD}@127.0.0.1:{pg.port}/sfb_test?sslmode=disable"
    job, sp = events_job(tmp_path, pg, conn=f"dsn: '{dsn}'")
    proc = run(job, "--threads", "2")
    plan = run_cli("validate", job, "--connect", "--json").stdout
    assert READER_PASSWORD not in plan and "sfb_reader" in plan
    assert READER_PASSWORD.encode() not in (sp / "statefun-bootstrap.json").read_bytes()
    assert "127.0.0.1" in proc.stdout


def create_role(pg, name, password, grants="GRANT SELECT ON events TO {role}"):
    """A login role of the test's own (once per cluster), with CONNECT on sfb_test and `grants`."""
    pg.psql(f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
            f"CREATE ROLE {name} LOGIN PASSWORD '{password}'; END IF; END$$; "
            f"GRANT CONNECT ON DATABASE sfb_test TO {name}; " + grants.format(role=name))


def test_a_short_password_leaves_the_database_name_intact(pg, tmp_path):
    """Secrets are never formatted in, so nothing is masked afterwards: a one-letter password that also
    occurs in the database and user names leaves both intact in the summary, the provenance and errors."""
    create_role(pg, "sfb_tiny", "t")
    conn = f"host: 127.0.0.1, port: {pg.port}, database: sfb_test, user: sfb_tiny, password: t"
    job, sp = events_job(tmp_path, pg, conn=conn)
    summary = tmp_path / "summary.json"
    proc = run_cli("run", job, "--overwrite", "--summary-json", summary)
    prov = json.loads((sp / "statefun-bootstrap.json").read_text())["sources"][0]["provenance"]
    assert (prov["server"], prov["database"], prov["user"]) == (f"127.0.0.1:{pg.port}", "sfb_test", "sfb_tiny"), prov
    assert json.loads(summary.read_text())["sources"][0]["provenance"]["database"] == "sfb_test"
    assert '"database":"sfb_test","user":"sfb_tiny"' in proc.stdout, proc.stdout
    plan = run_cli("validate", job, "--connect").stdout
    assert "database=sfb_test user=sfb_tiny" in plan, plan
    for text in (proc.stdout, proc.stderr, plan, summary.read_text(), (sp / "statefun-bootstrap.json").read_text()):
        text = text.replace(str(tmp_path), "")  # the test's own directory is named after it
        assert "***" not in text and "password" not in text, text
    # A wrong one-letter password: the error names user, server and database as they are.
    bad_job, _ = events_job(tmp_path / "bad", pg, conn=conn.replace("password: t", "password: s"))
    err = run_cli("run", bad_job, check=False).stderr
    assert f"cannot connect to PostgreSQL at sfb_tiny@127.0.0.1:{pg.port}/sfb_test: " in err, err
    assert 'password authentication failed for user "sfb_tiny"' in err and "***" not in err, err


def test_small_honest_fixes(pg, tmp_path):
    """An empty password variable is called empty; dump/get --spec need no source secrets; a missing table
    or column exits 2 like every spec error; the bytea hint names a type that exists; top-level x- keys
    hold YAML anchors; dump --spec prints a stored numeric exactly."""
    env = {k: v for k, v in os.environ.items() if k != "SFB_PG_PASSWORD"}
    body = f"""
x-password: &password "${{SFB_PG_PASSWORD}}"
functions:
  pg/n:
    states:
      num: {{ type: pg/Num, codec: json }}
      by: {{ type: io.statefun.types/string }}
sources:
  n:
    postgres: {{ host: 127.0.0.1, port: {pg.port}, database: sfb_test, user: sfb_reader, password: *password,
                table: public.all_types, columns: [id, num, by] }}
routes:
  - {{ from: n, to: pg/n, id: "{{id}}", where: "{{id}} != 3", set: {{ num: "{{num}}" }} }}
"""
    job, sp = write_job(tmp_path, body)
    # Set but empty: said so, with the way to allow an empty value.
    empty = subprocess.run([str(CLI), "run", str(job)], capture_output=True, text=True,
                           env={**env, "SFB_PG_PASSWORD": ""})
    assert empty.returncode == 2, empty.stderr
    assert "environment variable SFB_PG_PASSWORD is set but empty" in empty.stderr, empty.stderr
    assert "${SFB_PG_PASSWORD:-}" in empty.stderr
    run(job)  # the x- key holding the anchor is ignored
    # dump and get decode with the spec's states, without the password the sources would need.
    lines = subprocess.run([str(CLI), "dump", str(sp), "--spec", str(job)], capture_output=True, text=True, env=env)
    assert lines.returncode == 0, lines.stderr
    assert '"id":"1","state":"num","type":"pg/Num","value":12345678901234567890.0123456789,' in lines.stdout, \
        lines.stdout
    assert '"id":"4","state":"num","type":"pg/Num","value":0.5,' in lines.stdout
    got = subprocess.run([str(CLI), "get", str(sp), "pg/n/4", "--spec", str(job)], capture_output=True, text=True,
                         env=env)
    assert got.returncode == 0 and json.loads(got.stdout)["states"]["num"]["value"] == 0.5, got.stdout + got.stderr
    # bytea into a string state: the hint names a declaration that exists.
    bytea_job, _ = write_job(tmp_path / "bytea", body.replace('set: { num: "{num}" }', 'set: { by: "{by}" }'))
    proc = run(bytea_job, check=False)
    assert proc.returncode == 1 and "is not UTF-8 text" in proc.stderr, proc.stderr
    assert "io.statefun.types/bytes" not in proc.stderr
    assert "give the state a custom type with codec: raw (e.g. { type: example/Blob, codec: raw })" in proc.stderr
    # A table or column that does not exist is a spec error: exit 2, as the README's table says.
    for name, source in [("table", "table: public.evnts"), ("column", "table: public.events, columns: [id, nope]")]:
        missing, _ = write_job(tmp_path / name, EVENTS_JOB.split("sources:")[0] +
                               f"sources: {{ events: {{ postgres: {{ {connection(pg)}, {source} }} }} }}\n"
                               "routes: [ { from: events, to: pg/user, id: \"{id}\", merge: { n: count } } ]\n")
        for command in ("run", "validate"):
            proc = run_cli(command, missing, *(["--connect"] if command == "validate" else []), env=ENV, check=False)
            assert proc.returncode == 2, (command, name, proc.returncode, proc.stderr)
            assert "does not exist" in proc.stderr or "has no column 'nope'" in proc.stderr, proc.stderr


# --- Bad input: clear errors before any data is read ------------------------------------------------

def fails_before_reading(pg, tmp_path, source_block, *needles, route_id="{id}", password=READER_PASSWORD):
    job, sp = write_job(tmp_path, f"""
functions:
  pg/x:
    states:
      v: {{ type: io.statefun.types/string }}
sources:
  s: {{ postgres: {{ {source_block} }} }}
routes:
  - {{ from: s, to: pg/x, id: "{route_id}", set: {{ v: "{route_id}" }} }}
""")
    env = {"SFB_PG_PASSWORD": password}
    validate = run_cli("validate", job, "--connect", env=env, check=False)
    proc = run_cli("run", job, env=env, check=False)
    for p in (validate, proc):
        assert p.returncode != 0, p.stdout
        for needle in needles:
            assert needle in p.stderr, f"expected {needle!r} in:\n{p.stderr}"
        assert password not in p.stdout + p.stderr
        assert READER_PASSWORD not in p.stdout + p.stderr
    assert_no_savepoint(sp)
    return proc.stderr


def test_wrong_password(pg, tmp_path):
    err = fails_before_reading(pg, tmp_path, f"{connection(pg)}, table: public.events",
                               'password authentication failed for user "sfb_reader"',
                               "cannot connect to PostgreSQL at sfb_reader@127.0.0.1", "fix: check the password",
                               password="wrong-" + secrets.token_hex(4))
    assert "source s" in err


def test_tls_settings_are_passed_through(pg, tmp_path):
    # verify-full against the test server's CA: encrypted, and the server's certificate checked.
    job, sp = events_job(tmp_path / "ok", pg,
                         conn=connection(pg) + f", sslmode: verify-full, sslrootcert: {pg.dir / 'ca.pem'}")
    run(job)
    assert json.loads((sp / "statefun-bootstrap.json").read_text())["sources"][0]["provenance"]["sslmode"] == \
        "verify-full"
    # A CA that did not sign the server's certificate, and a CA file that does not exist.
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other_ca)], check=True, capture_output=True)
    fails_before_reading(pg, tmp_path / "wrong", f"{connection(pg)}, sslmode: verify-full, sslrootcert: {other_ca}, "
                         "table: public.events", "certificate verify failed", "fix: check sslmode, sslrootcert")
    fails_before_reading(pg, tmp_path / "missing", f"{connection(pg)}, sslmode: verify-full, "
                         "sslrootcert: no-such-ca.pem, table: public.events",
                         f'root certificate file "{tmp_path / "missing" / "no-such-ca.pem"}" does not exist')


def test_missing_table_suggests_the_right_one(pg, tmp_path):
    fails_before_reading(pg, tmp_path, f"{connection(pg)}, table: public.evnts",
                         "table public.evnts does not exist in database sfb_test", "fix: did you mean public.events?")
    fails_before_reading(pg, tmp_path / "2", f"{connection(pg)}, table: 'public.\"mixed.case\"'",
                         'fix: did you mean public."Mixed.Case"?')
    err = fails_before_reading(pg, tmp_path / "3", f"{connection(pg)}, table: public.mixed.case",
                               "the table name 'public.mixed.case' has more than two parts")
    assert "job.yaml:" in err


def test_missing_column_suggests_the_right_one(pg, tmp_path):
    fails_before_reading(pg, tmp_path, f"{connection(pg)}, table: public.events, columns: [id, user_id, amout]",
                         "public.events has no column 'amout' (columns: id, user_id, amount, note)",
                         "fix: did you mean 'amount'?")


def test_a_column_the_route_names_must_be_selected(pg, tmp_path):
    err = fails_before_reading(pg, tmp_path, f"{connection(pg)}, table: public.events, columns: [id, amount]",
                               "refers to column 'user_id', which source s does not have (columns: id, amount)",
                               route_id="{user_id}")
    assert "job.yaml:" in err


def test_types_without_a_mapping_are_read_as_their_text_form(pg, tmp_path):
    """point, money, ranges, bit strings, composites and arrays of them stop no run: each is read as the
    text PostgreSQL prints for it (the same as SQL's ::text), and the plan names every such column."""
    exprs = {"p": "point(1.5, -2)", "m": "12.34::money", "r": "int4range(1, 5)", "b": "B'101'",
             "c": "ROW(1, 'a b')", "pa": "ARRAY[point(1, 2), NULL]"}
    select = ", ".join(f"{e} AS {name}" for name, e in exprs.items())
    job, sp = write_job(tmp_path, f"""
functions:
  pg/t: {{ states: {{ {", ".join(f"{n}: {{ type: io.statefun.types/string }}" for n in exprs)} }} }}
  pg/place: {{ states: {{ location: {{ type: io.statefun.types/string }} }} }}
sources:
  q: {{ postgres: {{ {connection(pg)}, query: "SELECT 1 AS id, {select}" }} }}
  places: {{ postgres: {{ {connection(pg)}, table: public.places }} }}
routes:
  - {{ from: q, to: pg/t, id: "{{id}}", set: {{ {", ".join(f'{n}: "{{{n}}}"' for n in exprs)} }} }}
  - {{ from: places, to: pg/place, id: "{{id}}", set: {{ location: "{{location}}" }} }}
""")
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"]
    assert plan[0]["read_as_text"] == ["p (point)", "m (money)", "r (int4range)", "b (bit)", "c (record)",
                                       "pa (point[])"], plan[0]
    assert plan[1]["read_as_text"] == ["location (point)"], plan[1]
    run(job)
    got = {(e["function"], e["state"]): e["value"] for e in dump(sp)}
    expected_row = pg.psql("SELECT " + ", ".join(f"({e})::text" for e in exprs.values()))[0]
    assert {k: got[("pg/t", k)] for k in exprs} == dict(zip(exprs, expected_row))
    assert got[("pg/place", "location")] == pg.psql("SELECT location::text FROM places WHERE id = 1")[0][0] == "(0,0)"


def query_job(directory, pg, query):
    """A job with one query source whose query is a literal block (so its lines are the file's)."""
    body = "\n".join("        " + line for line in query.splitlines())
    job, sp = write_job(directory, f"""
functions: {{ pg/q: {{ states: {{ v: {{ type: io.statefun.types/string }} }} }} }}
sources:
  q:
    postgres:
      {connection(pg).replace(", ", chr(10) + "      ")}
      query: |
{body}
routes: [ {{ from: q, to: pg/q, id: "{{id}}", set: {{ v: "{{id}}" }} }} ]
""")
    return job, sp


def file_line(job, text):
    """The 1-based line of the job file holding `text`, and the column where it starts."""
    for number, line in enumerate(job.read_text().splitlines(), 1):
        if text in line:
            return number, line.index(text) + 1
    raise AssertionError(f"{text!r} is not in {job}")


def test_query_errors_point_at_the_users_sql(pg, tmp_path):
    """A query is checked as written: a syntax error names the token the user wrote, at its line and
    column in the query and in the job file; a query that writes is refused before any server is asked."""
    job, _ = query_job(tmp_path / "syntax", pg, "SELEC id, name FROM people")
    line, column = file_line(job, "SELEC id")
    for proc in (run_cli("validate", job, "--connect", env=ENV, check=False), run_cli("run", job, env=ENV, check=False)):
        assert proc.returncode == 2, proc.stderr
        assert ('syntax error at or near "SELEC" at line 1, column 1 of the query '
                f'(job.yaml:{line}:{column}): SELEC id, name FROM people') in proc.stderr.replace(str(job), "job.yaml"), \
            proc.stderr
        assert "FROM (" not in proc.stderr and "sfb_query" not in proc.stderr
    # On a later line, after non-ASCII text: the column counts characters.
    job, _ = query_job(tmp_path / "line3", pg, "SELECT id, 'ü' AS u\nFROM events\nWHERE amount = = 1")
    line, column = file_line(job, "WHERE amount")
    err = run_cli("validate", job, "--connect", env=ENV, check=False).stderr.replace(str(job), "job.yaml")
    assert (f'syntax error at or near "=" at line 3, column 16 of the query (job.yaml:{line}:{column + 15}): '
            "WHERE amount = = 1") in err, err
    # A name that does not exist: the line the server showed.
    job, _ = query_job(tmp_path / "column", pg, "SELECT id,\n  nope\nFROM events")
    line, _ = file_line(job, "  nope")
    err = run_cli("validate", job, "--connect", env=ENV, check=False).stderr.replace(str(job), "job.yaml")
    assert f'column "nope" does not exist at line 2 of the query (job.yaml:{line}):   nope' in err, err
    # Writing queries are refused by the spec check: validate without --connect, which contacts no server.
    for query, message, token in [
        ("INSERT INTO events (id, user_id) VALUES (-1, 'x') RETURNING id",
         "the query is an INSERT statement, not a read-only query at line 1, column 1 of the query", "INSERT"),
        ("WITH gone AS (\n  DELETE FROM events RETURNING id)\nSELECT id FROM gone",
         "the query's WITH holds a DELETE statement, so it is not a read-only query at line 2, column 3 of the query",
         "DELETE"),
        ("SELECT id INTO events_copy FROM events", "the query is a SELECT ... INTO, which creates a table", "INTO"),
    ]:
        job, sp = query_job(tmp_path / f"writes-{len(query)}", pg, query)
        line, column = file_line(job, token)
        proc = run_cli("validate", job, env={"SFB_PG_PASSWORD": "unused"}, check=False)
        err = proc.stderr.replace(str(job), "job.yaml")
        assert proc.returncode == 2 and message in err, err
        assert f"(job.yaml:{line}:{column})" in err, err
        assert "fix: a source only reads: write a SELECT (or WITH ... SELECT, VALUES, TABLE)" in err
    assert pg.psql("SELECT count(*) FROM events WHERE id = -1") == [["0"]]


def test_a_query_is_read_in_one_piece_and_validate_says_so(pg, tmp_path):
    job, _ = write_job(tmp_path, f"""
functions: {{ pg/q: {{ states: {{ v: {{ type: io.statefun.types/long }} }} }} }}
sources: {{ q: {{ postgres: {{ {connection(pg)}, workers: 4, query: "SELECT id, amount FROM events" }} }} }}
routes: [ {{ from: q, to: pg/q, id: "{{id}}", set: {{ v: "{{amount}}" }} }} ]
""")
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"][0]
    assert (plan["split_by"], plan["chunks"], plan["workers"]) == ("none", 1, 1), plan
    assert plan["note"].startswith("read in one piece, on one connection, although workers: 4: a query is not cut "
                                   "into chunks"), plan


def test_permission_errors_name_the_grant(pg, tmp_path):
    fails_before_reading(pg, tmp_path, f"{connection(pg)}, table: public.secrets",
                         "permission denied: role sfb_reader may not read public.secrets",
                         'GRANT SELECT ON "public"."secrets" TO "sfb_reader";')
    fails_before_reading(pg, tmp_path / "cols", f"{connection(pg)}, table: public.people",
                         "may not read column salary of public.people", 'GRANT SELECT ("salary")',
                         "or leave it out of columns:")
    weird = '\'"odd ""schema""".\"weird ""name""; DROP TABLE events; --"\''
    fails_before_reading(pg, tmp_path / "schema", f"{connection(pg, 'sfb_outsider')}, table: {weird}",
                         'permission denied: role sfb_outsider may not use schema "odd ""schema"""',
                         'fix: GRANT USAGE ON SCHEMA "odd ""schema""" TO "sfb_outsider";', password=OUTSIDER_PASSWORD)
    fails_before_reading(pg, tmp_path / "query", f"{connection(pg)}, query: 'SELECT id, secret FROM secrets'",
                         "permission denied", "secrets")
    fails_before_reading(pg, tmp_path / "connect", connection(pg).replace("sfb_test", "sfb_closed") +
                         ", table: public.events", 'permission denied for database "sfb_closed"',
                         'fix: GRANT CONNECT ON DATABASE "sfb_closed" TO "sfb_reader";')
    # Granted columns alone are fine.
    job, sp = write_job(tmp_path / "ok", f"""
functions: {{ pg/p: {{ states: {{ name: {{ type: io.statefun.types/string }} }} }} }}
sources: {{ people: {{ postgres: {{ {connection(pg)}, table: public.people, columns: [id, name] }} }} }}
routes: [ {{ from: people, to: pg/p, id: "{{id}}", set: {{ name: "{{name}}" }} }} ]
""")
    run(job)
    assert [e["value"] for e in dump(sp)] == ["Ann", "Bo"] or sorted(e["value"] for e in dump(sp)) == ["Ann", "Bo"]


def test_a_role_with_column_privileges_only_reads_in_parallel_by_key_or_in_one_piece(pg, tmp_path):
    """GRANT SELECT (cols) covers no ctid: the read selects only granted columns, splits by the key where
    there is one and reads a table without one in one piece, saying so; validate --connect checks the
    statements run issues (EXPLAIN), so the two agree."""
    pg.psql("DROP TABLE IF EXISTS cg_keyed, cg_nokey; "
            "CREATE TABLE cg_keyed (id int PRIMARY KEY, name text, secret text); "
            "INSERT INTO cg_keyed SELECT g, 'name-' || g, 'hidden' FROM generate_series(1, 20000) g; "
            "CREATE TABLE cg_nokey (user_id text, v int, secret text); "
            "INSERT INTO cg_nokey SELECT 'u' || (g % 101), g, 'hidden' FROM generate_series(1, 20000) g; "
            "ANALYZE cg_keyed, cg_nokey;")
    create_role(pg, "sfb_columns", READER_PASSWORD,
                "GRANT SELECT (id, name) ON cg_keyed TO {role}; GRANT SELECT (user_id, v) ON cg_nokey TO {role}")
    conn = connection(pg, user="sfb_columns")
    job, sp = write_job(tmp_path, f"""
functions:
  pg/k: {{ states: {{ name: {{ type: io.statefun.types/string }} }} }}
  pg/u: {{ states: {{ total: {{ type: io.statefun.types/long }}, n: {{ type: io.statefun.types/int }} }} }}
sources:
  keyed: {{ postgres: {{ {conn}, table: public.cg_keyed, columns: [id, name], chunk_rows: 3000, workers: 2 }} }}
  nokey: {{ postgres: {{ {conn}, table: public.cg_nokey, columns: [user_id, v], chunk_rows: 3000, workers: 2 }} }}
routes:
  - {{ from: keyed, to: pg/k, id: "{{id}}", set: {{ name: "{{name}}" }} }}
  - {{ from: nokey, to: pg/u, id: "{{user_id}}", set: {{ total: "{{v}}" }}, merge: {{ total: sum, n: count }} }}
""")
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"]
    assert plan[0]["split_by"] == "key id" and plan[0]["chunks"] > 1, plan[0]
    assert plan[1]["split_by"] == "none" and plan[1]["chunks"] == 1, plan[1]
    assert plan[1]["note"] == ("read in one piece: role sfb_columns may read only some columns of public.cg_nokey "
                               "(column privileges), which do not cover ctid, and public.cg_nokey has no integer or "
                               "uuid primary key the role may read to split by"), plan[1]
    text = run_cli("validate", job, "--connect", env=ENV).stdout
    assert "note=read in one piece: role sfb_columns may read only some columns" in text, text
    run(job, "--threads", "2")
    got = {(e["function"], e["id"], e["state"]): e["value"] for e in dump(sp)}
    expected = {("pg/k", str(i), "name"): f"name-{i}" for i in range(1, 20001)}
    for user, total, n in pg.psql("SELECT user_id, sum(v), count(*) FROM cg_nokey GROUP BY user_id"):
        expected[("pg/u", user, "total")] = int(total)
        expected[("pg/u", user, "n")] = int(n)
    assert got == expected
    # split_by: ctid cannot work for this role: said before reading, with the GRANT that would fix it.
    ctid_job, _ = write_job(tmp_path / "ctid", f"""
functions: {{ pg/k: {{ states: {{ name: {{ type: io.statefun.types/string }} }} }} }}
sources: {{ keyed: {{ postgres: {{ {conn}, table: public.cg_keyed, columns: [id, name], split_by: ctid }} }} }}
routes: [ {{ from: keyed, to: pg/k, id: "{{id}}", set: {{ name: "{{name}}" }} }} ]
""")
    for command in (["validate", "--connect"], ["run"]):
        proc = run_cli(command[0], ctid_job, *command[1:], env=ENV, check=False)
        assert proc.returncode == 2, proc.stderr
        assert ("split_by: ctid reads ctid, but role sfb_columns may read only some columns of public.cg_keyed "
                "(column privileges), which do not cover ctid") in proc.stderr, proc.stderr
        assert 'fix: GRANT SELECT ON "public"."cg_keyed" TO "sfb_columns"; or use split_by: key (or auto)' in proc.stderr


def test_a_value_the_router_cannot_convert_names_the_row(pg, tmp_path):
    job, sp = write_job(tmp_path, f"""
functions: {{ pg/t: {{ states: {{ ms: {{ type: io.statefun.types/long }} }} }} }}
sources: {{ t: {{ postgres: {{ {connection(pg)}, table: public.all_types, columns: [id, tstz] }} }} }}
routes: [ {{ from: t, to: pg/t, id: "{{id}}", set: {{ ms: "{{tstz}}" }} }} ]
""")
    proc = run(job, check=False)
    assert proc.returncode == 1
    assert "public.all_types id=1" in proc.stderr and "is not a 64-bit integer" in proc.stderr, proc.stderr
    assert_no_savepoint(sp)


def test_infinity_inside_a_json_object_is_refused_not_stored_as_null(pg, tmp_path):
    """JSON has no Infinity: a float8 -Infinity put into a codec: json object fails the record, naming
    the row, instead of being stored as null."""
    job, sp = write_job(tmp_path, f"""
functions: {{ pg/j: {{ states: {{ obj: {{ type: pg/Obj, codec: json }} }} }} }}
sources: {{ t: {{ postgres: {{ {connection(pg)}, table: public.all_types, columns: [id, f8] }} }} }}
routes: [ {{ from: t, to: pg/j, id: "{{id}}", set: {{ obj: {{ f: "{{f8}}" }} }} }} ]
""")
    proc = run(job, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "public.all_types id=3" in proc.stderr, proc.stderr
    assert "the value of '{f8}' is -Infinity, which JSON cannot hold (it would be stored as null)" in proc.stderr
    assert_no_savepoint(sp)
    # With the row skipped, the finite values are stored as numbers.
    job.write_text(job.read_text().replace('id: "{id}",', 'id: "{id}", where: "{id} != 3",'))
    run(job)
    assert {e["id"]: e["value"] for e in dump(sp, job)} == {"1": {"f": 0.1}, "2": {"f": None}, "4": {"f": 1e308}}


def test_bad_rows_go_to_the_dead_letter_file_with_table_and_key(pg, tmp_path):
    """errors.dead_letter: rows the routes reject are lines naming table and key with the row's columns;
    the good rows are in the savepoint; rows read = routed + dead-lettered."""
    pg.psql("DROP TABLE IF EXISTS dl_people; "
            "CREATE TABLE dl_people (id int PRIMARY KEY, uid text, visits text); "
            "INSERT INTO dl_people SELECT g, 'user-' || g, (g * 3)::text FROM generate_series(1, 2000) g; "
            "UPDATE dl_people SET visits = 'many' WHERE id IN (7, 1500); "
            "UPDATE dl_people SET uid = NULL WHERE id = 42; "
            "UPDATE dl_people SET visits = '99999999999' WHERE id = 1999; "
            "GRANT SELECT ON dl_people TO sfb_reader;")
    dead_letter = tmp_path / "bad.jsonl"
    job, sp = write_job(tmp_path, f"""
errors: {{ dead_letter: {dead_letter}, max_bad_records: 4 }}
functions: {{ pg/user: {{ states: {{ visits: {{ type: io.statefun.types/int }} }} }} }}
sources: {{ people: {{ postgres: {{ {connection(pg)}, table: public.dl_people, chunk_rows: 500 }} }} }}
routes: [ {{ from: people, to: pg/user, id: "{{uid}}", set: {{ visits: "{{visits}}" }} }} ]
""")
    summary = tmp_path / "summary.json"
    run(job, "--summary-json", summary, "--quiet")
    lines = {l["position"]: l for l in map(json.loads, dead_letter.read_text().splitlines())}
    assert set(lines) == {f"public.dl_people id={i}" for i in (7, 42, 1500, 1999)}, lines
    assert "is not a 32-bit integer" in lines["public.dl_people id=7"]["error"]
    assert lines["public.dl_people id=7"]["record"] == {"id": 7, "uid": "user-7", "visits": "many"}
    assert "gives NULL" in lines["public.dl_people id=42"]["error"]
    assert "out of range" in lines["public.dl_people id=1999"]["error"]
    assert all(l["stage"] == "route" and l["source"] == "people" for l in lines.values())
    s = json.loads(summary.read_text())
    assert (s["records_read"], s["records_dead_lettered"], s["records_routed"]) == (2000, 4, 1996)
    got = {e["id"]: e["value"] for e in dump(sp, job)}
    assert got == {f"user-{i}": i * 3 for i in range(1, 2001) if i not in (7, 42, 1500, 1999)}

    # One more bad row than the budget: the run fails, and no savepoint replaces the good one.
    pg.psql("UPDATE dl_people SET visits = 'lots' WHERE id = 3")
    proc = run(job, check=False)
    assert proc.returncode == 1 and "more than 4 bad records" in proc.stderr, proc.stderr
    assert len(dead_letter.read_text().splitlines()) == 5
    assert len(dump(sp)) == 1996  # --overwrite replaces only with a finished savepoint


def test_names_are_quoted_not_spliced(pg, tmp_path):
    table = '\'"odd ""schema""".\"weird ""name""; DROP TABLE events; --"\''
    job, sp = write_job(tmp_path, f"""
functions:
  pg/w:
    states:
      col: {{ type: io.statefun.types/string }}
      n: {{ type: io.statefun.types/long }}
  pg/m:
    states:
      v: {{ type: io.statefun.types/string }}
sources:
  weird: {{ postgres: {{ {connection(pg)}, table: {table}, columns: [id, 'col "x"; drop', sp ace] }} }}
  mixed: {{ postgres: {{ {connection(pg)}, table: 'public."Mixed.Case"', split_by: key, chunk_rows: 1 }} }}
routes:
  - {{ from: weird, to: pg/w, id: "{{id}}", set: {{ col: '{{col "x"; drop}}', n: "{{sp ace}}" }} }}
  - {{ from: mixed, to: pg/m, id: "{{id}}", set: {{ v: "{{Value}}" }} }}
""")
    run(job)
    assert_entries_equal([
        dict(function="pg/w", state="col", id="1", value="a"),
        dict(function="pg/w", state="n", id="1", value=10),
        dict(function="pg/w", state="col", id="2", value="b'; DROP TABLE events; --"),
        dict(function="pg/w", state="n", id="2", value=20),
        dict(function="pg/m", state="v", id="1", value="one"),
        dict(function="pg/m", state="v", id="2", value="two"),
    ], dump(sp), label="quoted names")
    assert pg.psql("SELECT count(*) > 0 FROM events") == [["t"]]
    # A column list cannot smuggle SQL either: it names a column that does not exist.
    fails_before_reading(pg, tmp_path / "inject", f"{connection(pg)}, table: public.events, "
                         "columns: [id, 'note FROM events; DROP TABLE events; --']",
                         "has no column 'note FROM events; DROP TABLE events; --'")
    assert pg.psql("SELECT count(*) > 0 FROM events") == [["t"]]


# --- Faults while reading ---------------------------------------------------------------------------------

SLOW_JOB = """
functions:
  pg/slow:
    states:
      n: { type: io.statefun.types/int }
      last: { type: io.statefun.types/long }
sources:
  slow:
    postgres: { %s, table: public.slow_items, split_by: ctid, chunk_rows: 3000, workers: 1, progress: 50ms }
routes:
  - { from: slow, to: pg/slow, id: "{user_id}", set: { last: "{v}" }, merge: { n: count } }
"""
PROGRESS = re.compile(r"^source slow \(public\.slow_items\): ([\d,]+) ")


class Run:
    """`run` in the background, its stderr collected as it comes (progress lines say how far it is)."""

    def __init__(self, job, threads=1):
        self.proc = subprocess.Popen([str(CLI), "run", str(job), "--threads", str(threads), "--overwrite"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **ENV})
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stderr), daemon=True)
        self.reader.start()

    def rows(self):
        counts = [int(m.group(1).replace(",", "")) for m in map(PROGRESS.match, list(self.lines)) if m]
        return counts[-1] if counts else 0

    def finish(self):
        out = self.proc.stdout.read()
        self.proc.wait(timeout=120)
        self.reader.join(timeout=30)
        return out, "".join(self.lines)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()


def reading_chunk_one(run):
    """Rows of the first chunk (about 2700 rows, a second to read) have been delivered, not all."""
    wait_for(lambda: run.rows() > 0, what="the first rows")
    assert run.rows() < 2000, "the first chunk ended before the test could act"


@pytest.fixture(scope="module")
def slow_reference(pg, tmp_path_factory):
    job, sp = write_job(tmp_path_factory.mktemp("slow-ref"), SLOW_JOB % connection(pg))
    run(job, "--threads", "1")
    return savepoint_bytes(sp)


def test_killed_worker_backend_is_retried_from_the_same_snapshot(pg, tmp_path, slow_reference):
    job, sp = write_job(tmp_path, SLOW_JOB % connection(pg))
    r = Run(job)
    try:
        reading_chunk_one(r)
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'statefun-bootstrap worker'")
        out, err = r.finish()
    finally:
        r.kill()
    assert r.proc.returncode == 0, err
    warning = [line for line in err.splitlines() if line.startswith("warning: source slow: ")]
    assert len(warning) == 1, err
    assert "while reading chunk 1/3 (pages 0-" in warning[0], warning
    assert "the server ended the connection" in warning[0] or "lost the connection" in warning[0], warning
    assert "the snapshot is still open, so the chunk is read again on a new connection (attempt 2 of 3)" in warning[0]
    skipped = int(re.search(r"skipping the ([\d,]+) rows already read", warning[0]).group(1).replace(",", ""))
    assert skipped > 0, warning  # resumed mid-chunk
    assert READER_PASSWORD not in out + err
    assert savepoint_bytes(sp) == slow_reference


def test_lost_snapshot_fails_the_run_and_says_so(pg, tmp_path):
    job, sp = write_job(tmp_path, SLOW_JOB % connection(pg))
    r = Run(job)
    try:
        reading_chunk_one(r)
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE 'statefun-bootstrap%'")
        out, err = r.finish()
    finally:
        r.kill()
    assert r.proc.returncode == 1, err
    assert "error: source slow: " in err and "while reading chunk 1/3" in err, err
    assert "the snapshot's own connection is gone too (the server stopped or restarted?)" in err
    assert f"no savepoint was written to {sp}" in err
    assert READER_PASSWORD not in out + err
    assert_no_savepoint(sp)


def test_server_stopping_fails_the_run(pg, tmp_path):
    job, sp = write_job(tmp_path, SLOW_JOB % connection(pg))
    r = Run(job)
    try:
        reading_chunk_one(r)
        subprocess.run(["bash", str(CLUSTER), "halt", str(pg.dir)], check=True, capture_output=True, timeout=120)
        out, err = r.finish()
    finally:
        r.kill()
        subprocess.run(["bash", str(CLUSTER), "resume", str(pg.dir)], check=True, capture_output=True, timeout=120)
    assert r.proc.returncode == 1, err
    assert "error: source slow: " in err and "chunk 1/3" in err, err
    # Which failure is seen first depends on timing: the snapshot's session gone, or no new session.
    assert ("the snapshot's own connection is gone too (the server stopped or restarted?)" in err
            or "cannot connect to PostgreSQL" in err), err
    assert f"no savepoint was written to {sp}" in err
    assert_no_savepoint(sp)
    # The server is back and the source reads again.
    job2, _ = events_job(tmp_path / "again", pg)
    run(job2)


SLEEPY_JOB = """
functions: { pg/s: { states: { v: { type: io.statefun.types/long } } } }
sources:
  sleepy:
    postgres: { %s, query: "SELECT 1 AS id, 2 AS v FROM (SELECT pg_sleep(30)) AS slow" }
routes:
  - { from: sleepy, to: pg/s, id: "{id}", set: { v: "{v}" } }
"""


def sleeping_query(pg):
    return pg.psql("SELECT pid, state FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' "
                   "AND pid <> pg_backend_pid() AND application_name LIKE 'statefun-bootstrap%'")


def start_sleepy_run(pg, tmp_path):
    """A run whose query sleeps 30 s on the server, once the query runs and the staging directory exists."""
    job, sp = write_job(tmp_path, SLEEPY_JOB % connection(pg))
    proc = subprocess.Popen([str(CLI), "run", str(job), "--overwrite"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})
    wait_for(lambda: any(state == "active" for _, state in sleeping_query(pg)), what="the query to run")
    wait_for(lambda: any(p.name.startswith(".sp.inprogress-") for p in tmp_path.iterdir()),
             what="the staging directory")
    return proc, sp


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_cancels_the_running_query_on_the_server(pg, tmp_path, signum):
    """Ctrl-C (or SIGTERM) while a slow query runs: the server is asked to cancel the statement, the run
    exits 130 within a second or so, the query is gone from pg_stat_activity and no partial output is left."""
    proc, sp = start_sleepy_run(pg, tmp_path)
    try:
        start = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    assert "interrupted: stopped reading and removed the partial output; no savepoint was written" in err, err
    wait_for(lambda: sleeping_query(pg) == [], timeout=5, what="the query to be gone from pg_stat_activity")
    assert_no_savepoint(sp)


def test_a_second_interrupt_exits_at_once_and_cleans_up(pg, tmp_path):
    """When the first Ctrl-C cannot finish (the server does not answer the cancel request: its postmaster
    is frozen), a second one exits at once, still removing the partial output; the cancel request it
    sent is served once the server answers again, so the query does not run on."""
    proc, sp = start_sleepy_run(pg, tmp_path)
    postmaster = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGSTOP)
    try:
        proc.send_signal(signal.SIGINT)
        time.sleep(1.0)
        assert proc.poll() is None, "the first interrupt finished although the server cannot answer"
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - start
    finally:
        os.kill(postmaster, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    assert "interrupted again: stopped at once and removed the partial output; no savepoint was written" in err, err
    assert_no_savepoint(sp)
    wait_for(lambda: sleeping_query(pg) == [], timeout=10, what="the query to be gone from pg_stat_activity")


# --- Exact numeric -----------------------------------------------------------------------------------

PAYMENTS_CUSTOMERS = 100_000


@pytest.fixture(scope="module")
def payments(pg):
    """payments: 300,000 numeric(12,2) amounts over 100,000 customers (random, seeded), the case where
    summing doubles is off: 0.1 + 0.2 is no 0.3 in binary."""
    pg.psql(f"""
        DROP TABLE IF EXISTS payments;
        SELECT setseed(0.16);
        CREATE TABLE payments AS
          SELECT g AS id, (1 + (g::bigint * 7919) % {PAYMENTS_CUSTOMERS})::int AS customer_id,
                 round((random() * 10000 - 2000)::numeric, 2)::numeric(12,2) AS amount
          FROM generate_series(1, {3 * PAYMENTS_CUSTOMERS}) g;
        ALTER TABLE payments ADD PRIMARY KEY (id);
        ANALYZE payments;
        GRANT SELECT ON payments TO sfb_reader;""")
    return "public.payments"


def test_numeric_sums_are_exact_and_equal_sql(pg, tmp_path, payments):
    """sum(amount) of numeric into a double state is the exact decimal sum rounded once (equal to SQL's
    sum() read as a double, for every one of 100,000 customers), into a long with scale: 2 the exact
    cents; an integral numeric goes into a long state."""
    job, sp = write_job(tmp_path, f"""
functions:
  pg/customer:
    states:
      total: {{ type: io.statefun.types/double }}
      cents: {{ type: io.statefun.types/long, scale: 2 }}
      whole: {{ type: io.statefun.types/long }}
sources:
  payments: {{ postgres: {{ {connection(pg)}, query: "SELECT id, customer_id, amount, floor(amount)::numeric(12,2) AS whole FROM payments ORDER BY id" }} }}
routes:
  - from: payments
    to: pg/customer
    id: "{{customer_id}}"
    set: {{ whole: "{{whole}}" }}
    merge: {{ total: sum(amount), cents: sum(amount) }}
""")
    run(job, "--threads", "2")
    got = {}
    for e in dump(sp, job):
        got.setdefault(e["id"], {})[e["state"]] = e["value"]
    expected = pg.psql("SELECT customer_id, sum(amount)::text, (sum(amount) * 100)::bigint, "
                       "(array_agg(floor(amount)::bigint ORDER BY id DESC))[1] FROM payments GROUP BY customer_id")
    assert len(expected) == PAYMENTS_CUSTOMERS == len(got)
    wrong = [(c, total, got[c]) for c, total, cents, whole in expected
             if got[c] != {"total": float(total), "cents": int(cents), "whole": int(whole)}]
    assert wrong == [], f"{len(wrong)} customers differ from SQL, e.g. {wrong[:3]}"
    # The test means something: the same amounts summed as doubles in record order miss for many customers.
    naive = {}
    for c, amount in pg.psql("SELECT customer_id, amount FROM payments ORDER BY id"):
        naive[c] = naive.get(c, 0.0) + float(amount)
    assert sum(1 for c, total, _, _ in expected if naive[c] != float(total)) > 1000


def test_numeric_that_would_be_rounded_is_a_bad_record(pg, tmp_path):
    """A fraction into a long without scale, or more fractional digits than the scale: the record fails
    naming the row and the column, with the fix; nothing is rounded and no savepoint is written."""
    for scale, value, needle, fix in [
            ("", "12.5", "value '12.5' has a fractional part, which a 64-bit integer (long) cannot hold",
             "fix: declare the state's scale to store it scaled (scale: 2 stores 12.34 as 1234)"),
            (", scale: 2", "12.345", "value '12.345' has more than 2 fractional digits, which the state's scale: 2 "
             "cannot hold without rounding", "fix: raise the state's scale, or round the value in the source")]:
        job, sp = write_job(tmp_path, f"""
functions: {{ pg/n: {{ states: {{ v: {{ type: io.statefun.types/long{scale} }} }} }} }}
sources: {{ q: {{ postgres: {{ {connection(pg)}, query: "SELECT id, CASE WHEN id = 3 THEN {value} ELSE 1.00 END AS amount FROM generate_series(1, 5) id ORDER BY id" }} }} }}
routes: [ {{ from: q, to: pg/n, id: "{{id}}", merge: {{ v: sum(amount) }} }} ]
""")
        proc = run(job, check=False)
        assert proc.returncode == 1, proc.stderr
        assert "row 3" in proc.stderr or "id=3" in proc.stderr, proc.stderr
        assert "state v: " + needle + " (from {amount})" in proc.stderr, proc.stderr
        assert fix in proc.stderr, proc.stderr
        assert_no_savepoint(sp)


def test_a_scaled_sum_that_overflows_names_the_address(pg, tmp_path):
    job, sp = write_job(tmp_path, f"""
functions: {{ pg/n: {{ states: {{ v: {{ type: io.statefun.types/long, scale: 6 }} }} }} }}
sources: {{ q: {{ postgres: {{ {connection(pg)}, query: "SELECT id, 'acct-7' AS acct, 9000000000000.5::numeric AS amount FROM generate_series(1, 2) id ORDER BY id" }} }} }}
routes: [ {{ from: q, to: pg/n, id: "{{acct}}", merge: {{ v: sum(amount) }} }} ]
""")
    proc = run(job, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "address pg/n/acct-7" in proc.stderr and "the sum for state v overflows its integer type" in proc.stderr, \
        proc.stderr
    assert "lower the state's scale, or use a double state" in proc.stderr, proc.stderr
    assert_no_savepoint(sp)


def test_numeric_json_and_array_columns_embed_in_json_objects(pg, tmp_path):
    """Put alone into a codec: json object, numeric, json, jsonb and array columns are embedded as the JSON
    they hold: numbers with every digit the server printed, objects, arrays; in_json_objects: text keeps
    them as strings. A numeric NaN (no JSON number) fails its row rather than being stored as null."""
    body = f"""
functions: {{ pg/o: {{ states: {{ obj: {{ type: pg/Obj, codec: json }} }} }} }}
sources: {{ t: {{ postgres: {{ {connection(pg)}, table: public.all_types, columns: [id, num, jb, ia, j, t]%s }} }} }}
routes: [ {{ from: t, to: pg/o, id: "{{id}}", where: "{{id}} != 3",
             set: {{ obj: {{ n: "{{num}}", jb: "{{jb}}", ia: "{{ia}}", j: "{{j}}", nt: "n={{num}}", t: "{{t}}" }} }} }} ]
"""
    job, sp = write_job(tmp_path / "embed", body % "")
    run(job)
    lines = {json.loads(line)["id"]: line for line in run_cli("dump", sp, "--spec", job, env=ENV).stdout.splitlines()
             if line}
    assert ('"value":{"n":12345678901234567890.0123456789,"jb":{"a":1,"b":2},"ia":[1,null,-3],"j":{"k":[1,"ü"]},'
            '"nt":"n=12345678901234567890.0123456789",') in lines["1"], lines["1"]
    assert json.loads(lines["4"])["value"] == {"n": 0.5, "jb": 3.25, "ia": [[1, 2], [3, 4]], "j": "just a string",
                                               "nt": "n=0.5", "t": "Ωmega"}
    # NULL columns are JSON nulls.
    assert json.loads(lines["2"])["value"] == {"n": None, "jb": None, "ia": None, "j": None, "nt": "n=", "t": None}
    text_job, text_sp = write_job(tmp_path / "text", body % ", in_json_objects: text")
    run(text_job)
    value = {e["id"]: e["value"] for e in dump(text_sp, text_job)}["1"]
    assert {k: value[k] for k in ("n", "jb", "ia", "j")} == {
        "n": "12345678901234567890.0123456789", "jb": '{"a": 1, "b": 2}', "ia": "[1,null,-3]", "j": '{"k": [1, "ü"]}'}
    nan_job, nan_sp = write_job(tmp_path / "nan", body.replace('where: "{id} != 3",', "") % "")
    proc = run(nan_job, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "public.all_types id=3" in proc.stderr and "the value of '{num}' is NaN, which JSON cannot hold" in proc.stderr
    assert "in_json_objects: text" in proc.stderr, proc.stderr
    assert_no_savepoint(nan_sp)


# --- Timestamps before the common era, epoch rounding, hstore ------------------------------------------

def test_bc_timestamps_epoch_floor_and_hstore_against_the_server(pg, tmp_path):
    """BC dates and timestamps come out in ISO 8601 with astronomical years (1 BC is 0000, 44 BC -0043,
    what java.time parses); epoch_millis floors (23:59:59.9995 before the epoch is -1, as Instant's
    toEpochMilli gives); an hstore column is read as the text the server prints for it."""
    pg.psql("CREATE EXTENSION IF NOT EXISTS hstore")
    pg.psql("DROP TABLE IF EXISTS hstore_items; "
            "CREATE TABLE hstore_items (id int PRIMARY KEY, attrs hstore); "
            "INSERT INTO hstore_items VALUES (1, 'a=>1, \"b c\"=>\"x\\\"y\", n=>NULL'), (2, NULL), (3, ''); "
            "GRANT SELECT ON hstore_items TO sfb_reader")
    values = {"d": "'0044-03-15 BC'::date", "ts": "'0001-01-01 00:00:00.5 BC'::timestamp",
              "tstz": "'0002-12-31 23:00:00-08 BC'::timestamptz", "late": "'1969-12-31 23:59:59.9995+00'::timestamptz",
              "early": "'1970-01-01 00:00:00.0005+00'::timestamptz"}
    select = ", ".join(f"{e} AS {n}" for n, e in values.items())
    job, sp = write_job(tmp_path, f"""
functions:
  pg/iso: {{ states: {{ {", ".join(f"{n}: {{ type: io.statefun.types/string }}" for n in values)} }} }}
  pg/ms: {{ states: {{ late: {{ type: io.statefun.types/long }}, early: {{ type: io.statefun.types/long }} }} }}
  pg/h: {{ states: {{ attrs: {{ type: io.statefun.types/string }} }} }}
sources:
  iso: {{ postgres: {{ {connection(pg)}, query: "SELECT 1 AS id, {select}" }} }}
  ms: {{ postgres: {{ {connection(pg)}, query: "SELECT 1 AS id, {values['late']} AS late, {values['early']} AS early", timestamps: epoch_millis }} }}
  h: {{ postgres: {{ {connection(pg)}, table: public.hstore_items }} }}
routes:
  - {{ from: iso, to: pg/iso, id: "{{id}}", set: {{ {", ".join(f'{n}: "{{{n}}}"' for n in values)} }} }}
  - {{ from: ms, to: pg/ms, id: "{{id}}", set: {{ late: "{{late}}", early: "{{early}}" }} }}
  - {{ from: h, to: pg/h, id: "{{id}}", set: {{ attrs: "{{attrs}}" }} }}
""")
    plan = json.loads(run_cli("validate", job, "--connect", "--json", env=ENV).stdout)["sources"]
    assert plan[2]["read_as_text"] == ["attrs (hstore)"], plan[2]
    run(job)
    got = {(e["function"], e["id"], e["state"]): e["value"] for e in dump(sp)}
    assert {n: got[("pg/iso", "1", n)] for n in values} == {
        "d": "-0043-03-15", "ts": "0000-01-01T00:00:00.5", "tstz": "0000-01-01T07:00:00Z",
        "late": "1969-12-31T23:59:59.9995Z", "early": "1970-01-01T00:00:00.0005Z"}
    assert got[("pg/ms", "1", "late")] == -1 and got[("pg/ms", "1", "early")] == 0
    server = dict(pg.psql("SELECT id, attrs::text FROM hstore_items WHERE attrs IS NOT NULL"))
    assert server["1"] == '"a"=>"1", "n"=>NULL, "b c"=>"x\\"y"', server
    assert {i: got[("pg/h", i, "attrs")] for i in ("1", "3")} == server
    assert ("pg/h", "2", "attrs") not in got  # NULL sets nothing


# --- Ctrl-C while preparing ------------------------------------------------------------------------------

def test_an_interrupt_while_waiting_for_the_table_lock_cancels_it(pg, tmp_path):
    """Another session holds ACCESS EXCLUSIVE on the table, so the run's LOCK TABLE waits (lock_timeout is
    60 s). SIGINT cancels that statement on the server: the run exits 130 within a second or two, leaves
    no partial output, and none of its statements is left running or waiting on the server."""
    pg.psql("DROP TABLE IF EXISTS locked_items; CREATE TABLE locked_items (id int PRIMARY KEY, v text); "
            "INSERT INTO locked_items VALUES (1, 'a'); GRANT SELECT ON locked_items TO sfb_reader")
    job, sp = write_job(tmp_path, f"""
functions: {{ pg/l: {{ states: {{ v: {{ type: io.statefun.types/string }} }} }} }}
sources: {{ t: {{ postgres: {{ {connection(pg)}, table: public.locked_items }} }} }}
routes: [ {{ from: t, to: pg/l, id: "{{id}}", set: {{ v: "{{v}}" }} }} ]
""")
    holder = pg.session()
    holder.stdin.write("BEGIN;\nLOCK TABLE locked_items IN ACCESS EXCLUSIVE MODE;\n")
    holder.stdin.flush()
    try:
        wait_for(lambda: pg.psql("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                 "WHERE c.relname = 'locked_items' AND l.mode = 'AccessExclusiveLock' AND l.granted"),
                 what="the other session's lock")
        proc = start_run(job)
        try:
            waiting = wait_for(lambda: [b for b in pg.our_backends() if b[3] == "Lock"], what="the run to wait")
            assert "LOCK TABLE" in waiting[0][4], waiting
            time.sleep(0.3)  # well inside the wait: nothing else would end it for a minute
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
            elapsed = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
        assert ("interrupted while preparing the sources: cancelled the server's statements; no savepoint was "
                "written") in err, err
        assert_no_savepoint(sp)
        wait_for(lambda: [b for b in pg.our_backends() if b[2] != "idle"] == [], timeout=2,
                 what="no statement of the run left on the server")
    finally:
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(timeout=30)


# --- Real Flink reads a savepoint bootstrapped from PostgreSQL --------------------------------------------

def test_real_flink_reads_a_postgres_bootstrapped_savepoint(pg, tmp_path, flink_judge):
    job, sp = types_job(tmp_path / "flink", pg, table_source=True)
    run(job, "--threads", "2")
    plan = json.loads(run_cli("validate", job, "--json", env=ENV).stdout)
    # The session's judge takes late cases (one harness run for those still pending); a judge that
    # already ran and does not, gets a harness run of our own.
    judge = flink_judge
    if not hasattr(flink_judge, "pending") and flink_judge.results is not None:
        (tmp_path / "judge").mkdir()
        judge = FlinkJudge(tmp_path / "judge")
    judge.add("postgres_all_types", sp, plan)
    assert_entries_equal(types_expected(), judge.read("postgres_all_types"), label="Flink read of postgres_all_types")
