// ReadAndRoute: stage 1 of a run (pipeline/README.md). Reads every split of every source on the reader
// threads, routes each record, and adds what the routers forward to the routed entries.
//
// Takes: the sources with their routers (SourceInput, in registration order: the index is the source
// number that orders an address's records), the splits still to read, and the routed entries to fill
// (writer/routed_entries.h: one writer per reader thread, within the memory budget, spilling beyond it).
// Gives: every forwarded (address, payload) in the routed entries, keyed by (key group, function, id,
// source, position, forward number), so the order an address sees its records is the sources' own and
// never the threads'; the bytes built from them are the same whatever --threads is. Routes the job
// declared combinable (writer/partial_combiner.h) are folded into one partial per (address, state) on
// each reader thread and flushed as entries when reading ends or the budget asks.
// Guarantees:
//   - a record's forwards are added all or nothing: one the router rejects halfway leaves no trace but
//     its dead letter (with a dead-letter file; without one the record's error ends the run);
//   - with a journal (every source resumable), a split is journaled done only once all its entries are
//     in the spill store, with the dead-letter size up to its lines (writer/run_journal.h);
//   - every dead letter read is written to the file before ReadAndRoute returns, whatever stopped it
//     (the dead letters may be why);
//   - the first error of any reader stops the others and is returned; the user's interrupt (`cancel`)
//     stops readers and sources waiting on a server within ~20 ms and returns Cancelled.

#ifndef SFB_PIPELINE_READ_AND_ROUTE_H_
#define SFB_PIPELINE_READ_AND_ROUTE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "pipeline/dead_letter.h"
#include "pipeline/router.h"
#include "pipeline/run_report.h"
#include "pipeline/source.h"
#include "writer/partial_combiner.h"
#include "writer/routed_entries.h"
#include "writer/run_journal.h"
#include "writer/shard_store.h"

namespace sfb {

// One registered source and the router of its records (owned by the caller).
struct SourceInput {
  std::string name;
  Source* source = nullptr;
  const Router* router = nullptr;
};

// One split to read: split `split` of source `input`.
struct SplitTask {
  uint16_t input = 0;
  size_t split = 0;
};

struct ReadAndRouteJob {
  const std::vector<SourceInput>* inputs = nullptr;
  std::vector<SplitTask> tasks;
  RoutedEntries* entries = nullptr;  // one writer per thread: at least `threads` of them
  SchemaRegistry* schemas = nullptr;
  const std::unordered_map<std::string, uint16_t>* function_index = nullptr;  // function type -> index
  int max_parallelism = 0;
  int threads = 1;
  RunCounters* counters = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  DeadLetterFile* dead_letter = nullptr;  // null: the first bad record fails the run
  RunJournal* journal = nullptr;          // null: the run cannot be resumed, so no split is journaled
  const CombinableRoutes* combinable = nullptr;  // null: every forward is replayed
  uint64_t flush_nonce = 0;  // this run's first partial flush id (writer/partial_combiner.h)
};

// Returns the first reader's error, Cancelled when interrupted, else OK. The dead-letter file is left
// open (the caller closes it and reports a failure to close after the read error).
Status ReadAndRoute(const ReadAndRouteJob& job);

}  // namespace sfb

#endif  // SFB_PIPELINE_READ_AND_ROUTE_H_
