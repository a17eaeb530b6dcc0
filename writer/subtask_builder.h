// BuildSubtaskFile: turns one shard of the routed entries into one keyed-state file of the savepoint.
//
// A shard is the key-group range Flink gives one subtask of the functions operator for the chosen
// (max parallelism, parallelism). The builder walks the shard's entries in key order
// (writer/routed_entries.h), so it meets every address once, with all its records in their defined
// order. For each address it clears the function's states, calls Bootstrap() per record, folds the
// address's partial entries (combined states, writer/partial_combiner.h: they sort after its records
// and touch other states) into their slots, and appends each state that ended up set to that state's
// run for the current key group; when the key group ends, the runs are written in state-id order (savepoint/keyed_state_file.h). Memory: one address's
// records at a time plus the run buffers, which spill to disk.

#ifndef SFB_WRITER_SUBTASK_BUILDER_H_
#define SFB_WRITER_SUBTASK_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "writer/bootstrap_function.h"
#include "common/status.h"
#include "savepoint/metadata.h"
#include "savepoint/state_descriptor.h"
#include "savepoint/base_savepoint.h"
#include "writer/on_existing.h"
#include "writer/routed_entries.h"
#include "writer/shard_store.h"

namespace sfb {

struct FunctionBinding {
  std::string function_type;
  std::function<std::unique_ptr<StateBootstrapFunction>()> provider;
  std::vector<uint16_t> state_ids;  // the savepoint state id of each declared slot, in slot order
};

struct SubtaskBuildInput {
  RoutedEntries* entries = nullptr;
  const SchemaRegistry* schemas = nullptr;
  const std::vector<StateDescriptor>* states = nullptr;
  const std::vector<FunctionBinding>* functions = nullptr;
  const std::vector<std::string>* source_names = nullptr;
  std::function<std::string(uint16_t source, uint64_t position)> describe_position;
  int max_parallelism = 128;
  int parallelism = 1;
  int subtask = 0;
  std::string file_path;
  std::string spill_dir;
  int64_t ttl_timestamp = 0;
  const std::atomic<bool>* cancel = nullptr;
  std::atomic<uint64_t>* addresses_done = nullptr;
  // Partial entries are taken only from this run: flush id >> kPartialFlushBits (writer/partial_combiner.h).
  uint64_t partial_run = 0;
  // run --base: the states with on_existing: merge start each address from the base's value
  // (writer/base_values.h); an address whose value ends equal to the base's writes no entry, so the
  // carry-over keeps the base's bytes. Null: no base.
  const BaseSavepoint* base = nullptr;
  const OnExistingChoices* on_existing = nullptr;
};

struct SubtaskBuildResult {
  int32_t start_key_group = 0;
  std::vector<int64_t> offsets;
  uint64_t file_bytes = 0;
  uint64_t addresses = 0;
  std::vector<uint64_t> entries_per_state;
};

Result<SubtaskBuildResult> BuildSubtaskFile(const SubtaskBuildInput& input);

}  // namespace sfb

#endif  // SFB_WRITER_SUBTASK_BUILDER_H_
