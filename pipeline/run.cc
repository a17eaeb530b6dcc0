#include "pipeline/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>

#include "common/exit_cleanup.h"
#include "common/file_io.h"
#include "pipeline/accumulate.h"
#include "pipeline/build.h"
#include "pipeline/commit.h"
#include "writer/memory_budget.h"
#include "writer/run_journal.h"
#include "writer/staged_directory.h"

namespace sfb {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Status RunPipeline(const RunPlan& plan, const std::string& path, const WriteOptions& options, RunCounters* counters,
                   WriteSummary* summary) {
  const auto start = plan.start;
  const int threads = plan.threads;
  const std::vector<SourceInput>& inputs = plan.inputs;
  const std::vector<StateDescriptor>& states = plan.states;
  const BaseSavepoint* base = plan.base;

  // The staging directory, the spill store and the journal: new, or an interrupted run's (--resume).
  std::unique_ptr<StagedDirectory> staged;
  std::unique_ptr<RunJournal> journal;
  std::string spill_dir;
  int64_t ttl_timestamp = plan.ttl_timestamp;
  if (options.resume) {
    SFB_ASSIGN_OR_RETURN(staged, StagedDirectory::Resume(path, options.overwrite, kRunJournalFile));
    staged->KeepOnFailure();
    SFB_ASSIGN_OR_RETURN(journal, RunJournal::Resume(staged->path() + "/" + kRunJournalFile));
    const RunJournal::Header& h = journal->header();
    if (h.fingerprint != options.fingerprint) {
      return Status::InvalidSpec("the job changed since the interrupted run (spec, sources or layout)")
          .WithHint("run without --resume to start over with the job as it is now");
    }
    if (h.sources.size() != inputs.size()) return Status::InvalidSpec("the interrupted run had other sources");
    counters->source_size_total = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Status s = inputs[i].source->PrepareToResume(h.sources[i]);
      if (!s.ok()) {
        return s.WithContext("source " + inputs[i].name)
            .WithHint("run without --resume to start over (the interrupted run's work is then discarded)");
      }
      counters->source_size_total += inputs[i].source->estimated_size();
    }
    plan.sources_prepared();
    ttl_timestamp = h.ttl_timestamp;
    spill_dir = h.spill_dir.empty() ? staged->path() + "/.spill" : h.spill_dir;
  } else {
    SFB_RETURN_IF_ERROR(plan.prepare_sources());
    if (ttl_timestamp < 0) {
      ttl_timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    }
    SFB_ASSIGN_OR_RETURN(staged, StagedDirectory::Create(path, options.overwrite));
    spill_dir = staged->path() + "/.spill";
    if (!options.tmp_dir.empty()) {
      RemoveDirectoriesOfDeadRuns(options.tmp_dir, "sfb-spill-");
      spill_dir = options.tmp_dir + "/sfb-spill-" + std::to_string(::getpid()) + "-" +
                  std::to_string(plan.run_tag & 0xFFFFFF);
    }
    RunJournal::Header h;
    h.fingerprint = options.fingerprint;
    h.ttl_timestamp = ttl_timestamp;
    h.spill_dir = options.tmp_dir.empty() ? "" : std::filesystem::absolute(spill_dir).string();
    for (const auto& in : inputs) h.sources.push_back(in.source->ResumeState());
    SFB_ASSIGN_OR_RETURN(journal, RunJournal::Create(staged->path() + "/" + kRunJournalFile, h));
  }
  std::error_code ec;
  std::filesystem::create_directories(spill_dir, ec);
  if (ec) return Status::IoError("cannot create the spill directory " + spill_dir + ": " + ec.message());
  struct SpillGuard {
    std::string dir;
    bool keep;  // a resumed run that fails keeps its work for another --resume
    SpillGuard(std::string d, bool k) : dir(std::move(d)), keep(k) {
      if (!keep) RegisterDirectoryForExitCleanup(dir);
    }
    ~SpillGuard() {
      if (!keep) RemoveAll(dir);
      UnregisterDirectoryForExitCleanup(dir);
    }
  } spill_guard{spill_dir, options.resume};

  // What the interrupted run finished counts as read.
  uint64_t resumed_dead_letters = 0;
  for (const auto& [split, c] : journal->done()) {
    counters->records_read += c.read;
    counters->records_forwarded += c.forwarded;
    counters->records_dead_lettered += c.dead_lettered;
    resumed_dead_letters += c.dead_lettered;
  }
  std::unique_ptr<DeadLetterFile> dead_letter;
  if (!options.dead_letter.path.empty()) {
    SFB_ASSIGN_OR_RETURN(dead_letter, DeadLetterFile::Create(options.dead_letter, journal->dead_letter_bytes(),
                                                             resumed_dead_letters));
  }

  // Stage 2's store opens first: a resumed run's spilled entries are in it before anything is read.
  Accumulator::Options accumulate_options;
  accumulate_options.store_dir = spill_dir + "/store";
  accumulate_options.reopen = options.resume;
  accumulate_options.max_parallelism = plan.max_parallelism;
  accumulate_options.threads = threads;
  // Sources' read-ahead buffers (Kafka's prefetch queues) are memory of the run too: a quarter of the
  // budget is offered to them, shared out in turn, and the routed entries get the rest.
  const uint64_t memory_budget =
      plan.memory_budget > 0 ? plan.memory_budget : DefaultMemoryBudget(ReadAvailableMemory());
  uint64_t read_ahead = 0;
  for (size_t i = 0, offer = memory_budget / 4; i < inputs.size(); ++i) {
    const uint64_t taken = std::min<uint64_t>(offer, inputs[i].source->ReserveReadAhead(offer / (inputs.size() - i)));
    read_ahead += taken;
    offer -= taken;
  }
  accumulate_options.memory_budget = std::max(kMinMemoryBudget, memory_budget - read_ahead);
  SFB_ASSIGN_OR_RETURN(auto accumulator, Accumulator::Open(accumulate_options));
  SchemaRegistry schemas;
  for (const auto& [id, names] : journal->schemas()) SFB_RETURN_IF_ERROR(schemas.Restore(id, names));
  schemas.SetNewSchemaListener([&journal](uint32_t id, const std::vector<std::string>& names) {
    journal->AddSchema(id, names);
  });

  // Stage 1: read and route every split the interrupted run (if any) did not finish.
  counters->phase = 1;
  ReadAndRouteJob read;
  read.inputs = &inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t s = 0; s < inputs[i].source->num_splits(); ++s) {
      if (journal->done().count({static_cast<uint16_t>(i), s})) continue;  // finished by the interrupted run
      read.tasks.push_back(SplitTask{static_cast<uint16_t>(i), s});
    }
  }
  summary->splits_resumed = journal->done().size();
  // Splits are journaled only when every source could be resumed: one that cannot (PostgreSQL) makes
  // --resume refuse the whole run, so the journal lines would buy nothing.
  bool resumable = true;
  for (const auto& source_state : journal->header().sources) resumable &= !source_state.is_null();
  // Partial entries' flush ids start from this run's random nonce: the builder takes only this run's,
  // never those an interrupted run spilled (its combined splits are read again, writer/partial_combiner.h).
  const uint64_t flush_nonce = static_cast<uint64_t>(std::random_device()()) << kPartialFlushBits;
  read.entries = accumulator->entries();
  read.schemas = &schemas;
  read.function_index = &plan.function_index;
  read.max_parallelism = plan.max_parallelism;
  read.threads = threads;
  read.counters = counters;
  read.cancel = plan.cancel;
  read.dead_letter = dead_letter.get();
  read.journal = resumable ? journal.get() : nullptr;
  // Combining is asked for (WriteOptions::combine_early), never the default.
  // A partial overwrites the state it resolves into, so it could not start from a base's value: a run that
  // merges with a base replays every record (the bytes are the same either way).
  read.combinable = options.combine_early && !plan.merges_with_base ? plan.combinable : nullptr;
  read.flush_nonce = flush_nonce;
  const Status read_status = ReadAndRoute(read);
  const Status dead_letter_closed = dead_letter ? dead_letter->Close() : Status::OK();
  if (plan.cancel->load()) return Status::Cancelled("interrupted; no savepoint was written");
  SFB_RETURN_IF_ERROR(accumulator->WithSpillUse(read_status, counters->records_forwarded));
  SFB_RETURN_IF_ERROR(dead_letter_closed);
  SFB_RETURN_IF_ERROR(accumulator->FinishLoad(counters->records_forwarded));
  summary->read_seconds = SecondsSince(start);
  summary->spill_bytes = accumulator->store().ApproximateDiskBytes();
  summary->memory_budget = memory_budget;
  summary->memory_read_ahead = read_ahead;
  summary->memory_peak = accumulator->entries()->budget().peak();
  summary->spills = accumulator->entries()->spills();
  summary->spilled_records = accumulator->entries()->spilled_entries();

  // Stage 3: one keyed-state file per subtask.
  counters->phase = 2;
  const auto build_start = Clock::now();
  BuildJob build;
  build.entries = accumulator->entries();
  build.schemas = &schemas;
  build.states = &states;
  build.functions = &plan.bindings;
  build.inputs = &inputs;
  build.max_parallelism = plan.max_parallelism;
  build.parallelism = plan.parallelism;
  build.threads = threads;
  build.dir = staged->path();
  build.spill_dir = spill_dir;
  build.ttl_timestamp = ttl_timestamp;
  build.partial_run = flush_nonce >> kPartialFlushBits;
  build.base = base;
  build.merges_with_base = plan.merges_with_base;
  build.choices = &plan.choices;
  build.cancel = plan.cancel;
  build.counters = counters;
  SFB_ASSIGN_OR_RETURN(BuildResult built, BuildSubtasks(build));
  summary->build_seconds = SecondsSince(build_start);
  summary->states.resize(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    StateSummary& st = summary->states[i];
    st = StateSummary();
    st.function_type = states[i].function_type;
    st.state = states[i].state_name;
    st.type_name = states[i].type_name;
    for (const auto& r : built.subtasks) st.entries += r.entries_per_state[i];
    if (base) {
      st.kept = built.counts[i].kept;
      st.replaced = built.counts[i].replaced;
      st.merged = built.counts[i].merged;
      st.added = built.counts[i].added;
      if (plan.base_state_names.count(states[i].FlinkName())) {
        st.on_existing = OnExistingName(ChoiceFor(plan.choices, states[i].FlinkName()));
      }
    }
  }
  if (options.count_only) {
    // Nothing is committed: the staging directory (and with it the build) goes when `staged` does.
    summary->records_read = counters->records_read;
    summary->records_forwarded = counters->records_forwarded;
    summary->records_dead_lettered = counters->records_dead_lettered;
    summary->total_seconds = SecondsSince(start);
    counters->phase = 4;
    return Status::OK();
  }
  accumulator.reset();
  SFB_RETURN_IF_ERROR(RemoveAll(spill_dir));

  // Stage 4: metadata, then move into place (without the journal: the savepoint is complete).
  counters->phase = 3;
  schemas.SetNewSchemaListener(nullptr);
  journal.reset();
  SFB_RETURN_IF_ERROR(RemoveAll(staged->path() + "/" + kRunJournalFile));
  CommitJob commit;
  commit.staged = staged.get();
  commit.subtasks = &built.subtasks;
  commit.inputs = &inputs;
  commit.max_parallelism = plan.max_parallelism;
  commit.parallelism = plan.parallelism;
  commit.ttl_timestamp = ttl_timestamp;
  commit.base = base;
  commit.dead_letter = dead_letter.get();
  commit.counters = counters;
  commit.cancel = plan.cancel;
  commit.summary = summary;
  SFB_RETURN_IF_ERROR(CommitSavepoint(commit));
  summary->records_read = counters->records_read;
  summary->records_forwarded = counters->records_forwarded;
  summary->records_dead_lettered = counters->records_dead_lettered;
  if (dead_letter) summary->dead_letter_path = dead_letter->path();
  summary->total_seconds = SecondsSince(start);
  counters->phase = 4;
  return Status::OK();
}

}  // namespace sfb
