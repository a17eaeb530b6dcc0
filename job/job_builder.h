// BuildJob: turns a JobSpec into a configured SavepointCreator (the YAML job is a thin layer over the
// C++ API): each declared function becomes a RuleFunction, each source a connector, and the routes of
// each source one RuleRouter. Everything that can be checked before reading data is checked here:
// states referenced by routes exist and have compatible types, merge rules parse, templates parse,
// and (after the sources are prepared) every field a template names exists in a CSV header.

#ifndef SFB_JOB_JOB_BUILDER_H_
#define SFB_JOB_JOB_BUILDER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/savepoint_creator.h"
#include "job/job_spec.h"
#include "job/spec_warning.h"
#include "router/rules.h"

namespace sfb {

struct JobOverrides {
  std::string output;              // replaces savepoint.path
  std::optional<int> parallelism;  // replaces savepoint.parallelism
  int threads = 0;                 // 0: hardware concurrency
  std::optional<int64_t> ttl_timestamp;
  std::string dead_letter_path;             // replaces errors.dead_letter
  std::optional<uint64_t> max_bad_records;  // replaces errors.max_bad_records
  std::optional<uint64_t> memory;           // replaces savepoint.memory
  // The run's interrupt flag (Ctrl-C): sources prepared here (connected, locked) stop waiting when it is
  // set, and the creator's Write() watches it. Null: nothing interrupts.
  std::atomic<bool>* cancel = nullptr;
};

struct BuiltJob {
  std::unique_ptr<SavepointCreator> creator;
  std::string output;
  int max_parallelism = 128;
  int parallelism = 1;
  int threads = 1;
  uint64_t memory_budget = 0;
  std::string memory_from;  // "--memory", "savepoint.memory", or how the default was derived
  DeadLetterOptions dead_letter;
  std::vector<StateDescriptor> states;
  std::vector<std::shared_ptr<const CompiledRoute>> routes;
  // What the spec says that is valid but likely a mistake (job/spec_warning.h), in spec order.
  std::vector<SpecWarning> warnings;
  // The plan as JSON (what `validate --json` prints; the real-Flink harness reads "states" from it).
  nlohmann::ordered_json PlanJson(const JobSpec& spec) const;
};

// Builds and prepares the job (opens the sources, reads CSV headers) without reading records.
// With `connect_remote` false, sources that need a server (PostgreSQL, Kafka) are not contacted and
// fields they provide are not checked (`validate` without --connect).
Result<BuiltJob> BuildJob(const JobSpec& spec, const JobOverrides& overrides, bool connect_remote = true);

}  // namespace sfb

#endif  // SFB_JOB_JOB_BUILDER_H_
