#!/usr/bin/env python3
"""Parses a Flink 1.16 canonical savepoint the way docs/flink-savepoint-format.md describes it
(no Flink code), prints a summary, and optionally decodes every keyed entry to the harness's
JSON-lines shape. Used by the self-test to check that savepoints written by Flink itself match
the documented layout.

  inspect_savepoint.py DIR [--entries OUT.jsonl]   exit 1 on any deviation from the doc
"""
import argparse
import base64
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import section8  # noqa: E402  (hash functions, StringValue)


class Deviation(Exception):
    pass


class Reader:
    def __init__(self, data, name):
        self.d, self.p, self.name = data, 0, name

    def take(self, n):
        if self.p + n > len(self.d):
            raise Deviation("%s: unexpected end at %d (+%d)" % (self.name, self.p, n))
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u8(self): return self.take(1)[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def utf(self):
        n = self.u16()
        raw = self.take(n)
        # modified UTF-8 -> UTF-16 units -> str
        units, i = [], 0
        while i < len(raw):
            c = raw[i]
            if c < 0x80:
                units.append(c); i += 1
            elif c & 0xE0 == 0xC0:
                units.append(((c & 0x1F) << 6) | (raw[i + 1] & 0x3F)); i += 2
            else:
                units.append(((c & 0x0F) << 12) | ((raw[i + 1] & 0x3F) << 6) | (raw[i + 2] & 0x3F)); i += 3
        return b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be", "surrogatepass")

    def expect(self, what, got, want):
        if got != want:
            raise Deviation("%s: %s = %r, doc says %r (at %d)" % (self.name, what, got, want, self.p))


# ---------------------------------------------------------------- serializer snapshots

SIMPLE = {
    "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot": "string",
    "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot": "void",
    "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot": "long",
    "org.apache.flink.api.common.typeutils.base.IntSerializer$IntSerializerSnapshot": "int",
    "org.apache.flink.api.common.typeutils.base.BooleanSerializer$BooleanSerializerSnapshot": "bool",
    "org.apache.flink.api.common.typeutils.base.DoubleSerializer$DoubleSerializerSnapshot": "double",
    "org.apache.flink.api.common.typeutils.base.FloatSerializer$FloatSerializerSnapshot": "float",
    "org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot": "bytes",
}
REMOTE = "org.apache.flink.statefun.flink.core.types.remote.RemoteValueSerializerSnapshot"
TTL = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot"


def versioned_snapshot(r):
    cls = r.utf()
    ver = r.i32()
    if cls in SIMPLE:
        r.expect(cls + " version", ver, 3)
        return {"kind": SIMPLE[cls]}
    if cls == REMOTE:
        r.expect("RemoteValueSerializerSnapshot version", ver, 1)
        return {"kind": "remote", "type": r.utf() + "/" + r.utf()}
    if cls == TTL:
        r.expect("TtlSerializerSnapshot version", ver, 3)
        r.expect("composite magic", r.i32(), 911108)
        r.expect("TTL outer version", r.i32(), 2)
        r.expect("nested magic", r.i32(), 1333245)
        r.expect("nested version", r.i32(), 1)
        r.expect("TTL nested count", r.i32(), 2)
        ts = versioned_snapshot(r)
        if ts["kind"] != "long":
            raise Deviation("TTL timestamp serializer is %r" % ts)
        return {"kind": "ttl", "inner": versioned_snapshot(r)}
    raise Deviation("%s: snapshot class %s not covered by the doc's tables" % (r.name, cls))


def top_level_snapshot(r):
    r.expect("snapshot proxy version", r.i32(), 2)
    return versioned_snapshot(r)


# ---------------------------------------------------------------- values

def read_string_value(r):
    def varint():
        v, shift = 0, 0
        while True:
            b = r.u8()
            v |= (b & 0x7F) << shift
            if b < 0x80:
                return v
            shift += 7
    n = varint()
    if n == 0:
        return None
    units = [varint() for _ in range(n - 1)]
    return b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be", "surrogatepass")


def decode_value(ser, data, name):
    r = Reader(data, name)
    out = {}
    if ser["kind"] == "ttl":
        out["ttl_ts"] = r.i64()
        ser = ser["inner"]
    k = ser["kind"]
    if k == "long":
        out["value"] = r.i64()
    elif k == "int":
        out["value"] = r.i32()
    elif k == "bool":
        out["value"] = bool(r.u8())
    elif k == "double":
        v = struct.unpack(">d", r.take(8))[0]
        out["value"] = v if v == v and abs(v) != float("inf") else ("NaN" if v != v else ("Infinity" if v > 0 else "-Infinity"))
    elif k == "string":
        out["value"] = read_string_value(r)
    elif k in ("bytes", "remote"):
        n = r.i32()
        out["value_base64"] = base64.b64encode(r.take(n)).decode()
    else:
        raise Deviation("%s: cannot decode %r" % (name, ser))
    if r.p != len(data):
        raise Deviation("%s: %d trailing value bytes" % (name, len(data) - r.p))
    return out


# ---------------------------------------------------------------- keyed stream

def keyed_stream(data, name, kg_start, offsets, max_p, entries):
    r = Reader(data, name)
    version = r.i32()
    r.expect("KeyedBackendSerializationProxy version", version, 6)
    r.expect("key-group compression", r.u8(), 0)
    key_ser = top_level_snapshot(r)
    if key_ser["kind"] != "string":
        raise Deviation("%s: key serializer %r, doc says StringSerializer" % (name, key_ser))
    states = []
    for _ in range(r.i16()):
        st = {"name": r.utf()}
        r.expect("backend state type", r.i32(), 0)
        opts = {r.utf(): r.utf() for _ in range(r.i32())}
        r.expect("options", opts, {"KEYED_STATE_TYPE": "VALUE"})
        sers = {}
        order = []
        for _ in range(r.i32()):
            key = r.utf()
            order.append(key)
            sers[key] = top_level_snapshot(r)
        if set(sers) != {"VALUE_SERIALIZER", "NAMESPACE_SERIALIZER"} or sers["NAMESPACE_SERIALIZER"]["kind"] != "void":
            raise Deviation("%s: serializers of %s: %r" % (name, st["name"], sers))
        st["serializer"] = sers["VALUE_SERIALIZER"]
        st["serializer_order"] = order
        states.append(st)
    header_end = r.p
    prefix = 1 if max_p <= 128 else 2
    for i, off in enumerate(offsets):
        if off == 0:
            continue
        kg = kg_start + i
        if off < header_end:
            raise Deviation("%s: key group %d offset %d inside the header" % (name, kg, off))
        r.p = off
        sid = r.i16()
        while True:
            key = bytearray(r.take(r.i32()))
            value = r.take(r.i32())
            last = bool(key[0] & 0x80)
            key[0] &= 0x7F
            kr = Reader(bytes(key), name + " key")
            got_kg = int.from_bytes(kr.take(prefix), "big")
            r.expect("key-group prefix", got_kg, kg)
            ident = read_string_value(kr)
            r.expect("namespace byte", kr.u8(), 0)
            r.expect("key trailing bytes", len(key) - kr.p, 0)
            r.expect("key group of id %r" % ident, section8.key_group(ident, max_p), kg)
            st = states[sid]
            e = {"flink_name": st["name"], "id": ident}
            e.update(decode_value(st["serializer"], value, name))
            entries.append(e)
            if last:
                nxt = r.u16()
                if nxt == 0xFFFF:
                    break
                sid = nxt
    return states


def stream_handle(r, base):
    t = r.u8()
    if t == 1:
        hname = r.utf()
        return "inline(%s)" % hname, r.take(r.i32())
    if t == 6:
        rel = r.utf()
        size = r.i64()
        with open(os.path.join(base, rel), "rb") as f:
            data = f.read()
        r.expect("relative file size of " + rel, size, len(data))
        return "file(%s)" % rel, data
    if t == 2:
        size = r.i64()
        path = r.utf()
        with open(path.replace("file:", "", 1), "rb") as f:
            return "abs(%s)" % path, f.read()
    raise Deviation("stream handle type %d" % t)


def inspect(d):
    with open(os.path.join(d, "_metadata"), "rb") as f:
        md = f.read()
    r = Reader(md, "_metadata")
    r.expect("magic", r.take(4), bytes.fromhex("4960672d"))
    version = r.i32()
    if version not in (3, 4):
        raise Deviation("metadata version %d" % version)
    info = {"metadata_version": version, "checkpoint_id": r.i64()}
    r.expect("master states", r.i32(), 0)
    entries, ops = [], []
    for _ in range(r.i32()):
        op = {"operator_id": r.take(16).hex(), "parallelism": r.i32(), "max_parallelism": r.i32()}
        r.expect("coordinator state", r.u8(), 0)
        op["subtasks"] = []
        for _ in range(r.i32()):
            idx = r.i32()
            r.expect("managed operator state", r.i32(), 0)
            r.expect("raw operator state", r.i32(), 0)
            r.expect("keyed handle type", r.u8(), 7)
            start, n = r.i32(), r.i32()
            lo, hi = section8.key_group_range(idx, op["parallelism"], op["max_parallelism"])
            r.expect("subtask %d key-group range" % idx, (start, start + n - 1), (lo, hi))
            offsets = [r.i64() for _ in range(n)]
            where, data = stream_handle(r, d)
            r.expect("raw keyed state", r.u8(), 0)
            r.expect("input channel handles", r.i32(), 0)
            r.expect("result subpartition handles", r.i32(), 0)
            states = keyed_stream(data, where, start, offsets, op["max_parallelism"], entries)
            op["subtasks"].append({"index": idx, "range": [start, start + n - 1], "stream": where,
                                   "stream_bytes": len(data), "non_empty_key_groups": sum(1 for o in offsets if o),
                                   "states": [(s["name"], s["serializer"], s["serializer_order"]) for s in states]})
        ops.append(op)
    if version == 4:
        r.expect("V4 trailer (null CheckpointProperties)", r.take(5), bytes.fromhex("aced000570"))
    r.expect("trailing _metadata bytes", len(md) - r.p, 0)
    info["operators"] = ops
    return info, entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--entries")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    try:
        info, entries = inspect(a.dir)
    except (Deviation, OSError) as e:
        print("inspect_savepoint: %s: DEVIATION: %s" % (a.dir, e), file=sys.stderr)
        sys.exit(1)
    if not a.quiet:
        print(json.dumps(info, indent=1, ensure_ascii=False), file=sys.stderr)
    if a.entries:
        with open(a.entries, "w", encoding="utf-8") as f:
            for e in sorted(entries, key=lambda e: (e["flink_name"], e["id"])):
                f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("inspect_savepoint: %s: %d entries, layout as documented" % (a.dir, len(entries)), file=sys.stderr)


if __name__ == "__main__":
    main()
