// SavepointCreator: the library's entry point, mirroring statefun's StatefulFunctionsSavepointCreator.
//
//   sfb::SavepointCreator creator(/*max_parallelism=*/128);
//   creator.WithStateBootstrapFunctionProvider("example/greeter", [] { return std::make_unique<Greeter>(); });
//   creator.WithBootstrapData("users", std::make_unique<UsersSource>(), std::make_shared<UsersRouter>());
//   sfb::Status s = creator.Write("out/greeter-savepoint");
//
// Write() runs the pipeline:
//   1. read: every source split on a worker thread; each record is routed (Router, on that thread) and
//      every forwarded (address, payload) is kept by key group in that thread's memory, or, beyond the
//      memory budget, spilled to the ShardStore in sorted runs (writer/routed_entries.h);
//   2. build: one worker per subtask shard replays its addresses through the StateBootstrapFunctions and
//      writes one keyed-state file;
//   3. commit: _metadata is written last, files are fsynced, and the directory is renamed into place.
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
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"

namespace sfb {

struct CombinableRoutes;  // writer/partial_combiner.h

using FunctionProvider = std::function<std::unique_ptr<StateBootstrapFunction>()>;

// Live counters of a running Write(), for progress reporting from another thread.
struct RunCounters {
  std::atomic<int> phase{0};  // 0 preparing, 1 reading, 2 building files, 3 committing, 4 done
  std::atomic<uint64_t> records_read{0};  // every record a source produced, good or bad
  std::atomic<uint64_t> records_dead_lettered{0};
  std::atomic<uint64_t> records_forwarded{0};  // (address, payload) pairs stored
  std::atomic<uint64_t> addresses_written{0};
  std::atomic<uint64_t> subtasks_done{0};
  std::atomic<uint64_t> source_size_total{0};
};

struct StateSummary {
  std::string function_type;
  std::string state;
  std::string type_name;
  uint64_t entries = 0;  // the job's entries, before a base is merged in
  // With a base (WriteOptions::base): what the output holds of this state compared with the base, in
  // addresses (writer/on_existing.h); all zero without one.
  uint64_t kept = 0, replaced = 0, merged = 0, added = 0;
  std::string on_existing;  // the choice that applied ("replace", "keep", "merge"); empty: the base lacks it
};

struct WriteSummary {
  std::string path;
  int max_parallelism = 0;
  int parallelism = 0;
  uint64_t records_read = 0;
  uint64_t records_dead_lettered = 0;  // of records_read; the rest were routed
  uint64_t records_forwarded = 0;
  std::string dead_letter_path;
  uint64_t addresses = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
  uint64_t spill_bytes = 0;       // what the spill store held (0: the run never left memory)
  uint64_t memory_budget = 0;     // for routed entries in memory (WithMemoryBudget, or the default)
  uint64_t memory_peak = 0;       // the most of it in use at once
  uint64_t spills = 0;            // buffers written to the spill store
  uint64_t spilled_records = 0;   // (address, payload) pairs among them
  uint64_t splits_resumed = 0;  // splits an interrupted run had finished (run --resume)
  std::vector<StateSummary> states;
  // Per source: name and Source::Provenance() (where reading stopped), as written to kProvenanceFile.
  nlohmann::ordered_json sources = nlohmann::ordered_json::array();
  double read_seconds = 0;
  double build_seconds = 0;
  double total_seconds = 0;
};

// A small JSON file written into every savepoint directory beside _metadata (Flink ignores it): the
// layout, the TTL clock start, counts, and each source's provenance, so whoever continues from the
// savepoint (a CDC connector, a Kafka ingress) knows exactly where the bootstrap's data ended.
inline constexpr char kProvenanceFile[] = "statefun-bootstrap.json";

struct WriteOptions {
  bool overwrite = false;
  // Directory for the spill store; default: inside the staging directory next to the output.
  std::string tmp_dir;
  // Where bad records go instead of failing the run (api/dead_letter.h); by default nowhere.
  DeadLetterOptions dead_letter;
  // Continue the run that was killed while writing `path` (writer/run_journal.h): read only the splits
  // it had finished and spilled. What it held in memory is lost with it, so a run that never exceeded
  // its memory budget is read again in full (the budget bounds the work a kill can cost). Fails when
  // there is none, or when `fingerprint` or a source's ResumeState() differs from that run's, so a
  // resumed savepoint has the same bytes an uninterrupted run would have.
  bool resume = false;
  // Identifies the job (spec, layout) for resume; the caller's choice (the CLI hashes the job file).
  std::string fingerprint;
  // A savepoint of the running application to build on (`run --base`, writer/base_carry_over.h): the
  // output holds all of its state plus the job's. Checked before any input is read; never modified.
  std::string base;
  // Combine early (WithCombinableRoutes). Off by default, measured: on a job of one record per address
  // (1M users, file) combining cost 2.3x the CPU and 3x the memory of the replay, and on 1M events over
  // 100k users it ran 18 % fewer instructions but no less CPU time (bench/RESULTS.md). And a partial
  // mixes the splits its thread read, so no journal line can vouch for one: a --resume of a combined
  // run reads every combined split again (writer/partial_combiner.h).
  bool combine_early = false;
  // With `base`: read and build everything, merge with the base to count what each state would keep,
  // replace, merge and add (WriteSummary::states), then stop: nothing is written at `path` (its staging
  // directory, which held the build, is removed). What `validate --base` runs.
  bool count_only = false;
};

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
