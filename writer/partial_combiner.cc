#include "writer/partial_combiner.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/byte_writer.h"
#include "common/str_cat.h"
#include "writer/shard_store.h"

namespace sfb {
namespace {

bool IsTextKind(Value::Kind kind) { return kind == Value::Kind::kText || kind == Value::Kind::kBytes; }

// Holds `v` (the operand's value) in `p`.
void Hold(StatePartial* p, const Value& v) {
  p->kind = v.kind();
  switch (v.kind()) {
    case Value::Kind::kBool: p->number = v.as_bool() ? 1 : 0; break;
    case Value::Kind::kInt: p->number = v.as_int(); break;
    case Value::Kind::kDouble: {
      const double d = v.as_double();
      std::memcpy(&p->number, &d, sizeof d);
      break;
    }
    case Value::Kind::kText:
    case Value::Kind::kBytes: p->text.assign(v.as_string()); break;
    case Value::Kind::kNull: break;
  }
}

// `a` < `b` as the replay compares min/max operands: integers as numbers, text bytewise.
bool Less(const StatePartial& a, const StatePartial& b) {
  if (IsTextKind(a.kind)) return a.text < b.text;
  return a.number < b.number;
}
bool LessThanOperand(const Value& v, const StatePartial& p) {
  if (IsTextKind(v.kind())) return v.as_string() < p.text;
  return v.as_int() < p.number;
}
bool GreaterThanOperand(const Value& v, const StatePartial& p) {
  if (IsTextKind(v.kind())) return v.as_string() > p.text;
  return v.as_int() > p.number;
}

// Reads the big-endian fields of a partial entry (writer/partial_combiner.h's format).
class PartialReader {
 public:
  explicit PartialReader(std::string_view in) : in_(in) {}
  bool empty() const { return in_.empty(); }
  Status U8(uint8_t* v) { return Fixed(v); }
  Status U16(uint16_t* v) { return Fixed(v); }
  Status U32(uint32_t* v) { return Fixed(v); }
  Status U64(uint64_t* v) { return Fixed(v); }
  Status Bytes(size_t n, std::string_view* v) {
    if (in_.size() < n) return Status::Corruption("a partial entry is cut short");
    *v = in_.substr(0, n);
    in_.remove_prefix(n);
    return Status::OK();
  }

 private:
  template <typename T>
  Status Fixed(T* v) {
    if (in_.size() < sizeof(T)) return Status::Corruption("a partial entry is cut short");
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) x = (x << 8) | static_cast<uint8_t>(in_[i]);
    *v = static_cast<T>(x);
    in_.remove_prefix(sizeof(T));
    return Status::OK();
  }
  std::string_view in_;
};

void AddSaturating(int64_t v, int64_t* sum, bool* past) {
  if (__builtin_add_overflow(*sum, v, sum)) *past = true;
}

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

Status ReadVarint(PartialReader* r, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b = 0;
    SFB_RETURN_IF_ERROR(r->U8(&b));
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return Status::OK();
  }
  return Status::Corruption("bad varint in a partial");
}

void EncodeHeld(const StatePartial& p, std::string* out) {
  ByteWriter w(out);
  w.U8(static_cast<uint8_t>(p.kind));
  if (IsTextKind(p.kind)) {
    AppendVarint(out, p.text.size());
    out->append(p.text);
  } else if (p.kind != Value::Kind::kNull) {
    w.U64(static_cast<uint64_t>(p.number));
  }
}

Status DecodeHeld(PartialReader* r, StatePartial* p) {
  uint8_t kind = 0;
  SFB_RETURN_IF_ERROR(r->U8(&kind));
  if (kind > static_cast<uint8_t>(Value::Kind::kBytes)) return Status::Corruption("bad value kind in a partial");
  p->kind = static_cast<Value::Kind>(kind);
  if (IsTextKind(p->kind)) {
    uint64_t size = 0;
    SFB_RETURN_IF_ERROR(ReadVarint(r, &size));
    std::string_view bytes;
    SFB_RETURN_IF_ERROR(r->Bytes(static_cast<size_t>(size), &bytes));
    p->text.assign(bytes);
  } else if (p->kind != Value::Kind::kNull) {
    uint64_t n = 0;
    SFB_RETURN_IF_ERROR(r->U64(&n));
    p->number = static_cast<int64_t>(n);
  }
  return Status::OK();
}

Status Overflow(const std::string& state, const std::string& address, const std::string& what) {
  return Status::BadRecord(StrCat("the ", what, " for state ", state, " of address ", address,
                                  " overflows its integer type"))
      .WithHint("declare the state as io.statefun.types/long (or java.lang.Long)");
}

}  // namespace

void StatePartial::Add(const Value& operand, const RecordOrder& at) {
  if (op == CombineOp::kCount) {
    has = true;
    ++number;
    return;
  }
  if (operand.is_null()) return;  // a NULL operand leaves the state as it is
  switch (op) {
    case CombineOp::kLast:
      if (!has || !(at < order())) {
        Hold(this, operand);
        source = at.source, position = at.position, seq = at.seq;
      }
      break;
    case CombineOp::kFirst:
      if (!has || at < order()) {
        Hold(this, operand);
        source = at.source, position = at.position, seq = at.seq;
      }
      break;
    case CombineOp::kSum: {
      const int64_t v = operand.as_int();
      if (v >= 0) {
        AddSaturating(v, &number, &positive_past_range);
      } else {
        AddSaturating(v, &negative, &negative_past_range);
      }
      break;
    }
    case CombineOp::kMin:
      if (!has || LessThanOperand(operand, *this)) Hold(this, operand);
      break;
    case CombineOp::kMax:
      if (!has || GreaterThanOperand(operand, *this)) Hold(this, operand);
      break;
    case CombineOp::kCount: break;
  }
  has = true;
}

void StatePartial::Merge(const StatePartial& o) {
  if (!o.has) return;
  if (!has) {
    *this = o;
    return;
  }
  switch (op) {
    case CombineOp::kCount: number += o.number; break;
    case CombineOp::kLast:
      if (order() < o.order()) *this = o;
      break;
    case CombineOp::kFirst:
      if (o.order() < order()) *this = o;
      break;
    case CombineOp::kSum:
      if (o.positive_past_range) positive_past_range = true;
      if (o.negative_past_range) negative_past_range = true;
      AddSaturating(o.number, &number, &positive_past_range);
      AddSaturating(o.negative, &negative, &negative_past_range);
      break;
    case CombineOp::kMin:
      if (Less(o, *this)) *this = o;
      break;
    case CombineOp::kMax:
      if (Less(*this, o)) *this = o;
      break;
  }
}

void EncodePartials(const std::vector<StatePartial>& partials, std::string* out) {
  ByteWriter w(out);
  AppendVarint(out, partials.size());
  for (const StatePartial& p : partials) {
    w.U16(p.slot);
    w.U8(static_cast<uint8_t>(p.op));
    w.U8(p.has ? 1 : 0);
    switch (p.op) {
      case CombineOp::kLast:
      case CombineOp::kFirst:
        w.U16(p.source);
        w.U64(p.position);
        w.U32(p.seq);
        EncodeHeld(p, out);
        break;
      case CombineOp::kCount: w.U64(static_cast<uint64_t>(p.number)); break;
      case CombineOp::kSum:
        w.U64(static_cast<uint64_t>(p.number));
        w.U64(static_cast<uint64_t>(p.negative));
        w.U8(static_cast<uint8_t>((p.positive_past_range ? 1 : 0) | (p.negative_past_range ? 2 : 0)));
        break;
      case CombineOp::kMin:
      case CombineOp::kMax: EncodeHeld(p, out); break;
    }
  }
}

Status DecodePartials(std::string_view in, std::vector<StatePartial>* out) {
  out->clear();
  PartialReader r(in);
  uint64_t n = 0;
  SFB_RETURN_IF_ERROR(ReadVarint(&r, &n));
  if (n > 65536) return Status::Corruption("too many states in a partial");
  out->resize(static_cast<size_t>(n));
  for (StatePartial& p : *out) {
    uint8_t op = 0, has = 0;
    SFB_RETURN_IF_ERROR(r.U16(&p.slot));
    SFB_RETURN_IF_ERROR(r.U8(&op));
    SFB_RETURN_IF_ERROR(r.U8(&has));
    if (op > static_cast<uint8_t>(CombineOp::kMax)) return Status::Corruption("bad op in a partial");
    p.op = static_cast<CombineOp>(op);
    p.has = has != 0;
    uint64_t a = 0, b = 0;
    switch (p.op) {
      case CombineOp::kLast:
      case CombineOp::kFirst:
        SFB_RETURN_IF_ERROR(r.U16(&p.source));
        SFB_RETURN_IF_ERROR(r.U64(&p.position));
        SFB_RETURN_IF_ERROR(r.U32(&p.seq));
        SFB_RETURN_IF_ERROR(DecodeHeld(&r, &p));
        break;
      case CombineOp::kCount:
        SFB_RETURN_IF_ERROR(r.U64(&a));
        p.number = static_cast<int64_t>(a);
        break;
      case CombineOp::kSum: {
        uint8_t flags = 0;
        SFB_RETURN_IF_ERROR(r.U64(&a));
        SFB_RETURN_IF_ERROR(r.U64(&b));
        SFB_RETURN_IF_ERROR(r.U8(&flags));
        p.number = static_cast<int64_t>(a);
        p.negative = static_cast<int64_t>(b);
        p.positive_past_range = (flags & 1) != 0;
        p.negative_past_range = (flags & 2) != 0;
        break;
      }
      case CombineOp::kMin:
      case CombineOp::kMax: SFB_RETURN_IF_ERROR(DecodeHeld(&r, &p)); break;
    }
  }
  if (!r.empty()) return Status::Corruption("trailing bytes after a partial");
  return Status::OK();
}

Result<std::optional<StateValue>> ResolvePartial(const StatePartial& p, ValueRepr repr, const std::string& state,
                                                 const std::string& address) {
  if (!p.has) return std::optional<StateValue>();
  const bool int32 = repr == ValueRepr::kInt32;
  const int64_t lo = int32 ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
  const int64_t hi = int32 ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
  auto integer = [&](int64_t v) -> StateValue {
    if (int32) return static_cast<int32_t>(v);
    return v;
  };
  switch (p.op) {
    case CombineOp::kCount:
      // A count starts at 1 and adds 1: it leaves the range exactly when the total does.
      if (p.number < 0 || p.number > hi) return Overflow(state, address, "count");
      return std::optional<StateValue>(integer(p.number));
    case CombineOp::kSum: {
      const bool positive_fits = !p.positive_past_range && p.number <= hi;
      const bool negative_fits = !p.negative_past_range && p.negative >= lo;
      if (positive_fits && negative_fits) return std::optional<StateValue>(integer(p.number + p.negative));
      const bool one_sign = p.number == 0 || p.negative == 0;
      if (one_sign) return Overflow(state, address, "sum");  // monotonic: the running sum passes the range
      return Status::BadRecord(StrCat("the sum for state ", state, " of address ", address,
                                      " may overflow its integer type: its positive operands add up to ",
                                      p.positive_past_range ? std::string("more than 2^63") : std::to_string(p.number),
                                      " and its negative ones to ",
                                      p.negative_past_range ? std::string("less than -2^63")
                                                            : std::to_string(p.negative),
                                      ", so whether a running sum leaves the range depends on the order of records "
                                      "that different threads combined"))
          .WithHint("declare the state as io.statefun.types/long (or java.lang.Long)");
    }
    default: break;
  }
  switch (repr) {
    case ValueRepr::kInt32: return std::optional<StateValue>(static_cast<int32_t>(p.number));
    case ValueRepr::kInt64: return std::optional<StateValue>(p.number);
    case ValueRepr::kFloat:
    case ValueRepr::kDouble: {
      double d;
      std::memcpy(&d, &p.number, sizeof d);
      if (repr == ValueRepr::kFloat) return std::optional<StateValue>(static_cast<float>(d));
      return std::optional<StateValue>(d);
    }
    case ValueRepr::kBool: return std::optional<StateValue>(p.number != 0);
    case ValueRepr::kBytes: return std::optional<StateValue>(p.text);
  }
  return Status::Internal("unknown value representation");
}

void PartialCombiner::Stage(std::string_view address_key, const std::vector<CombineRule>* rules,
                            const Record& payload, const RecordOrder& at) {
  if (staged_ == staging_.size()) staging_.emplace_back();
  Staged& s = staging_[staged_++];
  s.address_key.assign(address_key);
  s.rules = rules;
  s.operands.resize(rules->size());
  for (size_t i = 0; i < rules->size(); ++i) {
    const CombineRule& rule = (*rules)[i];
    if (rule.op == CombineOp::kCount) {
      s.operands[i] = Value::Null();
    } else {
      s.operands[i] = payload.value(rule.field);
    }
  }
  s.at = at;
}

void PartialCombiner::Commit() {
  for (size_t i = 0; i < staged_; ++i) {
    Staged& s = staging_[i];
    auto [it, inserted] = partials_.try_emplace(s.address_key);
    std::vector<StatePartial>& partials = it->second;
    if (inserted) memory_bytes_ += kNodeBytes;
    for (size_t k = 0; k < s.rules->size(); ++k) {
      const CombineRule& rule = (*s.rules)[k];
      StatePartial* p = nullptr;
      for (StatePartial& q : partials) {
        if (q.slot == rule.slot) p = &q;
      }
      if (!p) {
        const size_t before = partials.capacity();
        partials.emplace_back();
        memory_bytes_ += (partials.capacity() - before) * sizeof(StatePartial);
        p = &partials.back();
        p->slot = rule.slot;
        p->op = rule.op;
      }
      const size_t text_before = p->text.capacity() > 15 ? p->text.capacity() : 0;
      p->Add(s.operands[k], s.at);
      const size_t text_after = p->text.capacity() > 15 ? p->text.capacity() : 0;
      memory_bytes_ += text_after - text_before;
    }
  }
  staged_ = 0;
}

uint64_t PartialCombiner::NodeBytes(const std::vector<StatePartial>& partials) {
  uint64_t bytes = kNodeBytes + partials.capacity() * sizeof(StatePartial);
  for (const StatePartial& p : partials) bytes += p.text.capacity() > 15 ? p.text.capacity() : 0;
  return bytes;
}

void PartialCombiner::EntryOf(const std::string& address_key, const std::vector<StatePartial>& partials,
                              uint64_t flush_id, uint32_t writer, std::string* key, std::string* value) {
  key->clear();
  key->append(address_key);
  ByteWriter w(key);
  w.U16(kPartialSource);
  w.U64(flush_id);
  w.U32(writer);
  value->clear();
  EncodePartials(partials, value);
}

Status PartialAccumulator::Add(std::string_view value) {
  SFB_RETURN_IF_ERROR(DecodePartials(value, &scratch_));
  for (StatePartial& p : scratch_) {
    auto it = std::lower_bound(by_slot_.begin(), by_slot_.end(), p.slot,
                               [](const StatePartial& a, uint16_t slot) { return a.slot < slot; });
    if (it != by_slot_.end() && it->slot == p.slot) {
      if (it->op != p.op) return Status::Corruption("two partials of one state with different ops");
      it->Merge(p);
    } else {
      by_slot_.insert(it, std::move(p));
    }
  }
  return Status::OK();
}

}  // namespace sfb
