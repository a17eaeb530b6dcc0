// JobSpec: the YAML job file, parsed and checked, before anything is opened.
//
// The shape is the contract in docs/design.md (savepoint, functions, sources, routes); README.md is the
// reference for every key. Parsing is strict: an unknown key, a wrong type or a missing required key
// is an InvalidSpec error that names the file, line and column, and suggests the key that was probably
// meant. `${VAR}` (or `${VAR:-default}`) in any string value is replaced from the environment; `$$` is a
// literal `$`. Relative paths are resolved against the job file's directory.

#ifndef SFB_JOB_JOB_SPEC_H_
#define SFB_JOB_JOB_SPEC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "connectors/source_definition.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"

namespace sfb {

struct StateSpecYaml {
  std::string name;
  StateKind kind = StateKind::kRemote;
  std::string type;
  Codec codec = Codec::kBuiltin;
  TtlMode ttl_mode = TtlMode::kNone;
  int64_t ttl_millis = 0;
  std::string descriptor_set;  // protobuf codec
  std::string message;         // protobuf codec
  // scale: N for an int or long state: values are stored times 10^N, exactly (router/value_conversion.h).
  int scale = 0;
  // on_existing: with a base savepoint that has this state (writer/on_existing.h). The state's own
  // setting, else its function's; kUnset: such a run is refused.
  OnExisting on_existing = OnExisting::kUnset;
  std::string where;           // "job.yaml:12:7"
};

struct FunctionSpecYaml {
  std::string type;  // namespace/name
  OnExisting on_existing = OnExisting::kUnset;  // the default of its states' on_existing
  std::vector<StateSpecYaml> states;
  std::string where;
};

struct SourceSpecYaml {
  std::string name;
  std::shared_ptr<const SourceDefinition> definition;
  std::string where;
};

struct RouteSpecYaml {
  std::string from;
  std::string to;
  std::string id;
  std::vector<std::string> where_conditions;
  // The record deletes the states this route sets when all hold (router/rules.h). Absent from the
  // spec: the source's default (Kafka: "{value} == null"); an empty list: never.
  std::vector<std::string> delete_when;
  // state -> value (a template string, or an object/array shape for json/protobuf states)
  std::vector<std::pair<std::string, nlohmann::ordered_json>> set;
  std::vector<std::pair<std::string, std::string>> merge;  // state -> "count", "sum(field)", ...
  std::map<std::string, std::string> field_where;         // "set.profile" -> "job.yaml:20:9"
  std::string where;
};

struct JobSpec {
  std::string file;  // the job file's path
  std::string savepoint_path;
  // savepoint.base: a savepoint of the running application to build on (writer/base_carry_over.h).
  std::string base_path;
  int max_parallelism = 128;
  std::optional<int> parallelism;
  std::optional<int64_t> ttl_timestamp;
  // savepoint.memory: the memory budget for routed records (writer/memory_budget.h); unset: the default.
  std::optional<uint64_t> memory;
  // errors: { dead_letter: PATH, max_bad_records: N } (api/dead_letter.h); empty path: fail on the first.
  std::string dead_letter_path;
  uint64_t max_bad_records = 0;
  std::vector<FunctionSpecYaml> functions;
  std::vector<SourceSpecYaml> sources;
  std::vector<RouteSpecYaml> routes;
};

// What to parse: the whole job, or only the functions and their states (all that `dump` and `get`
// need to decode values; they connect to nothing, so the sources' settings and secrets are not read).
enum class JobSpecParts { kAll, kStatesOnly };

Result<JobSpec> LoadJobSpec(const std::string& path, JobSpecParts parts = JobSpecParts::kAll);
// Same, from text (for tests); relative paths resolve against `base_dir`.
Result<JobSpec> ParseJobSpec(const std::string& text, const std::string& file_name, const std::string& base_dir,
                             JobSpecParts parts = JobSpecParts::kAll);

// Replaces ${VAR}, ${VAR:-default} and $$; fails naming the variable when it is unset.
Result<std::string> ExpandEnvironment(const std::string& text);

}  // namespace sfb

#endif  // SFB_JOB_JOB_SPEC_H_
