// RunPipeline: one run, stage after stage (pipeline/README.md): read and route -> accumulate -> build
// -> commit.
//
// Takes a RunPlan that SavepointCreator (api/savepoint_creator.h) has already checked: the layout,
// states and functions, on_existing choices, the base savepoint if any, and the sources with their
// routers. Sets up what the stages share, in order: the staging directory next to the output (or an
// interrupted run's, WriteOptions::resume, whose journal must match the job's fingerprint and whose
// sources are prepared to go on where their journaled splits ended), the journal, the spill directory
// (removed at the end, also on failure and on exit, unless a resumed run fails), the dead-letter file,
// and the schema registry; then runs the stages and fills `summary` as each ends.
// Guarantees: the output path changes only at the commit's final rename; the bytes depend only on the
// inputs, the layout and the base, never on --threads, the memory budget or how often anything
// spilled; the first error of any stage ends the run and is returned with its context; the user's
// interrupt (`cancel`) returns Cancelled with nothing written at the output path.

#ifndef SFB_PIPELINE_RUN_H_
#define SFB_PIPELINE_RUN_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "pipeline/read_and_route.h"
#include "pipeline/run_options.h"
#include "pipeline/run_report.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"
#include "writer/partial_combiner.h"
#include "writer/subtask_builder.h"

namespace sfb {

struct RunPlan {
  int max_parallelism = 0;
  int parallelism = 1;
  int threads = 1;             // reader and builder threads, within EntryBuffer::kMaxBuffers
  uint64_t memory_budget = 0;  // 0: DefaultMemoryBudget()
  int64_t ttl_timestamp = -1;  // -1: the time the run starts
  std::vector<SourceInput> inputs;
  std::vector<StateDescriptor> states;       // by savepoint state id
  std::vector<FunctionBinding> bindings;     // by function index
  std::unordered_map<std::string, uint16_t> function_index;
  OnExistingChoices choices;
  const BaseSavepoint* base = nullptr;       // WriteOptions::base, opened and checked
  std::set<std::string> base_state_names;    // the base's keyed states (Flink names)
  bool merges_with_base = false;             // some state's on_existing is merge and the base has it
  const CombinableRoutes* combinable = nullptr;  // null: every forward is replayed
  const std::atomic<bool>* cancel = nullptr;
  uintptr_t run_tag = 0;  // tells this run's spill directory under WriteOptions::tmp_dir from others'
  std::chrono::steady_clock::time_point start;  // when Write() was called: the summary's times count from it
  // Prepares every source for a fresh run (SavepointCreator::PrepareSources); a resumed run instead
  // prepares them to resume, then calls sources_prepared().
  std::function<Status()> prepare_sources;
  std::function<void()> sources_prepared;
};

Status RunPipeline(const RunPlan& plan, const std::string& path, const WriteOptions& options, RunCounters* counters,
                   WriteSummary* summary);

}  // namespace sfb

#endif  // SFB_PIPELINE_RUN_H_
