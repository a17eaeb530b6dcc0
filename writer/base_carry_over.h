// BaseCarryOver: the part of a run's output that comes from its base savepoint (`run --base`), so that an
// application restored from the output keeps everything it had (savepoint/base_savepoint.h reads the base).
//
// Contract, in the order a run uses it:
//   CheckJobAgainstBase()   before any input is read. Refuses a max parallelism other than the base's
//                           (naming both), a parallelism other than the base's (re-laying keyed state by
//                           key group is not implemented), and a job state the base already has (same
//                           Flink name): the job spec's `on_existing` choices are not implemented yet, so
//                           such a state is refused naming it and the choices, never silently mixed.
//   MergeSubtaskWithBase()  after the job's keyed-state file of a subtask is built. Writes a file that holds
//                           the base's keyed state of that subtask unchanged (every state: other functions',
//                           statefun's internal states, timers; entry bytes as they are) plus the job's:
//                             header  = the base's key serializer snapshot, then the base's states'
//                                       StateMetaInfoSnapshots verbatim (state ids 0..b-1), then the
//                                       job's (ids b..b+j-1);
//                             per key group, ascending: the base's runs in their order, then the job's
//                                       runs with their state ids moved up by b; one section ending FF FF.
//                           The bytes depend only on the two inputs, so --threads cannot change them.
//   CarryOverOperators()    when the metadata is assembled. Adds the base's master states and every operator
//                           other than `functions_uid1` exactly as it was (handles unchanged), copies the
//                           relative files they name into the output directory under the same names (the
//                           base is only read), and gives the functions operator's subtasks the base's
//                           operator and raw keyed state (their files copied the same way).

#ifndef SFB_WRITER_BASE_CARRY_OVER_H_
#define SFB_WRITER_BASE_CARRY_OVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/metadata.h"
#include "savepoint/state_descriptor.h"
#include "writer/subtask_builder.h"

namespace sfb {

Status CheckJobAgainstBase(const BaseSavepoint& base, const std::vector<StateDescriptor>& job_states,
                           int max_parallelism, int parallelism);

// Opens the base (BaseSavepoint::Open), refuses an output path that is the base itself, and runs
// CheckJobAgainstBase(): everything a run checks about its base before it reads any input.
Result<std::unique_ptr<BaseSavepoint>> OpenBaseForRun(const std::string& base_path, const std::string& output_path,
                                                      const std::vector<StateDescriptor>& job_states,
                                                      int max_parallelism, int parallelism);

struct MergedSubtask {
  int32_t start_key_group = 0;
  std::vector<int64_t> offsets;
  uint64_t file_bytes = 0;
  uint64_t base_entries = 0;  // entries carried over from the base
};
// `job_file` is the job's keyed-state file of `subtask` as BuildSubtaskFile wrote it, with its key-group
// offsets from `job_start_key_group`; `out_file` is new.
Result<MergedSubtask> MergeSubtaskWithBase(const BaseSavepoint& base, int subtask, int max_parallelism,
                                           int parallelism, const std::string& job_file,
                                           int32_t job_start_key_group, const std::vector<int64_t>& job_offsets,
                                           const std::string& out_file);

// MergeSubtaskWithBase() for every subtask file `dir`/keyed-state-functions-<i>, replacing the file and its
// result's key-group layout and size with the merged one's; subtasks are merged on up to `threads` threads
// (each file's bytes do not depend on it).
Status MergeSubtasksWithBase(const BaseSavepoint& base, int max_parallelism, const std::string& dir,
                             int threads, std::vector<SubtaskBuildResult>* results);

// `metadata` holds the functions operator the run wrote (subtask i at index i); `out_dir` is the staging
// directory. File names that would clash with the run's own files are refused.
Status CarryOverOperators(const BaseSavepoint& base, const std::string& out_dir, SavepointMetadata* metadata);

}  // namespace sfb

#endif  // SFB_WRITER_BASE_CARRY_OVER_H_
