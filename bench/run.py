"""Benchmark driver (see run.sh). Every measured command runs under /usr/bin/time for wall time, CPU time
and peak RSS; ratios compare runs made in this same invocation on the same data."""
import argparse
import datetime
import hashlib
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("SFB_BUILD_DIR", ROOT / "build"))
CLI = BUILD / "statefun-bootstrap"
HARNESS = ROOT / "tests" / "flink-harness" / "harness.sh"

JOB = """
savepoint: {{ path: {out}, max_parallelism: 128, parallelism: 2 }}
functions:
  bench/user:
    states:
      visits: {{ type: java.lang.Long }}
      name: {{ type: java.lang.String }}
sources:
  users: {{ file: {{ path: {csv} }} }}
routes:
  - from: users
    to: bench/user
    id: "{{id}}"
    set: {{ visits: "{{visits}}", name: "{{name}}" }}
"""

# The events workload: many records per address, merged (count, sum, max, last) on top of a name set from
# the users file: what combining early (writer/partial_combiner.h) is for.
EVENTS_JOB = """
savepoint: {{ path: {out}, max_parallelism: 128, parallelism: 2 }}
functions:
  bench/user:
    states:
      events: {{ type: java.lang.Long }}
      amount: {{ type: java.lang.Long }}
      last_ts: {{ type: java.lang.Long }}
      page: {{ type: java.lang.String }}
      name: {{ type: java.lang.String }}
sources:
  users: {{ file: {{ path: {users} }} }}
  events: {{ file: {{ path: {events} }} }}
routes:
  - from: users
    to: bench/user
    id: "{{id}}"
    set: {{ name: "{{name}}" }}
  - from: events
    to: bench/user
    id: "{{user}}"
    merge: {{ events: count, amount: sum(amount), last_ts: max(ts), page: last(page) }}
"""


def measure(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns dict(wall, cpu, rss_mb, stdout, stderr)."""
    full = ["/usr/bin/time", "-v"] + [str(c) for c in cmd]
    started = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, env=env)
    # /usr/bin/time prints wall time to 10 ms, which rounds a small smoke run to zero: time it here instead.
    seconds = max(time.perf_counter() - started, 1e-6)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(map(str, cmd))}\n{proc.stderr[-4000:]}")
    err = proc.stderr

    def field(name):
        m = re.search(rf"{re.escape(name)}: (.*)", err)
        return m.group(1).strip() if m else "0"

    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return dict(wall=seconds, cpu=cpu, rss_mb=rss, stdout=proc.stdout, stderr=err)


def read_once(path):
    """The source's limit: the file read once, to /dev/null. Captured by this script, its bytes would
    cross a pipe into Python's memory, and that would be timed instead (the 297 MB 10M-row users file
    from the page cache: 0.62 s captured, 0.05 s to /dev/null)."""
    return ["sh", "-c", 'exec cat "$1" > /dev/null', "cat", path]


def generate(rows, workdir):
    """users.csv (the job's input) and records.jsonl (the same state for Flink's creator)."""
    csv = workdir / "users.csv"
    with open(csv, "w") as out:
        subprocess.run(["bash", ROOT / "bench" / "generate-users.sh", str(rows)], stdout=out, check=True)
    jsonl = workdir / "records.jsonl"
    subprocess.run(["awk", "-v", f"n={rows}", 'BEGIN{for(i=0;i<n;i++){'
                    'printf "{\\"function\\":\\"bench/user\\",\\"id\\":\\"user-%d\\",\\"state\\":\\"long_value\\",\\"value\\":%d}\\n", i, (i*7)%1000; '
                    'printf "{\\"function\\":\\"bench/user\\",\\"id\\":\\"user-%d\\",\\"state\\":\\"string_value\\",\\"value\\":\\"Name %d\\"}\\n", i, i}}'],
                   stdout=open(jsonl, "w"), check=True)
    return csv, jsonl


def generate_events(events, users, workdir):
    """events.csv (bench/generate-events.sh) and the users.csv its ids refer to."""
    paths = []
    for name, cmd in (("users.csv", ["generate-users.sh", str(users)]),
                      ("events.csv", ["generate-events.sh", str(events), str(users)])):
        path = workdir / name
        with open(path, "w") as out:
            subprocess.run(["bash", ROOT / "bench" / cmd[0], *cmd[1:]], stdout=out, check=True)
        paths.append(path)
    return paths


def run_flink_creator(workload, size, out_dir, inputs):
    """Flink's StatefulFunctionsSavepointCreator (tests/flink-harness `write`) on both of its backends, each
    at its best: RocksDB (its default) with RocksDB's own memory settings instead of the creator's
    hard-wired Flink-managed memory (with which RocksDB flushes a tiny table file every few dozen writes:
    1M events took 561 s that way, against 32 s on hashmap, measured on a loaded 2-core machine), and hashmap (given an 8 GB heap, so that it fits);
    rows for both, the report takes the faster as the baseline. A backend that fails (out of memory) gets
    a row saying so."""
    rows, outputs = [], {}
    for backend in ("rocksdb", "hashmap"):
        out = out_dir / f"sp-flink-{backend}"
        env = dict(os.environ, HARNESS_JAVA_OPTS="-Xmx8g") if backend == "hashmap" else None
        cmd = ["bash", HARNESS, "write", "--output", out, "--max-parallelism", "128", "--parallelism", "2",
               "--state-backend", backend, *inputs]
        if backend == "rocksdb":
            cmd.append("--rocksdb-unmanaged-memory")
        try:
            m = measure(cmd, env=env)
        except SystemExit as e:  # measure() exits with the command's stderr
            print(f"Flink's creator ({backend}) failed: {e}", file=sys.stderr, flush=True)
            rows.append(dict(workload=workload, size=size, what=f"Flink's creator ({backend}) failed (see stderr)",
                             threads="-", failure=True))
            continue
        outputs[backend] = out
        rows.append(dict(workload=workload, size=size, what=f"Flink StatefulFunctionsSavepointCreator ({backend})",
                         threads=2, **m, rate=size / m["wall"], bytes=dir_bytes(out)))
    return rows, outputs


def entries_digest(savepoint):
    """(count, order-free digest) of the (function, id, state, value) entries `dump` lists: the heap
    backend's snapshot lists a key group's entries in no particular order, and a set of millions of
    entries need not be held in memory to be compared."""
    fields = ("function", "id", "state", "value", "value_base64")
    proc = subprocess.Popen([CLI, "dump", savepoint], stdout=subprocess.PIPE, text=True)
    count, digest = 0, 0
    for line in proc.stdout:
        e = json.loads(line)
        canonical = json.dumps([e.get(f) for f in fields], ensure_ascii=False).encode()
        digest = (digest + int.from_bytes(hashlib.sha256(canonical).digest()[:16], "big")) % (1 << 128)
        count += 1
    if proc.wait() != 0:
        raise SystemExit(f"dump {savepoint} failed")
    return count, digest


def same_values(ours, theirs):
    """True when both savepoints hold the same (function, id, state, value) entries."""
    return entries_digest(ours) == entries_digest(theirs)


def run_events(events, users, threads, work, flink):
    """The events job from files at 1 and 2 threads, replayed and combined early, and (with `flink`) Flink's
    creator doing the same merges in its bootstrap function (tests/flink-harness EventsBootstrapFunction) on
    the same files, whose output must hold the same values."""
    d = work / f"events{events}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    users_csv, events_csv = generate_events(events, users, d)
    rows = []
    raw = measure(read_once(events_csv))
    rows.append(dict(workload="events", size=events, what="read the events file once (cat)", threads="-", **raw,
                     rate=events / raw["wall"]))
    outputs = {}
    # A run replays every record unless --combine-early: both.
    for mode, flags in (("replayed", []), ("--combine-early", ["--combine-early"])):
        for t in threads:
            out = d / f"sp-t{t}{'-combined' if flags else ''}"
            job = d / "events.yaml"
            job.write_text(EVENTS_JOB.format(out=out, users=users_csv, events=events_csv))
            m = measure([CLI, "run", job, "--threads", t, "--quiet", *flags])
            outputs[(mode, t)] = out
            rows.append(dict(workload="events", size=events,
                             what=f"statefun-bootstrap run (events over {users:,} users, file, {mode})",
                             threads=t, **m, rate=events / m["wall"], bytes=dir_bytes(out)))
    first = outputs[("replayed", threads[0])]
    identical = all(same_savepoint(first, out) for out in outputs.values())
    rows.append(dict(workload="events", size=events, what="same bytes across thread counts and modes", threads="-",
                     identical=identical))
    if flink:
        flink_rows, flink_outputs = run_flink_creator("events", events, d, ["--users", users_csv, "--events", events_csv])
        rows += flink_rows
        for backend, out in flink_outputs.items():
            rows.append(dict(workload="events", size=events, what=f"same values as Flink's creator ({backend})",
                             threads="-", identical=same_values(first, out)))
    shutil.rmtree(d, ignore_errors=True)
    return rows


def run_spill(n, budget, work):
    """The users job at 2 threads, once at the default memory budget and once at --memory `budget`: the
    output must be byte-identical, and the bounded run's peak RSS is reported beside budget + 256 MB (the
    issue's bound: the budget counts routed entries only; readers, builders and RocksDB are outside it)."""
    d = work / f"spill{n}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    csv = d / "users.csv"
    with open(csv, "w") as out:
        subprocess.run(["bash", ROOT / "bench" / "generate-users.sh", str(n)], stdout=out, check=True)
    rows, outputs = [], {}
    for label, flags in (("default budget", []), (f"--memory {budget}", ["--memory", budget])):
        out = d / f"sp-{len(outputs)}"
        summary = d / f"summary-{len(outputs)}.json"
        job = d / "job.yaml"
        job.write_text(JOB.format(out=out, csv=csv))
        m = measure([CLI, "run", job, "--threads", 2, "--quiet", "--summary-json", summary, *flags])
        s = json.loads(summary.read_text())
        outputs[label] = out
        spilled = (f"{s['spills']} spills, {s['spilled_records']:,} of {s['records_routed']:,} routed records, "
                   f"{s['spill_bytes'] / 2**20:,.0f} MB" if s["spills"] else "nothing spilled")
        bound = s["memory_budget"] / 2**20 + 256
        rows.append(dict(workload="spill", size=n, threads=2, **m, rate=n / m["wall"], bytes=dir_bytes(out),
                         what=f"statefun-bootstrap run (file), {label} = {s['memory_budget'] / 2**20:,.0f} MB: "
                              f"{spilled}; peak RSS {'within' if m['rss_mb'] <= bound else 'OVER'} "
                              f"budget + 256 MB"))
    a, b = outputs.values()
    rows.append(dict(workload="spill", size=n, what="same bytes, spilled or not", threads="-",
                     identical=same_savepoint(a, b)))
    shutil.rmtree(d, ignore_errors=True)
    return rows


def same_savepoint(a, b):
    names = sorted(p.name for p in a.iterdir() if p.name != "statefun-bootstrap.json")
    return names == sorted(p.name for p in b.iterdir() if p.name != "statefun-bootstrap.json") and all(
        subprocess.run(["cmp", "-s", a / n, b / n]).returncode == 0 for n in names)


def dir_bytes(path):
    return sum(p.stat().st_size for p in path.iterdir())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1000000,10000000")
    ap.add_argument("--with-50m", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--flink-max-rows", type=int, default=10_000_000,
                    help="run Flink's creator only up to this many rows or events (it is slow; at 1M its JVM "
                         "start-up dominates, so the default measures it at 10M)")
    ap.add_argument("--skip-flink", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="quick run; does not write RESULTS.md")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--connector-rows", type=int, default=10_000_000,
                    help="rows/messages for the PostgreSQL and Kafka benchmarks (bench/postgres, bench/kafka)")
    ap.add_argument("--skip-connectors", action="store_true", help="only the file source and Flink's creator")
    ap.add_argument("--events", default=None,
                    help="EVENTS:USERS for the events workload (default 10000000:1000000; smoke: 100000:10000)")
    ap.add_argument("--skip-events", action="store_true", help="no events workload")
    ap.add_argument("--spill", default=None,
                    help="ROWS:BUDGET for the spill run: the users job at the default memory budget and at "
                         "--memory BUDGET, same bytes, peak RSS against the budget (default 50000000:1GB; "
                         "smoke: 100000:8MB)")
    ap.add_argument("--skip-spill", action="store_true", help="no spill run")
    args = ap.parse_args()
    sizes = [int(r) for r in args.rows.split(",")] + ([50_000_000] if args.with_50m else [])
    threads = [int(t) for t in args.threads.split(",")]
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="sfb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows_out = []
    try:
        for n in sizes:
            d = work / f"n{n}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            csv, jsonl = generate(n, d)
            raw = measure(read_once(csv))
            raw_rate = n / raw["wall"]
            rows_out.append(dict(size=n, what="read the file once (cat)", threads="-", **raw, rate=raw_rate))
            outputs = {}
            for t in threads:
                out = d / f"sp-t{t}"
                job = d / "job.yaml"
                job.write_text(JOB.format(out=out, csv=csv))
                m = measure([CLI, "run", job, "--threads", t, "--quiet"])
                outputs[t] = out
                rows_out.append(dict(size=n, what="statefun-bootstrap run (file)", threads=t, **m, rate=n / m["wall"],
                                     bytes=dir_bytes(out)))
            identical = all(same_savepoint(outputs[threads[0]], outputs[t]) for t in threads[1:])
            rows_out.append(dict(size=n, what="same bytes across thread counts", threads="-", identical=identical))
            if not args.skip_flink and n <= args.flink_max_rows:
                rows_out += run_flink_creator("users", n, d, ["--input", jsonl])[0]
            shutil.rmtree(d, ignore_errors=True)
        if not args.skip_events:
            spec = args.events or ("100000:10000" if args.smoke else "10000000:1000000")
            events, users = (int(x) for x in spec.split(":"))
            rows_out += run_events(events, users, threads, work,
                                   flink=not args.skip_flink and events <= args.flink_max_rows)
        if not args.skip_spill:
            spec = args.spill or ("100000:8MB" if args.smoke else "50000000:1GB")
            rows, budget = spec.split(":")
            rows_out += run_spill(int(rows), budget, work)
        kafka_events = None if args.skip_events else args.events or "10000000:1000000"
        connectors = [] if args.smoke or args.skip_connectors else run_connector_benchmarks(args.connector_rows, work,
                                                                                             kafka_events)
        report(rows_out, threads, args.smoke, connectors)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def number(text):
    return float(text.replace(",", ""))


def run_connector_benchmarks(rows, work, events_spec=None):
    """Runs bench/postgres/bench.sh and bench/kafka/bench.sh on the same generated users as the file
    benchmark (loaded with COPY, produced into a topic; each script measures its raw baseline on that
    table or topic), and with `events_spec` ("EVENTS:USERS") the events workload from a topic too;
    returns [(title, their output, ratio lines)]."""
    d = work / "connectors"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    users, _ = generate(rows, d)
    kafka_events = []
    if events_spec:
        events, event_users = (int(x) for x in events_spec.split(":"))
        ed = d / "events"
        ed.mkdir()
        events_users_csv, events_csv = generate_events(events, event_users, ed)
        kafka_events = [str(events_csv), str(events_users_csv)]
    out = []
    for name, args in (("PostgreSQL", ["bench/postgres/bench.sh", str(rows), str(users)]),
                       ("Kafka", ["bench/kafka/bench.sh", str(rows), "6", str(users), *kafka_events])):
        print(f"== {name}: {' '.join(args)}", flush=True)
        proc = subprocess.run(["bash", *args], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        text = proc.stdout
        ratios = []
        if name == "PostgreSQL":
            table = {}
            for line in text.splitlines():
                m = re.match(r"^(COPY \(text\) to /dev/null|statefun-bootstrap run \(whole run\)|"
                             r"statefun-bootstrap, read only)\s+([\d,]+)\s+([\d,]+)$", line)
                if m:
                    table[m.group(1)] = (number(m.group(2)), number(m.group(3)))
            copy, run = table["COPY (text) to /dev/null"], table["statefun-bootstrap run (whole run)"]
            read = table["statefun-bootstrap, read only"]
            for i, workers in enumerate(("1 worker", "2 workers")):
                ratios.append(f"{workers}: whole run / raw text COPY = {run[i] / copy[i]:.3f}; "
                              f"connector read only / raw COPY = {read[i] / copy[i]:.3f} (target for a whole run: >= 0.4)")
        else:
            rate = {}
            for line in text.splitlines():
                cells = [c.strip() for c in line.split("|")]
                if len(cells) > 3 and cells[3].replace(",", "").isdigit():
                    rate[cells[1]] = number(cells[3])
            raw = rate["plain librdkafka consume to /dev/null"]
            ratios.append(f"run / plain librdkafka consume = {rate['statefun-bootstrap run'] / raw:.3f}; "
                          f"read only / plain consume = {rate['statefun-bootstrap, read only'] / raw:.3f} "
                          "(target for a run: >= 0.6)")
            avro_raw = rate.get("Avro: plain librdkafka consume to /dev/null")
            if avro_raw:
                avro_run = rate["Avro (registry): statefun-bootstrap run"]
                ratios.append(f"Avro (registry): run / plain consume of the Avro topic = {avro_run / avro_raw:.3f}; "
                              f"read only / plain consume = "
                              f"{rate['Avro (registry): statefun-bootstrap, read only'] / avro_raw:.3f}; "
                              f"Avro run / JSON run = {avro_run / rate['statefun-bootstrap run']:.3f}")
            events_raw = rate.get("Events: plain librdkafka consume to /dev/null")
            if events_raw:
                ratios.append("Events (Kafka): run / plain consume of the events topic = "
                              f"{rate['Events: statefun-bootstrap run, --combine-early'] / events_raw:.3f} "
                              "(--combine-early), "
                              f"{rate['Events: statefun-bootstrap run, replayed'] / events_raw:.3f} (replayed)")
        print(text + "\n".join(ratios), flush=True)
        out.append((name, text, ratios))
    return out


def report(rows, threads, smoke, connectors=()):
    lines = ["| rows | what | threads | wall s | rows/s | CPU s | CPU µs/row | peak RSS MB | savepoint MB/s | vs raw read | "
             "vs Flink creator |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    by_size = {}
    for r in rows:
        by_size.setdefault((r.get("workload", "users"), r["size"]), []).append(r)
    for (_, size), rs in by_size.items():
        raw = next((r for r in rs if r["what"].startswith("read the")), None)
        # The baseline is Flink's creator at its best: the faster of its backends.
        flink = max((r for r in rs if r["what"].startswith("Flink") and "rate" in r), key=lambda r: r["rate"],
                    default=None)
        for r in rs:
            if "failure" in r:
                lines.append(f"| {size:,} | {r['what']} | | | | | | | | | |")
                continue
            if "identical" in r:
                lines.append(f"| {size:,} | {r['what']} | | | | | | | | {'yes' if r['identical'] else 'NO'} | |")
                continue
            mbps = f"{r['bytes'] / 2**20 / r['wall']:.1f}" if "bytes" in r else ""
            vs_raw = f"{r['rate'] / raw['rate']:.3f}" if raw and r is not raw else ""
            vs_flink = f"{r['rate'] / flink['rate']:.1f}x" if flink and r is not flink and "bootstrap" in r["what"] else ""
            lines.append(f"| {size:,} | {r['what']} | {r['threads']} | {r['wall']:.2f} | {r['rate']:,.0f} | "
                         f"{r['cpu']:.1f} | {r['cpu'] * 1e6 / size:.2f} | {r['rss_mb']:.0f} | {mbps} | {vs_raw} | "
                         f"{vs_flink} |")
    table = "\n".join(lines)
    print(table)
    if any("identical" in r and not r["identical"] and "failure" not in r for r in rows):
        print("ERROR: output differs between thread counts, modes or from Flink's creator", file=sys.stderr)
        sys.exit(1)
    if smoke:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    header = (f"# Benchmark results\n\nMachine: {os.cpu_count()} cores ({cpu}), {int(mem) // 2**20} GiB, {platform.platform()}\n"
              f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  \nCommit: {commit}\n\n"
              "Produced by `bench/run.sh`; every ratio compares runs of the same invocation on the same data.\n\n")
    body = header + "## File source and Flink's creator (users job; events job: rows = events)\n\n" + table + "\n"
    for name, text, ratios in connectors:
        body += f"\n## {name}\n\n```\n{text.strip()}\n```\n\n" + "".join(f"- {r}\n" for r in ratios)
    (ROOT / "bench" / "RESULTS.md").write_text(body)


if __name__ == "__main__":
    main()
