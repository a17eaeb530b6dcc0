#include "writer/partial_combiner.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>

#include "common/byte_writer.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"
#include "writer/shard_store.h"

namespace sfb {
namespace {

bool IsTextKind(Value::Kind kind) { return kind == Value::Kind::kText || kind == Value::Kind::kBytes; }

// An operand as a partial holds it: its kind, its number (an int, a double's bits or a bool as 0/1)
// or its bytes (text and bytes).
struct OperandView {
  Value::Kind kind = Value::Kind::kNull;
  int64_t number = 0;
  std::string_view text;
};

OperandView ViewOf(const Value& v) {
  OperandView o;
  o.kind = v.kind();
  switch (v.kind()) {
    case Value::Kind::kBool: o.number = v.as_bool() ? 1 : 0; break;
    case Value::Kind::kInt: o.number = v.as_int(); break;
    case Value::Kind::kDouble: {
      const double d = v.as_double();
      std::memcpy(&o.number, &d, sizeof d);
      break;
    }
    case Value::Kind::kText:
    case Value::Kind::kBytes: o.text = v.as_string(); break;
    case Value::Kind::kNull: break;
  }
  return o;
}

// Holds operand `v` in `p`.
void Hold(StatePartial* p, const OperandView& v) {
  p->kind = v.kind;
  if (IsTextKind(v.kind)) {
    p->text.assign(v.text);
  } else if (v.kind != Value::Kind::kNull) {
    p->number = v.number;
  }
}

// `a` < `b` as the replay compares min/max operands: integers as numbers, text bytewise.
bool Less(const StatePartial& a, const StatePartial& b) {
  if (IsTextKind(a.kind)) return a.text < b.text;
  return a.number < b.number;
}
bool LessThanOperand(const OperandView& v, const StatePartial& p) {
  if (IsTextKind(v.kind)) return v.text < std::string_view(p.text);
  return v.number < p.number;
}
bool GreaterThanOperand(const OperandView& v, const StatePartial& p) {
  if (IsTextKind(v.kind)) return v.text > std::string_view(p.text);
  return v.number > p.number;
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

namespace {

// Folds one record's operand into `p` (StatePartial::Add, for an operand as Stage holds it too).
void AddOperand(StatePartial* p, const OperandView& operand, const RecordOrder& at) {
  if (p->op == CombineOp::kCount) {
    p->has = true;
    ++p->number;
    return;
  }
  if (operand.kind == Value::Kind::kNull) return;  // a NULL operand leaves the state as it is
  switch (p->op) {
    case CombineOp::kLast:
      if (!p->has || !(at < p->order())) {
        Hold(p, operand);
        p->source = at.source, p->position = at.position, p->seq = at.seq;
      }
      break;
    case CombineOp::kFirst:
      if (!p->has || at < p->order()) {
        Hold(p, operand);
        p->source = at.source, p->position = at.position, p->seq = at.seq;
      }
      break;
    case CombineOp::kSum: {
      const int64_t v = operand.number;
      if (v >= 0) {
        AddSaturating(v, &p->number, &p->positive_past_range);
      } else {
        AddSaturating(v, &p->negative, &p->negative_past_range);
      }
      break;
    }
    case CombineOp::kMin:
      if (!p->has || LessThanOperand(operand, *p)) Hold(p, operand);
      break;
    case CombineOp::kMax:
      if (!p->has || GreaterThanOperand(operand, *p)) Hold(p, operand);
      break;
    case CombineOp::kCount: break;
  }
  p->has = true;
}

}  // namespace

void StatePartial::Add(const Value& operand, const RecordOrder& at) { AddOperand(this, ViewOf(operand), at); }

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

void EncodePartials(const StatePartial* partials, size_t n, std::string* out) {
  ByteWriter w(out);
  AppendVarint(out, n);
  for (const StatePartial& p : std::span<const StatePartial>(partials, n)) {
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

uint32_t PartialCombiner::Hash(uint16_t function, std::string_view id) {
  // Eight bytes at a time, each word mixed in with a multiply and a shift (ids are short: one or two
  // words), then a final avalanche so that the low bits that pick the bucket depend on every byte.
  uint64_t h = (static_cast<uint64_t>(function) << 32 | id.size()) * 0x9E3779B97F4A7C15ull;
  size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, id.data() + i, sizeof w);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  uint64_t w = 0;
  std::memcpy(&w, id.data() + i, id.size() - i);
  h = (h ^ w) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  const uint32_t out = static_cast<uint32_t>(h);
  return out == 0 ? 1 : out;
}

size_t PartialCombiner::FindOrInsert(uint16_t function, std::string_view id, uint32_t hash) {
  if ((live_ + 1) * 2 > table_.size()) Grow();
  const size_t mask = table_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Bucket& b = table_[i];
    if (!b.used()) {
      b.hash = hash;
      b.function = function;
      if (id.size() <= kInlineId) {
        b.id_size = static_cast<uint16_t>(id.size());
        std::memcpy(b.id, id.data(), id.size());
      } else {
        // A long id lives in id_chunks_: its chunk, offset and size in the bucket's id bytes.
        if (id_chunks_.empty() || id_chunks_.back().capacity() - id_chunks_.back().size() < id.size()) {
          id_chunks_.emplace_back();
          id_chunks_.back().reserve(std::max(kIdChunkBytes, id.size()));
          memory_bytes_ += id_chunks_.back().capacity();
        }
        std::string& ids = id_chunks_.back();
        const uint32_t where[3] = {static_cast<uint32_t>(id_chunks_.size() - 1), static_cast<uint32_t>(ids.size()),
                                   static_cast<uint32_t>(id.size())};
        ids.append(id);
        b.id_size = kInlineId + 1;
        std::memcpy(b.id, where, sizeof where);
      }
      ++live_;
      return i;
    }
    if (b.hash == hash && b.function == function && IdOf(b) == id) return i;
  }
}

PartialCombiner::Table::Table(size_t buckets) : memory_(buckets * sizeof(Bucket)), size_(buckets) {
  buckets_ = std::launder(reinterpret_cast<Bucket*>(memory_.data()));
  std::uninitialized_default_construct_n(buckets_, buckets);  // empty buckets (hash 0)
}

void PartialCombiner::Grow() {
  Table old = std::move(table_);
  table_ = Table(std::max<size_t>(1024, old.size() * 2));
  memory_bytes_ += TableBytes() - std::min<uint64_t>(memory_bytes_, old.size() * sizeof(Bucket));
  const size_t mask = table_.size() - 1;
  std::vector<size_t> moved_to(found_ > 0 ? old.size() : 0);
  for (size_t i = 0; i < old.size(); ++i) {
    if (!old[i].used()) continue;
    size_t j = old[i].hash & mask;
    while (table_[j].used()) j = (j + 1) & mask;
    table_[j] = old[i];
    if (found_ > 0) moved_to[i] = j;
  }
  // The forwards of the batch already looked up follow their addresses.
  for (size_t k = 0; k < found_; ++k) staging_[k].bucket = moved_to[staging_[k].bucket];
}

void PartialCombiner::Stage(uint16_t function, std::string_view id, const std::vector<CombineRule>* rules,
                            const Record& payload, const RecordOrder& at) {
  const uint32_t hash = Hash(function, id);
  // Looked up when the batch is folded: by then this line is on its way from memory (a table that
  // grows before that only makes the hint miss).
  if (table_.size() > 0) __builtin_prefetch(&table_[hash & (table_.size() - 1)]);
  max_rules_ = std::max(max_rules_, rules->size());
  if (staged_ == staging_.size()) staging_.emplace_back();
  Staged& s = staging_[staged_++];
  s.hash = hash;
  s.function = function;
  s.id.assign(id);
  s.rules = rules;
  s.at = at;
  s.operands = staged_operands_;
  if (operands_.size() < staged_operands_ + rules->size()) operands_.resize(staged_operands_ + rules->size());
  for (const CombineRule& rule : *rules) {
    StagedOperand& o = operands_[staged_operands_++];
    if (rule.op == CombineOp::kCount) {
      o.kind = Value::Kind::kNull;
      continue;
    }
    const OperandView v = ViewOf(payload.value(rule.field));
    o.kind = v.kind;
    o.number = v.number;
    if (IsTextKind(v.kind)) o.text.assign(v.text);
  }
}

uint64_t PartialCombiner::growth_bytes() const {
  // Forwards that may be folded before the caller looks again: the kept ones and a batch more records
  // of one forward each (a record of several forwards adds them to one fold, where one doubling of the
  // table and one new chunk still cover them).
  const size_t pending = kept_ + kFoldBatch;
  uint64_t bytes = 0;
  if ((live_ + pending) * 2 > table_.size()) bytes += std::max<size_t>(1024, table_.size() * 2) * sizeof(Bucket);
  const size_t moves = pending * 2 * max_rules_;  // room to move each pending address's partials
  if (chunks_.empty() || chunks_.back().size - chunks_.back().used < moves) {
    bytes += std::max(kChunkPartials, moves) * sizeof(StatePartial);
  }
  // Once ids are long, the next may need a new chunk of them.
  if (!id_chunks_.empty() && id_chunks_.back().capacity() - id_chunks_.back().size() < 1024) bytes += kIdChunkBytes;
  return bytes;
}

StatePartial* PartialCombiner::PartialFor(size_t bucket, const CombineRule& rule, size_t index_hint, size_t rules) {
  Bucket& b = table_[bucket];
  StatePartial* first = b.capacity == 0 ? nullptr : PartialsOf(b);
  // The rules of a route come in the same order record after record: the k-th is nearly always the
  // address's k-th partial.
  if (index_hint < b.count && first[index_hint].slot == rule.slot) return &first[index_hint];
  for (size_t k = 0; k < b.count; ++k) {
    if (first[k].slot == rule.slot) return &first[k];
  }
  if (b.count == b.capacity) {
    // No room: the address's partials move to a new place, with room for this route's rules (the old
    // place stays unused until the flush frees the pool).
    const size_t capacity = std::min<size_t>(0xFFFF, b.count + std::max<size_t>(rules, 1));
    if (chunks_.empty() || chunks_.back().size - chunks_.back().used < capacity) {
      Chunk c;
      c.size = std::max(kChunkPartials, capacity);
      c.partials = std::make_unique<StatePartial[]>(c.size);
      memory_bytes_ += c.size * sizeof(StatePartial);
      chunks_.push_back(std::move(c));
    }
    Chunk& c = chunks_.back();
    StatePartial* to = c.partials.get() + c.used;
    for (size_t k = 0; k < b.count; ++k) to[k] = std::move(first[k]);
    if (b.count == 0) ++addresses_;
    b.chunk = static_cast<uint32_t>(chunks_.size() - 1);
    b.offset = static_cast<uint16_t>(c.used);
    b.capacity = static_cast<uint16_t>(capacity);
    c.used += capacity;
    first = to;
  }
  StatePartial* p = &first[b.count++];
  p->slot = rule.slot;
  p->op = rule.op;
  return p;
}

void PartialCombiner::Commit() {
  kept_ = staged_;
  kept_operands_ = staged_operands_;
  if (++kept_records_ >= kFoldBatch) Fold();
}

void PartialCombiner::Fold() {
  kept_records_ = 0;
  // First every lookup (each bucket was prefetched when staged), prefetching the partials found...
  for (found_ = 0; found_ < kept_; ++found_) {
    Staged& s = staging_[found_];
    s.bucket = FindOrInsert(s.function, s.id, s.hash);
    const Bucket& b = table_[s.bucket];
    if (b.capacity > 0) __builtin_prefetch(PartialsOf(b));
  }
  found_ = 0;
  // ...then the folds.
  for (size_t i = 0; i < kept_; ++i) {
    const Staged& s = staging_[i];
    const std::vector<CombineRule>& rules = *s.rules;
    for (size_t k = 0; k < rules.size(); ++k) {
      StatePartial* p = PartialFor(s.bucket, rules[k], k, rules.size());
      const StagedOperand& o = operands_[s.operands + k];
      const size_t text_before = p->text.capacity() > 15 ? p->text.capacity() : 0;
      AddOperand(p, OperandView{o.kind, o.number, o.text}, s.at);
      const size_t text_after = p->text.capacity() > 15 ? p->text.capacity() : 0;
      memory_bytes_ += text_after - text_before;
    }
  }
  // Only committed records are folded (Commit and Flush call this between records), so nothing staged
  // is left behind.
  staged_ = staged_operands_ = kept_ = kept_operands_ = 0;
}

void PartialCombiner::EntryOf(const Bucket& b, uint64_t flush_id, uint32_t writer, int max_parallelism,
                              int* key_group) {
  // The id was checked to be UTF-8 when it was staged, so PrepareJavaId cannot fail here.
  int32_t hash = 0;
  id_bytes_.clear();
  PrepareJavaId(IdOf(b), &id16_, &hash, &id_bytes_);
  *key_group = KeyGroupForHash(hash, max_parallelism);
  key_.clear();
  EncodeStoreKey(&key_, *key_group, b.function, id_bytes_, kPartialSource, flush_id, writer);
  value_.clear();
  EncodePartials(chunks_[b.chunk].partials.get() + b.offset, b.count, &value_);
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
