// BuildSubtasks: stage 3 of a run (pipeline/README.md). Turns the accumulated routed entries into one
// keyed-state file per subtask, then, with a base savepoint, merges each with the base's file.
//
// Takes: the routed entries after reading (pipeline/accumulate.h), the declared states and the
// functions bound to them, the layout, and where to write (`dir`, the staging directory).
// Gives: keyed-state-functions-<i> in `dir` for every subtask i < parallelism, and per subtask its key
// groups' offsets, size, addresses and entries per state (writer/subtask_builder.h, which replays each
// address's records through its StateBootstrapFunction and writes the file); with `base`, the files
// hold the base's state too and `counts` says per state what was kept, replaced, merged and added
// (writer/base_carry_over.h).
// Guarantees: subtask files are built on `threads` workers, each file by one worker from its own key
// groups only, so the bytes are the same whatever the thread count; results are kept by subtask, not
// by the order they finish. The first failing subtask stops the others and is returned; `cancel`
// returns Cancelled. Either way the staging directory's files are the run's to throw away.

#ifndef SFB_PIPELINE_BUILD_H_
#define SFB_PIPELINE_BUILD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/read_and_route.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"
#include "writer/routed_entries.h"
#include "writer/shard_store.h"
#include "writer/subtask_builder.h"

namespace sfb {

struct BuildJob {
  RoutedEntries* entries = nullptr;
  const SchemaRegistry* schemas = nullptr;
  const std::vector<StateDescriptor>* states = nullptr;
  const std::vector<FunctionBinding>* functions = nullptr;
  const std::vector<SourceInput>* inputs = nullptr;  // names and positions for error messages
  int max_parallelism = 0;
  int parallelism = 1;
  int threads = 1;
  std::string dir;        // where the keyed-state files go
  std::string spill_dir;  // the builders' own spill files
  int64_t ttl_timestamp = 0;
  uint64_t partial_run = 0;  // this run's partial-flush nonce (writer/partial_combiner.h)
  const BaseSavepoint* base = nullptr;  // run --base: merged into each file after it is built
  bool merges_with_base = false;        // a state's on_existing is merge: its addresses start from the base
  const OnExistingChoices* choices = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  RunCounters* counters = nullptr;  // addresses_written, subtasks_done
};

struct BuildResult {
  std::vector<SubtaskBuildResult> subtasks;  // by subtask index
  std::vector<ExistingCounts> counts;        // by state id; all zero without a base
};

Result<BuildResult> BuildSubtasks(const BuildJob& job);

}  // namespace sfb

#endif  // SFB_PIPELINE_BUILD_H_
