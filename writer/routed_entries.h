// RoutedEntries: where routed entries wait between the readers and the builders, in memory while the
// run's memory budget holds them and in the spill store (writer/shard_store.h) beyond it.
//
// Reading: every reader thread has a Writer, an EntryBuffer that keeps the thread's entries by key
// group. After each record the thread calls Fit(), which charges what the buffer grew by to the
// MemoryBudget, in steps. When the budget refuses, the thread spills: its buffer is sorted key group by
// key group into one table file of the store, and its memory and reservation are given back. A run
// whose entries fit the budget never touches the disk.
//
// Building: NewCursor(first, last) gives one subtask's key groups in bytewise key order, each key once:
// per key group, the entries of every thread's buffer are gathered and sorted (the same order the
// store's bytewise keys give), and merged with what the store holds of that range. The bytes a builder
// sees are therefore the same whether or not anything spilled, however often, and whatever the thread
// count: keys are unique within a run (a source's positions are), so only their order matters. Of a
// key both in memory and in the store (a split a resumed run reads again), the entry in memory wins.
// Each key group can be read once: its memory is freed as it is read.
//
// Writers are used by one thread each; cursors over disjoint ranges may be used at once, once every
// writer is done.

#ifndef SFB_WRITER_ROUTED_ENTRIES_H_
#define SFB_WRITER_ROUTED_ENTRIES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "writer/entry_buffer.h"
#include "writer/entry_cursor.h"
#include "writer/memory_budget.h"
#include "writer/shard_store.h"

namespace sfb {

class RoutedEntries {
 public:
  // `key_groups`: the max parallelism; `writers`: reader threads (at most EntryBuffer::kMaxBuffers).
  RoutedEntries(ShardStore* store, int key_groups, int writers, uint64_t memory_budget_bytes);
  ~RoutedEntries();
  RoutedEntries(const RoutedEntries&) = delete;
  RoutedEntries& operator=(const RoutedEntries&) = delete;

  class Writer {
   public:
    void BeginRecord() { buffer_->BeginRecord(); }
    // `key` in the store's encoding, starting with key_group.
    void Put(int key_group, std::string_view key, std::string_view value) { buffer_->Put(key_group, key, value); }
    void AbandonRecord() { buffer_->AbandonRecord(); }
    // Between records: keeps the buffer within the budget, spilling it when the budget refuses more.
    // *spilled says whether it did (then every entry added so far is in the store).
    Status Fit(bool* spilled);
    // Reserves what the buffer and HeldElsewhere() grew by; false when the budget refuses (nothing
    // spilled: the caller chooses what to spill, then calls Spill()).
    bool Reserve();
    // Writes what the buffer holds to the store and empties it. The reservation is given back but for
    // HeldElsewhere(), which the thread still holds.
    Status Spill();
    bool empty() const { return buffer_->empty(); }
    uint64_t buffer_bytes() const { return buffer_->memory_bytes(); }
    uint64_t reserve_step() const { return owner_->reserve_step_; }
    // Memory the thread holds for the run outside the buffer (its partials, writer/partial_combiner.h),
    // charged to the budget with the buffer.
    void SetHeldElsewhere(uint64_t bytes) { elsewhere_ = bytes; }
    uint64_t HeldElsewhere() const { return elsewhere_; }

   private:
    friend class RoutedEntries;
    Writer(RoutedEntries* owner, EntryBuffer* buffer) : owner_(owner), buffer_(buffer) {}
    RoutedEntries* owner_;
    EntryBuffer* buffer_;
    uint64_t reserved_ = 0;  // of owner_->budget_
    uint64_t elsewhere_ = 0;
  };
  Writer* writer(int i) { return writers_[static_cast<size_t>(i)].get(); }

  // After every writer is done: the entries of key groups [first_key_group, last_key_group].
  std::unique_ptr<EntryCursor> NewCursor(int first_key_group, int last_key_group);

  const MemoryBudget& budget() const { return budget_; }
  uint64_t spills() const { return spills_.load(); }
  uint64_t spilled_entries() const { return spilled_entries_.load(); }

 private:
  ShardStore* store_;
  MemoryBudget budget_;
  uint64_t reserve_step_;
  std::vector<std::unique_ptr<EntryBuffer>> owned_;
  std::vector<EntryBuffer*> buffers_;  // by buffer index, for locators
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<uint64_t> spills_{0};
  std::atomic<uint64_t> spilled_entries_{0};
};

}  // namespace sfb

#endif  // SFB_WRITER_ROUTED_ENTRIES_H_
