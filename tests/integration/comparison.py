"""Comparing state entries (the JSON-lines form of `dump`, the harness and expected files)."""
import math
import struct


def _key(e):
    return (e["function"], e["state"], e["id"])


def _same_value(expected, actual, kind):
    if kind == "float":
        if isinstance(expected, str) or isinstance(actual, str):
            return expected == actual
        return struct.pack(">f", expected) == struct.pack(">f", actual)
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    return expected == actual


def normalize(entries):
    """Keeps the fields every producer shares: function, id, state, value or value_base64."""
    out = {}
    for e in entries:
        k = _key(e)
        assert k not in out, f"duplicate entry {k}"
        out[k] = {f: e[f] for f in ("value", "value_base64") if f in e}
    return out


def assert_entries_equal(expected, actual, float_states=(), label=""):
    """Asserts two entry lists hold the same (function, state, id) -> value, value by value."""
    exp = normalize(expected)
    act = normalize(actual)
    missing = sorted(set(exp) - set(act))
    extra = sorted(set(act) - set(exp))
    wrong = []
    for k in sorted(set(exp) & set(act)):
        kind = "float" if (k[0], k[1]) in float_states else ""
        e, a = exp[k], act[k]
        if set(e) != set(a) or not all(_same_value(e[f], a[f], kind) for f in e):
            wrong.append((k, e, a))
    assert not (missing or extra or wrong), (
        f"{label}: {len(missing)} missing, {len(extra)} unexpected, {len(wrong)} different\n"
        f"missing: {missing[:10]}\nunexpected: {extra[:10]}\ndifferent: {wrong[:10]}")
    return len(exp)
