#include "pipeline/build.h"

#include "pipeline/parallel.h"
#include "writer/base_carry_over.h"

namespace sfb {

Result<BuildResult> BuildSubtasks(const BuildJob& job) {
  std::vector<std::string> source_names;
  for (const auto& in : *job.inputs) source_names.push_back(in.name);
  BuildResult out;
  out.subtasks.resize(static_cast<size_t>(job.parallelism));
  FirstError build_error;
  RunParallel(static_cast<size_t>(job.parallelism), job.threads, &build_error, [&](size_t subtask, size_t) -> Status {
    SubtaskBuildInput in;
    in.entries = job.entries;
    in.schemas = job.schemas;
    in.states = job.states;
    in.functions = job.functions;
    in.source_names = &source_names;
    in.describe_position = [&](uint16_t source, uint64_t position) {
      return (*job.inputs)[source].source->DescribePosition(position);
    };
    in.max_parallelism = job.max_parallelism;
    in.parallelism = job.parallelism;
    in.subtask = static_cast<int>(subtask);
    in.file_path = job.dir + "/keyed-state-functions-" + std::to_string(subtask);
    in.spill_dir = job.spill_dir;
    in.ttl_timestamp = job.ttl_timestamp;
    in.cancel = job.cancel;
    in.addresses_done = &job.counters->addresses_written;
    in.partial_run = job.partial_run;
    in.base = job.merges_with_base ? job.base : nullptr;
    in.on_existing = job.choices;
    auto r = BuildSubtaskFile(in);
    if (!r.ok()) return r.status();
    out.subtasks[subtask] = std::move(r).value();
    job.counters->subtasks_done++;
    return Status::OK();
  });
  if (job.cancel->load()) return Status::Cancelled("interrupted; no savepoint was written");
  SFB_RETURN_IF_ERROR(build_error.Get());
  out.counts.resize(job.states->size());
  if (job.base) {
    SFB_RETURN_IF_ERROR(MergeSubtasksWithBase(*job.base, job.max_parallelism, job.dir, job.threads, *job.choices,
                                              &out.subtasks, &out.counts));
  }
  return out;
}

}  // namespace sfb
