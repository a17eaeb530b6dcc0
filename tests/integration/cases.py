"""Test jobs with their input data and the state each must produce, computed here independently of the tool."""
import base64
import csv
import json
import math
import pathlib
import struct
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROFILE_PROTO = ROOT / "schemas" / "example" / "profile.proto"


def f32(x):
    return struct.unpack(">f", struct.pack(">f", x))[0]


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(h) is None else r[h] for h in header])


def protoc_encode(text, message="example.Profile"):
    out = subprocess.run(["protoc", f"--proto_path={PROFILE_PROTO.parent}", f"--encode={message}", PROFILE_PROTO.name],
                         input=text.encode(), capture_output=True, check=True)
    return out.stdout


def descriptor_set(path):
    subprocess.run(["protoc", "--include_imports", f"--proto_path={PROFILE_PROTO.parent}",
                    f"--descriptor_set_out={path}", PROFILE_PROTO.name], check=True)


# --- Every value type, TTL, shared ids, non-ASCII ids -------------------------------------------------

ALL_TYPES_HEADER = ["id", "i", "l", "f", "d", "b", "s", "j_name", "j_age", "r", "p_name", "p_visits", "p_city",
                    "tw", "ti", "jl", "ji", "js", "jb", "jd", "jy", "n"]

ALL_TYPES_ROWS = [
    dict(id="alice", i="3", l="9000000000", f="1.5", d="2.25", b="true", s="hello", j_name="Alice", j_age="30",
         r="raw-bytes", p_name="Alice", p_visits="3", p_city="London", tw="1700000000000", ti="fresh", jl="42",
         ji="-7", js="text é", jb="true", jd="0.1", jy="bytes!", n="1"),
    dict(id="Zoë", i="0", l="0", f="0", d="0", b="false", s="", j_name="Zoë", j_age=None, r="", p_name="Zoë",
         p_visits=None, p_city=None, tw=None, ti="x", jl="0", ji="0", js="", jb="false", jd="0", jy="", n="2"),
    dict(id="李雷", i="-2147483648", l="-9223372036854775808", f="3.4028235e38", d="1e308", b="1", s="中文字符串",
         j_name="李雷", j_age="25", r="二进制", p_name="李雷", p_visits="9000000000", p_city="北京", tw="1",
         ti="later", jl="-9223372036854775808", ji="2147483647", js="🚀", jb="f", jd="-1.5e-300", jy="日本", n="3"),
    dict(id="😀emoji", i="2147483647", l="9223372036854775807", f="NaN", d="-Infinity", b="t", s="🚀 rocket",
         j_name=None, j_age=None, r="r", p_name=None, p_visits="1", p_city="Paris", tw="5", ti=None,
         jl="7", ji="7", js="seven", jb="1", jd="Infinity", jy="x", n=None),
    dict(id="a/b c", i="-1", l="-1", f="-0.1", d="3.141592653589793", b="no", s="with \"quotes\", and commas",
         j_name="Q \"uoted\"", j_age="1", r="{\"not\": \"parsed\"}", p_name="x", p_visits="-5", p_city=None,
         tw="99", ti="t", jl="1", ji="1", js="1", jb="yes", jd="2", jy="1", n="5"),
    dict(id="Ωmega-ß", i="12", l="12", f="Infinity", d="NaN", b="0", s="ß", j_name="Ω", j_age="0", r="Ω",
         p_name="Ω", p_visits="0", p_city="Ωville", tw="12", ti="12", jl="12", ji="12", js="12", jb="0",
         jd="12", jy="Ω", n="0"),
]

ALL_TYPES_JOB = """
savepoint:
  path: {out}
  max_parallelism: 128
  parallelism: {parallelism}
functions:
  example/all:
    states:
      i: {{ type: io.statefun.types/int }}
      l: {{ type: io.statefun.types/long }}
      f: {{ type: io.statefun.types/float }}
      d: {{ type: io.statefun.types/double }}
      b: {{ type: io.statefun.types/bool }}
      s: {{ type: io.statefun.types/string }}
      j: {{ type: example/Json, codec: json }}
      r: {{ type: example/Raw, codec: raw }}
      p: {{ type: example/Profile, codec: protobuf, descriptor_set: {desc}, message: example.Profile }}
      tw: {{ type: io.statefun.types/long, expire_after_write: 1d }}
      ti: {{ type: io.statefun.types/string, expire_after_invoke: 1h }}
  example/embedded:
    states:
      jl: {{ type: java.lang.Long }}
      ji: {{ type: java.lang.Integer }}
      js: {{ type: java.lang.String }}
      jb: {{ type: java.lang.Boolean }}
      jd: {{ type: java.lang.Double }}
      jy: {{ type: "byte[]" }}
  example/other:
    states:
      n: {{ type: io.statefun.types/int }}
sources:
  rows: {{ file: {{ path: rows.csv }} }}
routes:
  - from: rows
    to: example/all
    id: "{{id}}"
    set:
      i: "{{i}}"
      l: "{{l}}"
      f: "{{f}}"
      d: "{{d}}"
      b: "{{b}}"
      s: "{{s}}"
      j: {{ name: "{{j_name}}", age: "{{j_age}}" }}
      r: "{{r}}"
      p: {{ name: "{{p_name}}", visits: "{{p_visits}}", address: {{ city: "{{p_city}}" }} }}
      tw: "{{tw}}"
      ti: "{{ti}}"
  - from: rows
    to: example/embedded
    id: "{{id}}"
    set: {{ jl: "{{jl}}", ji: "{{ji}}", js: "{{js}}", jb: "{{jb}}", jd: "{{jd}}", jy: "{{jy}}" }}
  - from: rows
    to: example/other
    id: "{{id}}"
    set: {{ n: "{{n}}" }}
"""

FLOAT_STATES = {("example/all", "f")}


def _num(text, as_float32=False):
    if text in ("NaN", "Infinity", "-Infinity"):
        return text
    v = float(text)
    return f32(v) if as_float32 else v


def _bool(text):
    return text.lower() in ("true", "t", "1", "yes")


def all_types_expected():
    out = []

    def add(fn, state, ident, **value):
        out.append(dict(function=fn, state=state, id=ident, **value))

    for r in ALL_TYPES_ROWS:
        k = r["id"]
        if r["i"] is not None: add("example/all", "i", k, value=int(r["i"]))
        if r["l"] is not None: add("example/all", "l", k, value=int(r["l"]))
        if r["f"] is not None: add("example/all", "f", k, value=_num(r["f"], True))
        if r["d"] is not None: add("example/all", "d", k, value=_num(r["d"]))
        if r["b"] is not None: add("example/all", "b", k, value=_bool(r["b"]))
        # An empty CSV cell is NULL, and a NULL leaves the state unset.
        if r["s"]: add("example/all", "s", k, value=r["s"])
        add("example/all", "j", k, value={"name": r["j_name"], "age": r["j_age"]})
        if r["r"]: add("example/all", "r", k, value=r["r"])
        fields = []
        if r["p_name"] is not None: fields.append(f'name: {json.dumps(r["p_name"], ensure_ascii=False)}')
        if r["p_visits"] is not None: fields.append(f'visits: {r["p_visits"]}')
        if r["p_city"] is not None: fields.append(f'address {{ city: {json.dumps(r["p_city"], ensure_ascii=False)} }}')
        else: fields.append("address { }")
        add("example/all", "p", k, value_base64=base64.b64encode(protoc_encode(" ".join(fields))).decode())
        if r["tw"] is not None: add("example/all", "tw", k, value=int(r["tw"]))
        if r["ti"] is not None: add("example/all", "ti", k, value=r["ti"])
        add("example/embedded", "jl", k, value=int(r["jl"]))
        add("example/embedded", "ji", k, value=int(r["ji"]))
        if r["js"]: add("example/embedded", "js", k, value=r["js"])
        add("example/embedded", "jb", k, value=_bool(r["jb"]))
        add("example/embedded", "jd", k, value=_num(r["jd"]))
        if r["jy"]: add("example/embedded", "jy", k, value_base64=base64.b64encode(r["jy"].encode()).decode())
        if r["n"] is not None: add("example/other", "n", k, value=int(r["n"]))
    return out


def make_all_types(workdir, parallelism):
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    write_csv(workdir / "rows.csv", ALL_TYPES_HEADER, ALL_TYPES_ROWS)
    descriptor_set(workdir / "profile.desc")
    job = workdir / "job.yaml"
    job.write_text(ALL_TYPES_JOB.format(out=workdir / "savepoint", parallelism=parallelism, desc=workdir / "profile.desc"))
    return job, workdir / "savepoint"


# --- Many ids under different max parallelisms ----------------------------------------------------------

COUNTER_JOB = """
savepoint: {{ path: {out}, max_parallelism: {max_p}, parallelism: {parallelism} }}
functions:
  example/counter:
    states:
      total: {{ type: io.statefun.types/long }}
      last_name: {{ type: io.statefun.types/string }}
      events: {{ type: io.statefun.types/int }}
sources:
  events: {{ file: {{ path: events.csv, split_size: {split_size} }} }}
routes:
  - from: events
    to: example/counter
    id: "{{id}}"
    set: {{ last_name: "{{name}}" }}
    merge: {{ total: sum(amount), events: count }}
"""


def counter_ids(n):
    patterns = ["user-{}", "ü{}", "用户{}", "😀{}", "Ωm{}", "{}"]
    return [patterns[k % len(patterns)].format(k) for k in range(n)]


def make_counter(workdir, max_p, parallelism, n_ids=1500, rounds=2, split_size="1MB"):
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ids = counter_ids(n_ids)
    rows, expected = [], {}
    for rnd in range(rounds):
        for k, ident in enumerate(ids):
            amount = (k * 7 + rnd * 13) % 1000 - 100
            rows.append(dict(id=ident, amount=str(amount), name=f"{ident}-v{rnd}"))
            e = expected.setdefault(ident, dict(total=0, events=0))
            e["total"] += amount
            e["events"] += 1
            e["last_name"] = f"{ident}-v{rnd}"
    write_csv(workdir / "events.csv", ["id", "amount", "name"], rows)
    job = workdir / "job.yaml"
    job.write_text(COUNTER_JOB.format(out=workdir / "savepoint", max_p=max_p, parallelism=parallelism,
                                      split_size=split_size))
    entries = []
    for ident, e in expected.items():
        for state in ("total", "events", "last_name"):
            entries.append(dict(function="example/counter", state=state, id=ident, value=e[state]))
    return job, workdir / "savepoint", entries


# --- merge: append: a JSON array per address, in record order ------------------------------------------

HISTORY_JOB = """
savepoint: {{ path: {out}, max_parallelism: 128, parallelism: 2 }}
functions:
  example/history:
    states:
      pages: {{ type: example/Pages, codec: json }}
      visits: {{ type: example/Visits, codec: json }}
sources:
  starts: {{ file: {{ path: starts.jsonl }} }}
  clicks: {{ file: {{ path: clicks.csv, split_size: 4KB }} }}
routes:
  - from: starts
    to: example/history
    id: "{{id}}"
    set: {{ pages: "{{pages}}" }}
  - from: clicks
    to: example/history
    id: "{{id}}"
    merge: {{ pages: append(page) }}
  - from: clicks
    to: example/history
    id: "{{id}}"
    set: {{ visits: {{ page: "{{page}}", n: "{{n}}" }} }}
    merge: {{ visits: append }}
"""


def make_history(workdir, n_ids=300, clicks=3000):
    """Clicks over ids; some ids start from an array a first source sets, some clicks have no page (NULL:
    skipped by append(page), a JSON null inside the visits object)."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ids = counter_ids(n_ids)
    pages, visits = {}, {}
    with open(workdir / "starts.jsonl", "w", encoding="utf-8") as f:
        for ident in ids[::5]:
            start = ["/home", f"/start/{ident}"]
            f.write(json.dumps({"id": ident, "pages": json.dumps(start, ensure_ascii=False)}, ensure_ascii=False) + "\n")
            pages[ident] = list(start)
    rows = []
    for k in range(clicks):
        ident = ids[(k * 37) % n_ids]
        page = None if k % 11 == 4 else f"/p/{k % 97}/é"
        rows.append(dict(id=ident, page=page, n=str(k)))
        if page is not None:
            pages.setdefault(ident, []).append(page)
        visits.setdefault(ident, []).append({"page": page, "n": str(k)})
    write_csv(workdir / "clicks.csv", ["id", "page", "n"], rows)
    job = workdir / "job.yaml"
    job.write_text(HISTORY_JOB.format(out=workdir / "savepoint"))
    entries = [dict(function="example/history", state="pages", id=i, value=v) for i, v in pages.items()]
    entries += [dict(function="example/history", state="visits", id=i, value=v) for i, v in visits.items()]
    return job, workdir / "savepoint", entries
