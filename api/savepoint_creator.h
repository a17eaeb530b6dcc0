// SavepointCreator: the library's entry point, mirroring statefun's StatefulFunctionsSavepointCreator.
//
//   sfb::SavepointCreator creator(/*max_parallelism=*/128);
//   creator.WithStateBootstrapFunctionProvider("example/greeter", [] { return std::make_unique<Greeter>(); });
//   creator.WithBootstrapData("users", std::make_unique<UsersSource>(), std::make_shared<UsersRouter>());
//   sfb::Status s = creator.Write("out/greeter-savepoint");
//
// Write() checks the job and runs the pipeline (pipeline/README.md, one file pair per stage):
//   1. read and route (pipeline/read_and_route.h): every source split on a worker thread; each record
//      is routed (Router, on that thread) and every forwarded (address, payload) becomes an entry;
//   2. accumulate (pipeline/accumulate.h): entries wait by key group in that thread's memory, or,
//      beyond the memory budget, spilled to the ShardStore in sorted runs (writer/routed_entries.h);
//   3. build (pipeline/build.h): one worker per subtask shard replays its addresses through the
//      StateBootstrapFunctions and writes one keyed-state file;
//   4. commit (pipeline/commit.h): _metadata is written last, files are fsynced, and the directory is
//      renamed into place.
// A record a source cannot parse, or a router rejects as bad, fails the run unless WriteOptions names a
// dead-letter file; then it is written there and the run goes on, within the budget.
// The output depends only on the inputs, max parallelism and parallelism; never on thread count or timing.
//
// A provider is called once per shard worker (plus once to learn the declared states), so a function
// instance is never shared between threads.

#ifndef SFB_API_SAVEPOINT_CREATOR_H_
#define SFB_API_SAVEPOINT_CREATOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/dead_letter.h"
#include "api/router.h"
#include "api/source.h"
#include "api/state_bootstrap_function.h"
#include "common/status.h"
#include "pipeline/run_options.h"
#include "pipeline/run_report.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"

namespace sfb {

struct CombinableRoutes;  // writer/partial_combiner.h

using FunctionProvider = std::function<std::unique_ptr<StateBootstrapFunction>()>;

class SavepointCreator {
 public:
  explicit SavepointCreator(int max_parallelism);
  ~SavepointCreator();

  // Keyed-state files to write (Flink subtasks of the functions operator). Default: 1.
  SavepointCreator& WithParallelism(int parallelism);
  // Worker threads for reading and building. Default: hardware concurrency.
  SavepointCreator& WithThreads(int threads);
  // Memory for routed records waiting to be built (writer/memory_budget.h). While they fit, they never
  // touch the disk; beyond it, reader threads spill sorted runs to the spill store. The output bytes
  // are the same either way. Default (0): DefaultMemoryBudget(), half the available memory, capped.
  SavepointCreator& WithMemoryBudget(uint64_t bytes);
  // The routes whose forwards are combined on the reader threads instead of replayed record by record
  // (writer/partial_combiner.h; the job builder finds them, router/combinable_rules.h). Default: none,
  // every record reaches its function's Bootstrap(). Used only with WriteOptions::combine_early.
  SavepointCreator& WithCombinableRoutes(std::shared_ptr<const CombinableRoutes> routes);
  // The TTL clock start written with TTL states (epoch ms). Default: the time Write() starts.
  SavepointCreator& WithTtlTimestamp(int64_t epoch_millis);
  SavepointCreator& WithStateBootstrapFunctionProvider(const std::string& function_type, FunctionProvider provider);
  // What a run on a base savepoint (WriteOptions::base) does with this state when the base already has
  // it (writer/on_existing.h). Unset: such a state is refused before any input is read.
  SavepointCreator& WithOnExisting(const std::string& function_type, const std::string& state, OnExisting mode);
  // Registration order is the order in which an address sees records of different sources.
  SavepointCreator& WithBootstrapData(const std::string& source_name, std::unique_ptr<Source> source,
                                      std::shared_ptr<const Router> router);
  // Set to true (from a signal handler, say) to stop Write() early; it then returns Cancelled.
  void SetCancelFlag(std::atomic<bool>* cancel) { cancel_ = cancel; }

  // The states the registered functions declare, in savepoint state-id order (validated).
  Result<std::vector<StateDescriptor>> States() const;
  // Prepares every source (opens files, checks headers) without routing anything.
  Status PrepareSources();

  Status Write(const std::string& path, const WriteOptions& options = {});
  const WriteSummary& summary() const { return summary_; }
  const RunCounters& counters() const { return counters_; }

 private:
  struct Input {
    std::string name;
    std::unique_ptr<Source> source;
    std::shared_ptr<const Router> router;
  };
  struct Function {
    std::string type;
    FunctionProvider provider;
  };
  class Impl;

  int max_parallelism_;
  int parallelism_ = 1;
  int threads_ = 0;
  uint64_t memory_budget_ = 0;
  std::shared_ptr<const CombinableRoutes> combinable_;
  int64_t ttl_timestamp_ = -1;
  std::vector<Function> functions_;
  std::vector<std::pair<std::pair<std::string, std::string>, OnExisting>> on_existing_;  // (function, state)
  std::vector<Input> inputs_;
  bool sources_prepared_ = false;
  std::atomic<bool> own_cancel_{false};
  std::atomic<bool>* cancel_ = &own_cancel_;
  RunCounters counters_;
  WriteSummary summary_;
};

}  // namespace sfb

#endif  // SFB_API_SAVEPOINT_CREATOR_H_
