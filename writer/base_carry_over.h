// BaseCarryOver: the part of a run's output that comes from its base savepoint (`run --base`), so that an
// application restored from the output keeps everything it had (savepoint/base_savepoint.h reads the base).
//
// Contract, in the order a run uses it:
//   CheckJobAgainstBase()   before any input is read. Refuses a max parallelism other than the base's
//                           (naming both), a parallelism other than the base's (re-laying keyed state by
//                           key group is not implemented), a job state the base already has (same
//                           Flink name) with another type or expiration (Flink would refuse to restore it),
//                           and one without an on_existing choice (writer/on_existing.h), naming it and
//                           the choices: a base's values are never silently mixed with the job's.
//   MergeSubtaskWithBase()  after the job's keyed-state file of a subtask is built. Writes a file that holds
//                           the base's keyed state of that subtask unchanged (every state: other functions',
//                           statefun's internal states, timers; entry bytes as they are) plus the job's:
//                             header  = the base's key serializer snapshot, then the base's states'
//                                       StateMetaInfoSnapshots verbatim (state ids 0..b-1), then those of
//                                       the job's states the base does not have (ids b.., in job order);
//                             per key group, ascending: one run per state in ascending state id, the
//                                       base's pairs in their order; a job state the base has shares the
//                                       base's id and its run holds what its on_existing choice keeps of
//                                       both sides (ResolveExistingKeyGroup); one section ending FF FF.
//                           A base written with snapshot compression has snappy-framed sections; they
//                           are decoded (CRCs checked) and the file is written uncompressed, its header's
//                           compression flag 0: Flink reads that flag per file, so it restores both.
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
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/metadata.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"
#include "writer/subtask_builder.h"

namespace sfb {

Status CheckJobAgainstBase(const BaseSavepoint& base, const std::vector<StateDescriptor>& job_states,
                           const OnExistingChoices& choices, int max_parallelism, int parallelism);

// Opens the base (BaseSavepoint::Open), refuses an output path that is the base itself, and runs
// CheckJobAgainstBase(): everything a run checks about its base before it reads any input.
Result<std::unique_ptr<BaseSavepoint>> OpenBaseForRun(const std::string& base_path, const std::string& output_path,
                                                      const std::vector<StateDescriptor>& job_states,
                                                      const OnExistingChoices& choices, int max_parallelism,
                                                      int parallelism);

// The Flink names of every keyed state of the base's functions operator, over all its subtasks.
Result<std::set<std::string>> KeyedStateNames(const BaseSavepoint& base);

struct MergedSubtask {
  int32_t start_key_group = 0;
  std::vector<int64_t> offsets;
  uint64_t file_bytes = 0;
  uint64_t base_entries = 0;  // entries read from the base
  std::vector<ExistingCounts> counts;  // by job state id: what the output holds compared with the base
};
// `job_file` is the job's keyed-state file of `subtask` as BuildSubtaskFile wrote it, with its key-group
// offsets from `job_start_key_group`; `out_file` is new.
Result<MergedSubtask> MergeSubtaskWithBase(const BaseSavepoint& base, int subtask, int max_parallelism,
                                           int parallelism, const std::string& job_file,
                                           int32_t job_start_key_group, const std::vector<int64_t>& job_offsets,
                                           const OnExistingChoices& choices, const std::string& out_file);

// MergeSubtaskWithBase() for every subtask file `dir`/keyed-state-functions-<i>, replacing the file and its
// result's key-group layout and size with the merged one's; subtasks are merged on up to `threads` threads
// (each file's bytes do not depend on it). `counts` (may be null) gets the sum over subtasks, by job state id.
Status MergeSubtasksWithBase(const BaseSavepoint& base, int max_parallelism, const std::string& dir,
                             int threads, const OnExistingChoices& choices, std::vector<SubtaskBuildResult>* results,
                             std::vector<ExistingCounts>* counts = nullptr);

// `metadata` holds the functions operator the run wrote (subtask i at index i); `out_dir` is the staging
// directory. File names that would clash with the run's own files are refused.
Status CarryOverOperators(const BaseSavepoint& base, const std::string& out_dir, SavepointMetadata* metadata);

}  // namespace sfb

#endif  // SFB_WRITER_BASE_CARRY_OVER_H_
