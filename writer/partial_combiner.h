// PartialCombiner and PartialAccumulator: combining associative merge rules early, so an address's
// many records cost one partial value per state instead of one routed entry per record.
//
// Which forwards may be combined is decided before the run (router/combinable_rules.h): a forward whose
// payload schema is in CombinableRoutes carries operands only for states whose every rule, in every
// route, is one of the ops below, with no delete_when anywhere near them. Such a state is touched by no
// replayed record, so its final value depends only on its partials, and the two paths never meet.
//
// Semantics (the same as RuleFunction's per-record replay, router/rules.h; a NULL operand is skipped,
// count counts every record):
//   kLast   the operand of the greatest (source, position, seq): last by record order ("set" too)
//   kFirst  the operand of the least (source, position, seq)
//   kCount  the number of records; int and long states only (the replay's float count stops at 2^24)
//   kSum    the exact sum; int and long states only (float sums depend on the order of additions)
//   kMin    the least operand; int, long and text states (float min/max depend on order with NaN/-0)
//   kMax    the greatest operand; as kMin
// Every partial combines with any other in any order (positions travel with last/first), so partials of
// different threads, splits, flushes and spills give the result of the replay.
//
// Overflow: the replay fails as soon as a running sum (or count) leaves the state's range. A sum
// partial keeps the sums of its positive and negative operands (each in int64, marked when it goes
// past). If all operands
// have one sign, the running sum is monotonic and overflows exactly when the total does; if both sums
// stay in range no running sum can leave it. Only when operands of both signs add up past the range
// does the answer depend on the order of records that different threads saw: the run then fails
// naming the address and saying so, rather than guessing (a long state makes this unreachable in
// practice).
//
// Reader side: one PartialCombiner per reader thread. A record's forwards are staged (Stage) and folded
// in when the record is accepted (Commit), or dropped (Abandon), so a record a router rejects halfway
// leaves nothing. Flush moves every partial into routed entries, one entry per address:
//
//   key   = EncodeStoreKey(key group, function, id, kPartialSource, position = flush id, seq = writer)
//   value = varint n | n x (u16 slot | u8 op | u8 has | body)
//     body of kLast/kFirst: u16 source | u64 position | u32 seq | value
//     body of kCount:       u64 count
//     body of kSum:         i64 positive | i64 negative | u8 flags (1: positive, 2: negative past int64)
//     body of kMin/kMax:    value
//     value = u8 kind (Value::Kind) | int: i64 | double: f64 bits | bool: u8 | text/bytes: varint len + bytes
//   integers big-endian.
// kPartialSource (0xFFFF) is no source index (a run has at most 65535 sources, 0..65534), so partials
// sort after the replayed records of their address. Flush ids are unique within a run (with the
// writer) and carry a random 32-bit run nonce above their low kPartialFlushBits: the builder takes only
// the partials of its own run. An interrupted run's spilled partials are ignored by the run that
// resumes it, which reads every split that combined anything again: such splits are never journaled
// (a partial mixes the splits a thread read, so no journal line could vouch for it).
//
// Builder side: PartialAccumulator folds the partial entries of one address and writes the resolved
// values into the function's slots.
//
// Not thread-safe: one PartialCombiner per thread, one PartialAccumulator per builder.

#ifndef SFB_WRITER_PARTIAL_COMBINER_H_
#define SFB_WRITER_PARTIAL_COMBINER_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/record.h"
#include "common/status.h"
#include "savepoint/typed_value.h"

namespace sfb {

enum class CombineOp : uint8_t { kLast = 0, kFirst, kCount, kSum, kMin, kMax };

// One combinable rule of a route: operand `field` of the payload feeds state `slot` of the function.
struct CombineRule {
  uint16_t slot = 0;
  CombineOp op = CombineOp::kLast;
  ValueRepr repr = ValueRepr::kBytes;
  size_t field = 0;
  std::string state_name;  // for messages
};

// The payload schemas (by identity) of the routes whose forwards are combined, with their rules.
struct CombinableRoutes {
  std::unordered_map<const Schema*, std::vector<CombineRule>> by_payload_schema;
  const std::vector<CombineRule>* Find(const Schema* schema) const {
    auto it = by_payload_schema.find(schema);
    return it == by_payload_schema.end() ? nullptr : &it->second;
  }
};

inline constexpr uint16_t kPartialSource = 0xFFFF;
// A flush id is (run nonce << kPartialFlushBits) | the thread's flush count.
inline constexpr int kPartialFlushBits = 24;

// Where a record is in the defined order (sources in spec order, then position, then forward).
struct RecordOrder {
  uint16_t source = 0;
  uint64_t position = 0;
  uint32_t seq = 0;
  bool operator<(const RecordOrder& o) const {
    if (source != o.source) return source < o.source;
    if (position != o.position) return position < o.position;
    return seq < o.seq;
  }
};

// The partial value of one state of one address. Compact (72 bytes), since a reader thread holds one
// per state of every address it has seen: which fields mean what depends on `op`.
struct StatePartial {
  int64_t number = 0;    // kCount: the count; kSum: the positive operands' sum; other ops: an int value,
                         // a double's bits or a bool
  int64_t negative = 0;  // kSum: the negative operands' sum
  uint64_t position = 0;  // kLast/kFirst: the operand's record (with seq and source)
  uint32_t seq = 0;
  uint16_t source = 0;
  uint16_t slot = 0;
  CombineOp op = CombineOp::kLast;
  bool has = false;  // an operand (or, for count, a record) was seen
  Value::Kind kind = Value::Kind::kNull;  // of the value held (kLast/kFirst/kMin/kMax)
  // kSum: a sum went past int64 (saturated): the state cannot hold it, whichever the order.
  bool positive_past_range = false, negative_past_range = false;
  std::string text;  // a text or bytes value

  RecordOrder order() const { return RecordOrder{source, position, seq}; }
  // Folds one record's operand in.
  void Add(const Value& operand, const RecordOrder& at);
  // Folds another partial of the same state in (any order).
  void Merge(const StatePartial& other);
};

void EncodePartials(const std::vector<StatePartial>& partials, std::string* out);
Status DecodePartials(std::string_view in, std::vector<StatePartial>* out);

// The resolved value of `p` for a state of `repr`, or nullopt when unset. Fails when the state's
// integer type cannot hold a sum or count (see Overflow above); `state` and `address` name it.
Result<std::optional<StateValue>> ResolvePartial(const StatePartial& p, ValueRepr repr, const std::string& state,
                                                 const std::string& address);

class PartialCombiner {
 public:
  // Forwards of the record being routed; `address_key` is key group (u16) | function (u16) | id bytes.
  void Stage(std::string_view address_key, const std::vector<CombineRule>* rules, const Record& payload,
             const RecordOrder& at);
  void Commit();
  void Abandon() { staged_ = 0; }

  bool empty() const { return partials_.empty(); }
  size_t addresses() const { return partials_.size(); }
  // An estimate of the memory the partials hold (what the run's MemoryBudget is charged).
  uint64_t memory_bytes() const { return memory_bytes_; }

  // Calls put(key_group, key, value) for each address's entry and empties the combiner, freeing as it
  // goes (memory_bytes() shrinks with it). `flush_id` and `writer` make the keys unique (the format above).
  template <typename Put>
  void Flush(uint64_t flush_id, uint32_t writer, Put&& put);

 private:
  struct Staged {
    std::string address_key;
    const std::vector<CombineRule>* rules = nullptr;
    std::vector<Value> operands;
    RecordOrder at;
  };
  // What a map node costs besides its partials: the node (key string, vector, hash, link), the
  // allocator's headers and a key too long for the string's own buffer.
  static constexpr uint64_t kNodeBytes = 112;
  static uint64_t NodeBytes(const std::vector<StatePartial>& partials);
  static void EntryOf(const std::string& address_key, const std::vector<StatePartial>& partials, uint64_t flush_id,
                      uint32_t writer, std::string* key, std::string* value);

  std::unordered_map<std::string, std::vector<StatePartial>> partials_;
  std::vector<Staged> staging_;
  size_t staged_ = 0;
  uint64_t memory_bytes_ = 0;
  std::string key_, value_;
};

template <typename Put>
void PartialCombiner::Flush(uint64_t flush_id, uint32_t writer, Put&& put) {
  for (auto it = partials_.begin(); it != partials_.end();) {
    EntryOf(it->first, it->second, flush_id, writer, &key_, &value_);
    const int key_group = (static_cast<uint8_t>(it->first[0]) << 8) | static_cast<uint8_t>(it->first[1]);
    memory_bytes_ -= std::min(memory_bytes_, NodeBytes(it->second));
    it = partials_.erase(it);
    put(key_group, std::string_view(key_), std::string_view(value_));
  }
  partials_ = {};
  memory_bytes_ = 0;
}

// The partials of one address, as the builder meets them.
class PartialAccumulator {
 public:
  void Clear() { by_slot_.clear(); }
  bool empty() const { return by_slot_.empty(); }
  Status Add(std::string_view value);
  // Resolves every state into `slots[slot]` (unset states stay as they are).
  template <typename Slots>
  Status ResolveInto(Slots* slots, const std::string& address) const;

 private:
  std::vector<StatePartial> by_slot_;  // sorted by slot
  std::vector<StatePartial> scratch_;
};

template <typename Slots>
Status PartialAccumulator::ResolveInto(Slots* slots, const std::string& address) const {
  for (const StatePartial& p : by_slot_) {
    if (p.slot >= slots->size()) return Status::Corruption("a partial names a state the function does not have");
    auto& slot = (*slots)[p.slot];
    SFB_ASSIGN_OR_RETURN(std::optional<StateValue> v, ResolvePartial(p, slot.spec.type.repr, slot.spec.name, address));
    if (v) slot.value = std::move(*v);
  }
  return Status::OK();
}

}  // namespace sfb

#endif  // SFB_WRITER_PARTIAL_COMBINER_H_
