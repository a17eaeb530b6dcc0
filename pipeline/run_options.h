// WriteOptions: how one run writes its savepoint (where, on what base, resumed or not, dead letters).
//
// Given to SavepointCreator::Write and handed unchanged to the pipeline (pipeline/run.h).

#ifndef SFB_PIPELINE_RUN_OPTIONS_H_
#define SFB_PIPELINE_RUN_OPTIONS_H_

#include <string>

#include "pipeline/dead_letter.h"

namespace sfb {

struct WriteOptions {
  bool overwrite = false;
  // Directory for the spill store; default: inside the staging directory next to the output.
  std::string tmp_dir;
  // Where bad records go instead of failing the run (pipeline/dead_letter.h); by default nowhere.
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

}  // namespace sfb

#endif  // SFB_PIPELINE_RUN_OPTIONS_H_
