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
// Reader side: one PartialCombiner per reader thread. A record's forwards are staged (Stage) and kept
// when the record is accepted (Commit), or dropped (Abandon), so a record a router rejects halfway
// leaves nothing. Kept forwards are folded in batches of kFoldBatch records: Stage prefetches the
// bucket its address hashes to, and the batch looks all of them up (prefetching their partials) before
// it folds any, so the table's cache misses overlap instead of stalling one record after another (a
// lookup in a table of 1M addresses is a miss to memory). Until its batch is folded a kept record is
// counted by growth_bytes(), not memory_bytes(); Flush folds what is left first. An address is (function index, the id's UTF-8 bytes), looked up in an open-addressing
// table whose buckets hold short ids inline; its partials are contiguous in chunks of a pool, so an
// address costs no allocation of its own. The memory grows in steps (a doubled table, a chunk of
// partials or of long ids); growth_bytes() says how big the next one may be, so that the caller can
// hold it back from its budget and flush before the step rather than pass the budget by it. The id's
// String.hashCode, key group and StringValue form (what the key needs) are computed once per address,
// when it is flushed. Flush moves every partial into routed entries, one entry per address:
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
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/huge_page_block.h"
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

// The partial value of one state of one address. Compact (80 bytes), since a reader thread holds one
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

void EncodePartials(const StatePartial* partials, size_t n, std::string* out);
inline void EncodePartials(const std::vector<StatePartial>& partials, std::string* out) {
  EncodePartials(partials.data(), partials.size(), out);
}
Status DecodePartials(std::string_view in, std::vector<StatePartial>* out);

// The resolved value of `p` for a state of `repr`, or nullopt when unset. Fails when the state's
// integer type cannot hold a sum or count (see Overflow above); `state` and `address` name it.
Result<std::optional<StateValue>> ResolvePartial(const StatePartial& p, ValueRepr repr, const std::string& state,
                                                 const std::string& address);

class PartialCombiner {
 public:
  // Forwards of the record being routed to function `function`, id `id` (its UTF-8 bytes, which the
  // caller has checked are well-formed). The address is looked up here, once per forward; the id's
  // String.hashCode, key group and StringValue form are computed only when the partials are flushed.
  void Stage(uint16_t function, std::string_view id, const std::vector<CombineRule>* rules, const Record& payload,
             const RecordOrder& at);
  void Commit();
  void Abandon() {
    staged_ = kept_;
    staged_operands_ = kept_operands_;
  }
  // Folds the kept records now rather than when their batch is full.
  void Fold();

  static constexpr size_t kFoldBatch = 16;

  bool empty() const { return addresses_ == 0 && kept_ == 0; }
  // Addresses with partials, of the records folded so far.
  size_t addresses() const { return addresses_; }
  // An estimate of the memory the partials hold (what the run's MemoryBudget is charged).
  uint64_t memory_bytes() const { return memory_bytes_; }
  // The most the records kept and the next batch may add to memory_bytes() at once: a doubled table
  // when their new addresses could fill it past half, a new chunk when the current one may be too full
  // for their routes' partials or a long id.
  uint64_t growth_bytes() const;

  // Calls put(key_group, key, value) for each address's entry and empties the combiner, freeing as it
  // goes (memory_bytes() shrinks with it). `flush_id` and `writer` make the keys unique (the format
  // above); `max_parallelism` gives the key groups.
  template <typename Put>
  void Flush(uint64_t flush_id, uint32_t writer, int max_parallelism, Put&& put);

 private:
  // One address: an open-addressing bucket (linear probing) holding the address inline, its id's bytes
  // too when they fit (kInlineId), and where its partials are. Two buckets per cache line.
  static constexpr size_t kInlineId = 15;
  struct Bucket {
    uint32_t hash = 0;      // of (function, id); 0 marks an empty bucket (a real hash of 0 becomes 1)
    uint32_t chunk = 0;     // the address's partials: chunks_[chunk] from `offset` on
    uint16_t function = 0;
    uint16_t count = 0;     // partials in use
    uint16_t capacity = 0;  // partials reserved
    uint16_t offset = 0;
    uint8_t id_size = 0;    // more than kInlineId: the id is in id_chunks_, where `id` says (IdOf)
    char id[kInlineId];
    bool used() const { return hash != 0; }
  };
  static_assert(sizeof(Bucket) == 32, "two buckets per cache line");
  // The buckets, in huge-page memory once they take 2 MB or more (common/huge_page_block.h): every
  // lookup is a random access into a table of tens of MB, which with 4 KB pages is a TLB miss and a
  // page-table walk each time (events job, 1M addresses: the lookup was 27 % of the run's samples).
  class Table {
   public:
    Table() = default;
    explicit Table(size_t buckets);
    Table(Table&& other) noexcept
        : memory_(std::move(other.memory_)), buckets_(std::exchange(other.buckets_, nullptr)),
          size_(std::exchange(other.size_, 0)) {}
    Table& operator=(Table&& other) noexcept {
      memory_ = std::move(other.memory_);
      buckets_ = std::exchange(other.buckets_, nullptr);
      size_ = std::exchange(other.size_, 0);
      return *this;
    }
    size_t size() const { return size_; }
    Bucket& operator[](size_t i) { return buckets_[i]; }
    const Bucket& operator[](size_t i) const { return buckets_[i]; }

   private:
    HugePageBlock memory_;
    Bucket* buckets_ = nullptr;
    size_t size_ = 0;
  };
  // Partials come in chunks of kChunkPartials (a route with more rules gets a chunk of its own size),
  // ids longer than kInlineId in chunks of kIdChunkBytes (a longer id: its own).
  static constexpr size_t kChunkPartials = 1024;
  static constexpr size_t kIdChunkBytes = 64 << 10;
  struct Chunk {
    std::unique_ptr<StatePartial[]> partials;
    size_t size = 0, used = 0;
  };
  // One record's operand of one rule, held until Commit: the value's kind and its number or bytes.
  struct StagedOperand {
    Value::Kind kind = Value::Kind::kNull;
    int64_t number = 0;
    std::string text;  // reused record after record, so a short text is copied without allocating
  };
  struct Staged {
    uint32_t hash = 0;
    uint16_t function = 0;
    std::string id;  // reused record after record, so a short id is copied without allocating
    size_t bucket = 0;  // once looked up
    const std::vector<CombineRule>* rules = nullptr;
    size_t operands = 0;  // the first of its operands in operands_
    RecordOrder at;
  };
  static uint32_t Hash(uint16_t function, std::string_view id);
  std::string_view IdOf(const Bucket& b) const {
    if (b.id_size <= kInlineId) return std::string_view(b.id, b.id_size);
    uint32_t where[3];  // chunk, offset, size
    std::memcpy(where, b.id, sizeof where);
    return std::string_view(id_chunks_[where[0]].data() + where[1], where[2]);
  }
  StatePartial* PartialsOf(const Bucket& b) { return chunks_[b.chunk].partials.get() + b.offset; }
  // The bucket of (function, id), claimed (with no partials yet) when the address is new.
  size_t FindOrInsert(uint16_t function, std::string_view id, uint32_t hash);
  // Doubles the table; the buckets of staged forwards follow their addresses.
  void Grow();
  // The partial of `rule` at the address of bucket `b`, made (moving the address's partials to a new
  // place in the pool when they have no room) when the address has none for its state yet.
  // `index_hint`: where the rule is in its route's rules, of which there are `rules`.
  StatePartial* PartialFor(size_t b, const CombineRule& rule, size_t index_hint, size_t rules);
  void AddStaged(StatePartial* p, const StagedOperand& operand, const RecordOrder& at);
  uint64_t TableBytes() const { return table_.size() * sizeof(Bucket); }
  void EntryOf(const Bucket& b, uint64_t flush_id, uint32_t writer, int max_parallelism, int* key_group);

  Table table_;  // size a power of two (or empty), at most half full
  size_t live_ = 0;       // buckets used
  size_t addresses_ = 0;  // buckets whose address has partials (one whose records were all abandoned has none)
  std::vector<Chunk> chunks_;            // the addresses' partials, each address's contiguous
  std::vector<std::string> id_chunks_;   // the ids longer than kInlineId
  size_t max_rules_ = 0;                 // the most rules a staged route had
  std::vector<Staged> staging_;
  std::vector<StagedOperand> operands_;
  size_t staged_ = 0, staged_operands_ = 0;  // staged forwards (kept ones first) and their operands
  size_t kept_ = 0, kept_operands_ = 0;      // of those, the forwards of committed records
  size_t kept_records_ = 0;                  // committed records not yet folded
  size_t found_ = 0;                         // while folding: the kept forwards looked up so far
  uint64_t memory_bytes_ = 0;
  std::u16string id16_;
  std::string key_, value_, id_bytes_;
};

template <typename Put>
void PartialCombiner::Flush(uint64_t flush_id, uint32_t writer, int max_parallelism, Put&& put) {
  Fold();
  // The addresses in the order of their partials in the pool, so that each chunk is freed as soon as
  // its addresses' entries are out (memory_bytes() shrinks as the caller's buffer grows).
  std::vector<uint32_t> order;
  order.reserve(addresses_);
  memory_bytes_ += order.capacity() * sizeof(uint32_t);
  for (size_t i = 0; i < table_.size(); ++i) {
    if (table_[i].used() && table_[i].count > 0) order.push_back(static_cast<uint32_t>(i));
  }
  std::sort(order.begin(), order.end(), [this](uint32_t x, uint32_t y) {
    const Bucket& a = table_[x];
    const Bucket& b = table_[y];
    return a.chunk != b.chunk ? a.chunk < b.chunk : a.offset < b.offset;
  });
  size_t next_to_free = 0;
  auto free_chunks_before = [&](size_t chunk) {
    for (; next_to_free < chunk; ++next_to_free) {
      Chunk& c = chunks_[next_to_free];
      memory_bytes_ -= std::min<uint64_t>(memory_bytes_, c.size * sizeof(StatePartial));
      c.partials.reset();
    }
  };
  for (const uint32_t i : order) {  // an address whose every record was abandoned has no entry
    const Bucket& b = table_[i];
    free_chunks_before(b.chunk);
    int key_group = 0;
    EntryOf(b, flush_id, writer, max_parallelism, &key_group);
    for (size_t k = 0; k < b.count; ++k) {
      std::string& text = chunks_[b.chunk].partials[b.offset + k].text;
      if (text.capacity() > 15) memory_bytes_ -= std::min<uint64_t>(memory_bytes_, text.capacity());
      std::string().swap(text);
    }
    put(key_group, std::string_view(key_), std::string_view(value_));
  }
  table_ = {};
  std::vector<Chunk>().swap(chunks_);
  id_chunks_ = {};
  live_ = 0;
  addresses_ = 0;
  staged_ = 0;
  staged_operands_ = 0;
  kept_ = 0;
  kept_operands_ = 0;
  max_rules_ = 0;
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
