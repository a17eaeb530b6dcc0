// BaseCarryOver: the part of a run's output that comes from its base savepoint (`run --base`), so that an
// application restored from the output keeps everything it had (savepoint/base_savepoint.h reads the base).
//
// Contract, in the order a run uses it:
//   CheckJobAgainstBase()   before any input is read. Refuses a max parallelism other than the base's
//                           (naming both), a parallelism P lower than the base's N when a base subtask >= P
//                           has operator state (see CarryOverOperators), a job state the base already has (same
//                           Flink name) with another type or expiration (Flink would refuse to restore it),
//                           and one without an on_existing choice (writer/on_existing.h), naming it and
//                           the choices: a base's values are never silently mixed with the job's.
//   MergeSubtaskWithBase()  after the job's keyed-state file of a subtask is built. Writes a file that holds
//                           the base's keyed state of that subtask's key groups (Flink's range of subtask i
//                           of P) unchanged (every state: other functions', statefun's internal states,
//                           timers; entry bytes as they are), taken from whichever base subtask's stream
//                           holds each group (the same subtask's when P = N), plus the job's:
//                             header  = the first source stream's key serializer snapshot (all sources must
//                                       have the same), then the StateMetaInfoSnapshots of the sources'
//                                       states verbatim, each name once in first-seen order over the
//                                       sources in subtask order (ids 0..b-1; for P = N the base's own
//                                       ids), then those of the job's states the base does not have
//                                       (ids b.., in job order);
//                             per key group, ascending: one run per state in ascending state id, the
//                                       base's pairs in their order under their remapped ids; a job state
//                                       the base has shares the base's id and its run holds what its
//                                       on_existing choice keeps of both sides (ResolveExistingKeyGroup);
//                                       one section ending FF FF.
//                           A base written with snapshot compression has snappy-framed sections; they
//                           are decoded (CRCs checked) and the file is written uncompressed, its header's
//                           compression flag 0: Flink reads that flag per file, so it restores both.
//                           The bytes depend only on the two inputs, so --threads cannot change them.
//   CarryOverOperators()    when the metadata is assembled. Adds the base's master states and every operator
//                           other than `functions_uid1` exactly as it was (handles unchanged), copies the
//                           relative files they name into the output directory under the same names (the
//                           base is only read), and gives the functions operator's subtasks the base's
//                           operator and raw keyed state (their files copied the same way). At another
//                           parallelism P: base subtask i's operator state stays on output subtask i (a
//                           subtask holds at most one handle; a restore at the savepoint's own parallelism
//                           keeps SPLIT_DISTRIBUTE lists where they are and gives UNION/BROADCAST state to
//                           every subtask, so P > N restores; P < N is refused by CheckJobAgainstBase when a
//                           base subtask >= P has any), and raw keyed state is re-laid by key group: output
//                           subtask i gets raw-keyed-functions-<i> with each of its groups' bytes unchanged
//                           (a group ends where the next written one starts) and a type-3 handle. Other
//                           operators keep the base's parallelism; Flink re-distributes them on restore.

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
