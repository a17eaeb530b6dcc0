// RunCounters and WriteSummary: what a run tells while it runs, and what it reports when done.
//
// The stages (pipeline/README.md) add to RunCounters from their threads as they go (relaxed atomics:
// progress, not synchronisation); the run fills WriteSummary once, from one thread, after each stage.
// kProvenanceFile is the run's report written into the savepoint itself (pipeline/commit.h).

#ifndef SFB_PIPELINE_RUN_REPORT_H_
#define SFB_PIPELINE_RUN_REPORT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sfb {

// Live counters of a running pipeline (SavepointCreator::Write), for progress reporting from another thread.
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
  uint64_t memory_budget = 0;     // the run's (WithMemoryBudget, or the default)
  uint64_t memory_read_ahead = 0; // of it, sources' read-ahead buffers (Source::ReserveReadAhead)
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

}  // namespace sfb

#endif  // SFB_PIPELINE_RUN_REPORT_H_
