#!/usr/bin/env python3
"""Writes the worked-example savepoint of docs/flink-savepoint-format.md section 8, byte for byte,
from first principles (no Flink code), so that real Flink can judge the documented format.

Default output = section 8: metadata V3, parallelism 1, max parallelism 128, one remote state
example.greeter.seen_count of type io.statefun.types/int, alice=3, bob=1, keyed data in the
relative file "keyed-state-functions-0".

Variants (section 8.3 and a few more) for extra coverage:
  --metadata-version 4     V4 metadata + the null CheckpointProperties trailer AC ED 00 05 70
  --inline                 keyed stream inline in _metadata (ByteStreamStateHandle, type 1)
  --ttl-ts MILLIS          TTL-enabled state: TtlSerializer snapshot + 8-byte timestamp per value
  --parallelism P          P subtask handles (one file each, empty subtasks omitted)
  --max-parallelism N      other max parallelism (2-byte key-group prefix above 128)
  --entry ID=INT           replace the default entries (repeatable)
  --type-name NS/NAME      declare another TypeName in the serializer snapshot
  --misplace ID            negative test: store ID under a wrong key group
  --spec SPEC.json         several states of any serializer above (remote:<type>, long, int,
                           bool, double, string, bytes), entries with payload_hex / value
  --check-doc DOC.md       compare the default output with the hex dumps in the doc (8.1, 8.2)
"""
import argparse
import base64
import json
import os
import re
import struct
import sys

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


# ---------------------------------------------------------------- Java / Flink primitives

def i16(v): return struct.pack(">h", v)
def u16(v): return struct.pack(">H", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def utf16_units(s):
    b = s.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]


def write_utf(s):
    """java.io.DataOutput.writeUTF: u16 length + modified UTF-8 of the UTF-16 units."""
    out = bytearray()
    for c in utf16_units(s):
        if 0x0001 <= c <= 0x007F:
            out.append(c)
        elif c <= 0x07FF:
            out += bytes([0xC0 | (c >> 6), 0x80 | (c & 0x3F)])
        else:
            out += bytes([0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F)])
    assert len(out) <= 65535
    return u16(len(out)) + bytes(out)


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def string_value(s):
    """Flink StringSerializer record (StringValue.writeString)."""
    units = utf16_units(s)
    return varint(len(units) + 1) + b"".join(varint(c) for c in units)


def java_string_hash(s):
    h = 0
    for c in utf16_units(s):
        h = (31 * h + c) & MASK32
    return h


def rotl32(x, r): return ((x << r) | (x >> (32 - r))) & MASK32


def flink_murmur(code):
    """org.apache.flink.util.MathUtils.murmurHash(int)."""
    code = (code * 0xCC9E2D51) & MASK32
    code = rotl32(code, 15)
    code = (code * 0x1B873593) & MASK32
    code = rotl32(code, 13)
    code = (code * 5 + 0xE6546B64) & MASK32
    code ^= 4
    code ^= code >> 16
    code = (code * 0x85EBCA6B) & MASK32
    code ^= code >> 13
    code = (code * 0xC2B2AE35) & MASK32
    code ^= code >> 16
    signed = code - (1 << 32) if code & 0x80000000 else code
    if signed >= 0:
        return signed
    if signed == -(1 << 31):
        return 0
    return -signed


def key_group(key, max_p):
    return flink_murmur(java_string_hash(key)) % max_p


def key_group_range(i, p, max_p):
    return (i * max_p + p - 1) // p, ((i + 1) * max_p - 1) // p


def rotl64(x, r): return ((x << r) | (x >> (64 - r))) & MASK64


def fmix64(k):
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK64
    k ^= k >> 33
    return k


def murmur3_x64_128(data, seed=0):
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    h1 = h2 = seed
    n = len(data) // 16
    for i in range(n):
        k1 = int.from_bytes(data[16 * i:16 * i + 8], "little")
        k2 = int.from_bytes(data[16 * i + 8:16 * i + 16], "little")
        k1 = (k1 * c1) & MASK64; k1 = rotl64(k1, 31); k1 = (k1 * c2) & MASK64; h1 ^= k1
        h1 = rotl64(h1, 27); h1 = (h1 + h2) & MASK64; h1 = (h1 * 5 + 0x52DCE729) & MASK64
        k2 = (k2 * c2) & MASK64; k2 = rotl64(k2, 33); k2 = (k2 * c1) & MASK64; h2 ^= k2
        h2 = rotl64(h2, 31); h2 = (h2 + h1) & MASK64; h2 = (h2 * 5 + 0x38495AB5) & MASK64
    tail = data[16 * n:]
    k1 = int.from_bytes(tail[:8], "little") if tail else 0
    k2 = int.from_bytes(tail[8:16], "little") if len(tail) > 8 else 0
    if len(tail) > 8:
        k2 = (k2 * c2) & MASK64; k2 = rotl64(k2, 33); k2 = (k2 * c1) & MASK64; h2 ^= k2
    if tail:
        k1 = (k1 * c1) & MASK64; k1 = rotl64(k1, 31); k1 = (k1 * c2) & MASK64; h1 ^= k1
    h1 ^= len(data); h2 ^= len(data)
    h1 = (h1 + h2) & MASK64; h2 = (h2 + h1) & MASK64
    h1 = fmix64(h1); h2 = fmix64(h2)
    h1 = (h1 + h2) & MASK64; h2 = (h2 + h1) & MASK64
    return h1.to_bytes(8, "little") + h2.to_bytes(8, "little")


def operator_id(uid):
    return murmur3_x64_128(uid.encode("utf-8"))


# ---------------------------------------------------------------- serializer snapshots

def snapshot(cls, version, payload=b""):
    """Versioned snapshot: class name, version, payload."""
    return write_utf(cls) + i32(version) + payload


def top_level(snap):
    """TypeSerializerSnapshotSerializationProxy version 2 + versioned snapshot."""
    return i32(2) + snap


STRING_SNAP = snapshot("org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot", 3)
VOID_NS_SNAP = snapshot("org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot", 3)
LONG_SNAP = snapshot("org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot", 3)


def remote_value_snap(ns, name):
    return snapshot("org.apache.flink.statefun.flink.core.types.remote.RemoteValueSerializerSnapshot", 1,
                    write_utf(ns) + write_utf(name))


def ttl_snap(inner):
    return snapshot("org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot", 3,
                    i32(911108) + i32(2) + i32(1333245) + i32(1) + i32(2) + LONG_SNAP + inner)


# ---------------------------------------------------------------- keyed-state stream

def int_wrapper(v):
    """io.statefun.sdk.types.IntWrapper, proto3 (0 -> empty)."""
    return b"" if v == 0 else b"\x0d" + struct.pack("<i", v)


def value_record(ser, v):
    """Serialized value for a serializer spec: 'remote:<ns>/<name>' takes the SDK payload bytes;
    'long', 'int', 'bool', 'double', 'string', 'bytes' take a Python value."""
    if isinstance(v, tuple) and v[0] == "raw":
        return v[1]
    if ser.startswith("remote:"):
        return i32(len(v)) + v
    if ser == "long":
        return i64(v)
    if ser == "int":
        return i32(v)
    if ser == "bool":
        return b"\x01" if v else b"\x00"
    if ser == "double":
        return struct.pack(">d", v)
    if ser == "string":
        return string_value(v)
    if ser == "bytes":
        return i32(len(v)) + v
    raise ValueError(ser)


SIMPLE_SNAPS = {
    "long": LONG_SNAP,
    "int": snapshot("org.apache.flink.api.common.typeutils.base.IntSerializer$IntSerializerSnapshot", 3),
    "bool": snapshot("org.apache.flink.api.common.typeutils.base.BooleanSerializer$BooleanSerializerSnapshot", 3),
    "double": snapshot("org.apache.flink.api.common.typeutils.base.DoubleSerializer$DoubleSerializerSnapshot", 3),
    "string": STRING_SNAP,
    "bytes": snapshot("org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot", 3),
}


def value_snapshot(ser, ttl):
    if ser.startswith("remote:"):
        ns, name = ser[len("remote:"):].split("/")
        snap = remote_value_snap(ns, name)
    else:
        snap = SIMPLE_SNAPS[ser]
    return ttl_snap(snap) if ttl else snap


def keyed_stream(states, entries, kg_range, max_p, misplace=()):
    """states: [(flink_name, serializer, ttl_ts or None)]; entries: [(state_index, id, value)].
    Returns (bytes, {key_group: offset}). Ids in `misplace` go into the wrong key group."""
    out = bytearray()
    out += i32(6) + b"\x00"                                    # proxy version 6, no compression
    out += top_level(STRING_SNAP)                              # key serializer
    out += i16(len(states))
    for name, ser, ttl_ts in states:
        out += write_utf(name) + i32(0)                        # KEY_VALUE
        out += i32(1) + write_utf("KEYED_STATE_TYPE") + write_utf("VALUE")
        out += i32(2)
        out += write_utf("VALUE_SERIALIZER") + top_level(value_snapshot(ser, ttl_ts is not None))
        out += write_utf("NAMESPACE_SERIALIZER") + top_level(VOID_NS_SNAP)
    prefix_len = 1 if max_p <= 128 else 2
    by_kg = {}
    for sid, key, v in entries:
        kg = key_group(key, max_p)
        if key in misplace:
            kg = kg_range[0] + (kg - kg_range[0] + 1) % (kg_range[1] - kg_range[0] + 1)
        if kg_range[0] <= kg <= kg_range[1]:
            by_kg.setdefault(kg, {}).setdefault(sid, []).append((key, v))
    offsets = {}
    for kg in sorted(by_kg):
        offsets[kg] = len(out)
        runs = sorted(by_kg[kg].items())
        for r, (sid, pairs) in enumerate(runs):
            if r == 0:
                out += i16(sid)                                # first run's state id
            pairs = sorted(pairs, key=lambda kv: string_value(kv[0]))
            name, ser, ttl_ts = states[sid]
            for n, (key, v) in enumerate(pairs):
                last = n == len(pairs) - 1
                k = bytearray(kg.to_bytes(prefix_len, "big") + string_value(key) + b"\x00")
                if last:
                    k[0] |= 0x80                               # "meta data follows"
                value = value_record(ser, v)
                if ttl_ts is not None:
                    value = i64(ttl_ts) + value                # TtlValue: timestamp first
                out += i32(len(k)) + bytes(k) + i32(len(value)) + value
            if r + 1 < len(runs):
                out += i16(runs[r + 1][0])                     # next run's state id
        out += u16(0xFFFF)                                     # END_OF_KEY_GROUP_MARK
    return bytes(out), offsets


# ---------------------------------------------------------------- _metadata

def metadata(max_p, p, subtasks, version, inline):
    """subtasks: list of (index, (start, end), offsets, file_name, stream_bytes)."""
    out = bytearray()
    out += struct.pack(">I", 0x4960672D) + i32(version)
    out += i64(0)                                              # checkpoint id
    out += i32(0)                                              # master states
    out += i32(1)                                              # one operator
    out += operator_id("functions_uid1")
    out += i32(p) + i32(max_p)
    out += b"\x00"                                             # no coordinator state
    out += i32(len(subtasks))
    for index, (start, end), offsets, name, data in subtasks:
        out += i32(index)
        out += i32(0) + i32(0)                                 # no managed/raw operator state
        out += b"\x07" + i32(start) + i32(end - start + 1)     # SAVEPOINT_KEY_GROUPS_HANDLE
        for kg in range(start, end + 1):
            out += i64(offsets.get(kg, 0))
        if inline:
            out += b"\x01" + write_utf(name) + i32(len(data)) + data
        else:
            out += b"\x06" + write_utf(name) + i64(len(data))  # RELATIVE_STREAM_STATE_HANDLE
        out += b"\x00"                                         # no raw keyed state
        out += i32(0) + i32(0)                                 # no channel state
    if version == 4:
        out += bytes([0xAC, 0xED, 0x00, 0x05, 0x70])           # ObjectOutputStream(null)
    return bytes(out)


def build(args):
    if args.spec:
        spec = json.load(open(args.spec, encoding="utf-8"))
        states = [(st["flink_name"], st["serializer"], st.get("ttl_ts")) for st in spec["states"]]
        entries = []
        for e in spec["entries"]:
            v = e.get("value")
            if v == "__nan__":
                v = float("nan")
            if "record_hex" in e:                              # verbatim value record
                v = ("raw", bytes.fromhex(e["record_hex"]))
            elif "payload_hex" in e:
                v = bytes.fromhex(e["payload_hex"])
            elif "value_base64" in e:
                v = base64.b64decode(e["value_base64"])
            entries.append((e["state"], e["id"], v))
        for opt in ("max_parallelism", "parallelism", "metadata_version", "inline"):
            if opt in spec:
                setattr(args, opt, spec[opt])
    else:
        ser = "remote:" + args.type_name
        states = [(args.state_name, ser, args.ttl_ts)]
        entries = [(0, key, int_wrapper(v)) for key, v in args.entries]
    files = {}
    subtasks = []
    for i in range(args.parallelism):
        rng = key_group_range(i, args.parallelism, args.max_parallelism)
        data, offsets = keyed_stream(states, entries, rng, args.max_parallelism, set(args.misplace))
        if not offsets:
            continue
        fname = "keyed-state-functions-%d" % i
        if not args.inline:
            files[fname] = data
        subtasks.append((i, rng, offsets, fname, data))
    files["_metadata"] = metadata(args.max_parallelism, args.parallelism, subtasks,
                                  args.metadata_version, args.inline)
    return files


def parse_hexdump(text):
    """Concatenated bytes of a `hexdump -C` block; '*' repeats the previous line."""
    out = bytearray()
    prev = None
    expect = 0
    for line in text.splitlines():
        line = line.strip()
        if line == "*":
            continue
        m = re.match(r"^([0-9a-f]{8})\s+((?:[0-9a-f]{2}\s+){1,16})", line)
        if not m:
            continue
        off = int(m.group(1), 16)
        if prev is not None:
            while expect < off:
                out += prev
                expect += len(prev)
        row = bytes(int(h, 16) for h in m.group(2).split())
        out += row
        prev = row
        expect = off + len(row)
    return bytes(out)


def check_doc(doc_path, files):
    doc = open(doc_path, encoding="utf-8").read()
    blocks = re.findall(r"```\n(00000000.*?)```", doc, re.S)
    want = {}
    for b in blocks:
        data = parse_hexdump(b)
        if data.startswith(b"\x49\x60\x67\x2d"):
            want["_metadata"] = data
        elif data.startswith(b"\x00\x00\x00\x06\x00"):
            want["keyed-state-functions-0"] = data
    ok = True
    for fname in ("keyed-state-functions-0", "_metadata"):
        if fname not in want:
            print("section8: doc has no hex dump for %s" % fname, file=sys.stderr)
            ok = False
        elif want[fname] != files[fname]:
            n = next((i for i in range(min(len(want[fname]), len(files[fname])))
                      if want[fname][i] != files[fname][i]), None)
            print("section8: %s differs from the doc's hex dump (%d vs %d bytes, first diff at %s)"
                  % (fname, len(files[fname]), len(want[fname]), n), file=sys.stderr)
            ok = False
        else:
            print("section8: %s matches the doc's hex dump (%d bytes)" % (fname, len(files[fname])),
                  file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--metadata-version", type=int, choices=(3, 4), default=3)
    ap.add_argument("--inline", action="store_true")
    ap.add_argument("--ttl-ts", type=int)
    ap.add_argument("--parallelism", type=int, default=1)
    ap.add_argument("--max-parallelism", type=int, default=128)
    ap.add_argument("--state-name", default="example.greeter.seen_count")
    ap.add_argument("--type-name", default="io.statefun.types/int")
    ap.add_argument("--entry", action="append", default=[])
    ap.add_argument("--misplace", action="append", default=[],
                    help="negative test: store this id under the wrong key group")
    ap.add_argument("--check-doc")
    ap.add_argument("--spec", help="JSON spec with several states/serializers (see selftest/run.sh)")
    args = ap.parse_args()
    args.entries = ([(e.rsplit("=", 1)[0], int(e.rsplit("=", 1)[1])) for e in args.entry]
                    or [("alice", 3), ("bob", 1)])
    files = build(args)
    os.makedirs(args.out_dir, exist_ok=True)
    for fname, data in files.items():
        with open(os.path.join(args.out_dir, fname), "wb") as f:
            f.write(data)
    if args.check_doc and not check_doc(args.check_doc, files):
        sys.exit(1)


if __name__ == "__main__":
    # self-checks of the hash functions against known vectors
    assert murmur3_x64_128(b"hell") == (0x629942693E10F867).to_bytes(8, "little") + (0x92DB0B82BAEB5347).to_bytes(8, "little")
    assert operator_id("functions_uid1").hex() == "6b87a4870d0e21cecbbe271bd893cfcc"
    assert key_group("alice", 128) == 116 and key_group("bob", 128) == 87 and key_group("", 128) == 94
    main()
