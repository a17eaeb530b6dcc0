// CommitSavepoint: stage 4, the last of a run (pipeline/README.md). Writes what makes the staged files
// a savepoint, then moves the savepoint into place.
//
// Takes: the staging directory holding one keyed-state file per subtask (pipeline/build.h) and their
// build results, the sources (for their provenance and handoff files), the run's counters, and the base
// savepoint if any. Gives, in the staging directory: the base's other operators carried over
// (writer/base_carry_over.h), kProvenanceFile (pipeline/run_report.h), each source's handoff files,
// and `_metadata` (savepoint/metadata.h) last, every file fsynced; then the directory is renamed onto
// the output path (writer/staged_directory.h). Fills the summary's addresses, bytes, files and sources.
// Guarantees: `_metadata` is written only after every other file is complete, and the rename is the
// last step, so the output path holds either the old contents or the whole new savepoint, never part
// of one. An interrupt (`cancel`) seen before the rename, or a base that changed while the run read
// it, fails the run with nothing moved into place.

#ifndef SFB_PIPELINE_COMMIT_H_
#define SFB_PIPELINE_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "pipeline/dead_letter.h"
#include "pipeline/read_and_route.h"
#include "pipeline/run_report.h"
#include "savepoint/base_savepoint.h"
#include "writer/staged_directory.h"
#include "writer/subtask_builder.h"

namespace sfb {

struct CommitJob {
  StagedDirectory* staged = nullptr;
  std::vector<SubtaskBuildResult>* subtasks = nullptr;  // by subtask; their offsets are moved out
  const std::vector<SourceInput>* inputs = nullptr;
  int max_parallelism = 0;
  int parallelism = 1;
  int64_t ttl_timestamp = 0;
  const BaseSavepoint* base = nullptr;
  const DeadLetterFile* dead_letter = nullptr;  // null: the run had none
  const RunCounters* counters = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  WriteSummary* summary = nullptr;
};

Status CommitSavepoint(const CommitJob& job);

}  // namespace sfb

#endif  // SFB_PIPELINE_COMMIT_H_
