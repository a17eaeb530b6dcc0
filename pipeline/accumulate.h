// Accumulator: stage 2 of a run (pipeline/README.md). Holds the routed entries between read-and-route
// and build: in memory while they fit the budget, spilled beyond it.
//
// Takes: the spill directory, the layout (max parallelism = key groups) and the number of reader
// threads, and the memory budget (0: DefaultMemoryBudget() of the memory available to the process).
// Gives: RoutedEntries (writer/routed_entries.h), one writer per reader thread, each keeping its
// entries by key group in memory (writer/entry_buffer.h) until the budget (writer/memory_budget.h)
// refuses, then writing them as a sorted run to the ShardStore (writer/shard_store.h, RocksDB in the
// spill directory). The builder walks memory and store merged in key order, so the bytes built are the
// same whether or not, and however often, anything spilled.
// Errors: a full disk (or quota, or file-size limit) under the spill store is reported with how much the
// store held for how many records (WithSpillUse), so the user can size the space a whole run needs.
// The entries go before the store when the Accumulator is destroyed; the spill directory itself is the
// run's to remove.

#ifndef SFB_PIPELINE_ACCUMULATE_H_
#define SFB_PIPELINE_ACCUMULATE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "writer/routed_entries.h"
#include "writer/shard_store.h"

namespace sfb {

class Accumulator {
 public:
  struct Options {
    std::string store_dir;
    bool reopen = false;  // the store an interrupted run left (run --resume)
    int max_parallelism = 0;
    int threads = 1;
    uint64_t memory_budget = 0;  // 0: the default
  };
  static Result<std::unique_ptr<Accumulator>> Open(const Options& options);

  RoutedEntries* entries() { return entries_.get(); }
  const ShardStore& store() const { return *store_; }
  uint64_t memory_budget() const { return memory_budget_; }

  // After reading: finishes loading the spilled runs, so the builder can read them.
  Status FinishLoad(uint64_t records_forwarded);
  // `s`, with the spill store's use added when it says the disk is full.
  Status WithSpillUse(Status s, uint64_t records_forwarded) const;

 private:
  Accumulator() = default;

  std::unique_ptr<ShardStore> store_;
  uint64_t memory_budget_ = 0;
  std::unique_ptr<RoutedEntries> entries_;  // after store_: destroyed first
};

}  // namespace sfb

#endif  // SFB_PIPELINE_ACCUMULATE_H_
