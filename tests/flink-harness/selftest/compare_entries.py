#!/usr/bin/env python3
"""Checks that the entries inspect_savepoint.py decoded from a savepoint written by Flink equal the
RECORDS_JSONL that was fed to `harness.sh write` (last write per (function, id, state) wins)."""
import base64
import json
import math
import struct
import sys


def main(records_path, entries_path):
    want = {}
    with open(records_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            ns, name = r["function"].split("/")
            key = ("%s.%s.%s" % (ns, name, r["state"]), r["id"])
            want[key] = r.get("value_base64") if r["state"] == "bytes_value" else r["value"]
    got = {}
    with open(entries_path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            got[(e["flink_name"], e["id"])] = e.get("value_base64", e.get("value"))
    bad = 0
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key), got.get(key)
        if isinstance(w, float) or isinstance(g, float) or key[0].endswith("double_value"):
            def num(v):
                return float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf"))
            ok = w is not None and g is not None and (
                (math.isnan(num(w)) and math.isnan(num(g))) or num(w) == num(g))
        else:
            ok = w == g
        if not ok:
            print("compare_entries: %s: records say %r, savepoint has %r" % (key, w, g), file=sys.stderr)
            bad += 1
    if bad:
        sys.exit(1)
    print("compare_entries: %d entries match the records" % len(got), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
