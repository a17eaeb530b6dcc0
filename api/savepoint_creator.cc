#include "api/savepoint_creator.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/byte_writer.h"
#include "common/exit_cleanup.h"
#include "common/file_io.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/entry_json.h"
#include "savepoint/key_groups.h"
#include "savepoint/metadata.h"
#include "writer/base_carry_over.h"
#include "writer/memory_budget.h"
#include "writer/partial_combiner.h"
#include "writer/routed_entries.h"
#include "writer/run_journal.h"
#include "writer/shard_store.h"
#include "writer/staged_directory.h"
#include "writer/subtask_builder.h"

namespace sfb {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Collects the first error of many threads and tells all of them to stop.
class FirstError {
 public:
  void Set(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.ok()) status_ = std::move(s);
    stop_.store(true);
  }
  Status Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::atomic<bool>& stop() { return stop_; }

 private:
  std::mutex mu_;
  Status status_;
  std::atomic<bool> stop_{false};
};

void AppendVarint32(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// The record's fields as a JSON object, for a dead letter.
nlohmann::ordered_json RecordJson(const Record& record) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (size_t i = 0; i < record.size(); ++i) {
    const Value& v = record.value(i);
    nlohmann::ordered_json& field = out[record.schema().names()[i]];
    switch (v.kind()) {
      case Value::Kind::kNull: field = nullptr; break;
      case Value::Kind::kBool: field = v.as_bool(); break;
      case Value::Kind::kInt: field = v.as_int(); break;
      case Value::Kind::kDouble: field = v.as_double(); break;
      case Value::Kind::kText: field = JsonBytes(v.as_string()); break;
      case Value::Kind::kBytes: field = {{"base64", Base64Encode(v.as_string())}}; break;
    }
  }
  return out;
}

// One reader thread's view: routes each record and adds what the router forwards to the routed
// entries. A record's forwards are added all or nothing: one the router rejects halfway leaves no trace
// but its dead letter.
//
// When the run can be resumed (every source has a resume state), a split is journaled as done only once
// all its entries are in the spill store: finished splits wait in `unjournaled_` until this thread's
// buffer spills (or is found empty when a split ends), and their dead letters wait with them, so the
// dead-letter size a journal line records covers exactly the journaled splits. A run whose entries
// never leave memory journals no split: a --resume of it reads everything again.
class RoutingConsumer final : public RecordConsumer, public Downstream {
 public:
  RoutingConsumer(RoutedEntries::Writer* writer, SchemaRegistry* schemas,
                  const std::unordered_map<std::string, uint16_t>* function_index, int max_parallelism,
                  RunCounters* counters, const std::atomic<bool>* user_cancel, DeadLetterFile* dead_letter,
                  RunJournal* journal, std::mutex* commit_mu, const CombinableRoutes* combinable,
                  uint32_t writer_index, uint64_t flush_nonce)
      : writer_(writer), schemas_(schemas), function_index_(function_index), max_parallelism_(max_parallelism),
        counters_(counters), user_cancel_(user_cancel), dead_letter_(dead_letter), journal_(journal),
        commit_mu_(commit_mu), combinable_(combinable), writer_index_(writer_index), next_flush_id_(flush_nonce) {}

  void StartSplit(uint16_t source_index, size_t split, const std::string* source_name, const Source* source,
                  const Router* router) {
    source_ = source_index;
    split_index_ = split;
    source_name_ = source_name;
    source_reader_ = source;
    router_ = router;
    split_ = SplitCounts();
    split_combined_ = false;
  }

  // After ReadSplit returned `s`: commits the split's dead letters, or (resumable) queues the split to be
  // journaled with them once its entries are in the store. A failed split is never journaled; its dead
  // letters are written by CommitRemaining (they may be why the run stopped).
  Status EndSplit(Status s) {
    if (!journal_) {
      std::lock_guard<std::mutex> lock(*commit_mu_);
      if (dead_letter_) {
        Status committed = dead_letter_->Commit(pending_dead_letters_);
        pending_dead_letters_.clear();
        if (s.ok()) s = committed;
      }
      return s;
    }
    if (!s.ok()) return s;
    if (split_combined_) {
      // Never journaled: its partials are mixed with other splits', so a --resume reads it again and
      // ignores the partials this run spilled (writer/partial_combiner.h). Its dead letters are written
      // after every journaled split's, where a resume cuts the file back.
      unjournaled_dead_letters_ += pending_dead_letters_;
      pending_dead_letters_.clear();
      return Status::OK();
    }
    unjournaled_.push_back(FinishedSplit{source_, split_index_, split_, std::move(pending_dead_letters_)});
    pending_dead_letters_.clear();
    if (writer_->empty() && combiner_.empty()) return JournalFinishedSplits();
    return Status::OK();
  }

  // After the read phase: moves the partials into the routed entries (spilling as the budget says).
  // A resumable run that spills here spills everything, so the finished splits can be journaled.
  Status FinishReading() {
    if (combiner_.empty()) return Status::OK();
    bool spilled = false;
    SFB_RETURN_IF_ERROR(FlushPartials(&spilled));
    if (spilled && journal_) {
      SFB_RETURN_IF_ERROR(writer_->Spill());
      return JournalFinishedSplits();
    }
    return Status::OK();
  }

  // After the read phase, however it ended: writes the dead letters not yet written.
  Status CommitRemaining() {
    if (!dead_letter_) return Status::OK();
    std::string lines;
    for (const FinishedSplit& f : unjournaled_) lines += f.dead_letters;
    lines += unjournaled_dead_letters_;
    lines += pending_dead_letters_;
    unjournaled_dead_letters_.clear();
    unjournaled_.clear();
    pending_dead_letters_.clear();
    std::lock_guard<std::mutex> lock(*commit_mu_);
    return dead_letter_->Commit(lines);
  }

  Status Consume(const Record& record, uint64_t position) override {
    if (user_cancel_->load(std::memory_order_relaxed)) return Status::Cancelled("interrupted");
    counters_->records_read.fetch_add(1, std::memory_order_relaxed);
    ++split_.read;
    position_ = position;
    seq_ = 0;
    current_ = &record;
    writer_->BeginRecord();
    Status s = router_->Route(record, *this);
    if (s.ok()) {
      counters_->records_forwarded.fetch_add(seq_, std::memory_order_relaxed);
      split_.forwarded += seq_;
      if (combining_) return FitCombining();
      bool spilled = false;
      SFB_RETURN_IF_ERROR(writer_->Fit(&spilled));
      if (spilled && journal_) return JournalFinishedSplits();
      return Status::OK();
    }
    combiner_.Abandon();
    if (!dead_letter_ || s.code() != Status::Code::kBadRecord) return s;
    writer_->AbandonRecord();
    counters_->records_dead_lettered.fetch_add(1, std::memory_order_relaxed);
    ++split_.dead_lettered;
    // The line's "position" names where the record is; the source adds it to a returned error.
    return dead_letter_->Add(*source_name_, source_reader_->DescribePosition(position), "route", s, RecordJson(record),
                             &pending_dead_letters_);
  }
  Status Reject(uint64_t position, Status reason, const nlohmann::ordered_json& raw) override {
    counters_->records_read.fetch_add(1, std::memory_order_relaxed);
    ++split_.read;
    if (!dead_letter_) return reason;
    counters_->records_dead_lettered.fetch_add(1, std::memory_order_relaxed);
    ++split_.dead_lettered;
    return dead_letter_->Add(*source_name_, source_reader_->DescribePosition(position), "parse", reason, raw,
                             &pending_dead_letters_);
  }

  Status Forward(const std::string& function_type, const std::string& id) override {
    return Forward(function_type, id, *current_);
  }

  Status Forward(const std::string& function_type, const std::string& id, const Record& payload) override {
    auto it = function_index_->find(function_type);
    if (it == function_index_->end()) {
      return Status::InvalidSpec("a route forwards to function type '" + function_type +
                                 "', which has no bootstrap function")
          .WithHint("declare " + function_type + " under functions: (or register a provider for it)");
    }
    if (id.empty()) {
      return Status::BadRecord("the function id for " + function_type + " is empty")
          .WithHint("every record must yield a non-empty id; filter out records without one (where:) or fix the data");
    }
    int32_t hash;
    id_bytes_.clear();
    if (!PrepareJavaId(id, &id16_, &hash, &id_bytes_)) {
      return Status::BadRecord("the function id for " + function_type + " is not valid UTF-8");
    }
    const int kg = KeyGroupForHash(hash, max_parallelism_);
    if (const std::vector<CombineRule>* rules = combinable_ ? combinable_->Find(payload.schema_ptr().get()) : nullptr) {
      // Combined (writer/partial_combiner.h): the address key is the store key's head.
      key_.clear();
      ByteWriter w(&key_);
      w.U16(static_cast<uint16_t>(kg));
      w.U16(it->second);
      w.Bytes(id_bytes_);
      combiner_.Stage(key_, rules, payload, RecordOrder{source_, position_, seq_++});
      combining_ = true;
      split_combined_ = true;
      return Status::OK();
    }
    key_.clear();
    EncodeStoreKey(&key_, kg, it->second, id_bytes_, source_, position_, seq_++);
    // The registry takes a lock; a source hands the same schema to record after record.
    if (payload.schema_ptr().get() != last_schema_) {
      last_schema_id_ = schemas_->IdOf(payload.schema_ptr());
      last_schema_ = payload.schema_ptr().get();
    }
    value_.clear();
    AppendVarint32(&value_, last_schema_id_);
    payload.SerializeValuesTo(&value_);
    writer_->Put(kg, key_, value_);
    return Status::OK();
  }

 private:
  struct FinishedSplit {
    uint16_t input;
    size_t split;
    SplitCounts counts;
    std::string dead_letters;
  };

  // After an accepted record of a run that combines: folds its partials in and keeps the thread within
  // the budget, spilling partials and buffer together when it refuses (so, when the run is resumable,
  // every finished split that combined nothing is then in the store and can be journaled).
  Status FitCombining() {
    combiner_.Commit();
    writer_->SetHeldElsewhere(combiner_.memory_bytes());
    if (writer_->Reserve()) return Status::OK();
    SFB_RETURN_IF_ERROR(FlushPartials());
    SFB_RETURN_IF_ERROR(writer_->Spill());
    return journal_ ? JournalFinishedSplits() : Status::OK();
  }

  // Moves every partial into the thread's buffer as one entry per address, keeping the buffer within
  // the budget as it goes (*spilled: whether it spilled on the way).
  Status FlushPartials(bool* spilled = nullptr) {
    const uint64_t flush_id = next_flush_id_++;
    Status status;
    uint64_t n = 0;
    combiner_.Flush(flush_id, writer_index_, [&](int key_group, std::string_view key, std::string_view value) {
      writer_->Put(key_group, key, value);
      if ((++n & 1023) != 0 || !status.ok()) return;
      writer_->SetHeldElsewhere(combiner_.memory_bytes());
      if (writer_->Reserve()) return;
      status = writer_->Spill();
      if (spilled) *spilled = true;
    });
    writer_->SetHeldElsewhere(0);
    return status;
  }

  // Journals the finished splits (their entries are all in the store), after writing their dead
  // letters; each line records the dead-letter size up to its own split's lines, so a journal cut short
  // between two lines still matches the file.
  Status JournalFinishedSplits() {
    if (unjournaled_.empty()) return Status::OK();
    std::string lines;
    std::vector<size_t> ends;
    for (const FinishedSplit& f : unjournaled_) {
      lines += f.dead_letters;
      ends.push_back(lines.size());
    }
    std::lock_guard<std::mutex> lock(*commit_mu_);
    uint64_t size = 0;
    if (dead_letter_) SFB_RETURN_IF_ERROR(dead_letter_->Commit(lines, &size));
    const uint64_t start = dead_letter_ ? size - lines.size() : 0;
    for (size_t i = 0; i < unjournaled_.size(); ++i) {
      const FinishedSplit& f = unjournaled_[i];
      SFB_RETURN_IF_ERROR(journal_->SplitDone(f.input, f.split, f.counts, dead_letter_ ? start + ends[i] : 0));
    }
    unjournaled_.clear();
    return Status::OK();
  }

  RoutedEntries::Writer* writer_;
  SchemaRegistry* schemas_;
  const std::unordered_map<std::string, uint16_t>* function_index_;
  int max_parallelism_;
  RunCounters* counters_;
  const std::atomic<bool>* user_cancel_;
  DeadLetterFile* dead_letter_;
  RunJournal* journal_;  // null when the run cannot be resumed
  std::mutex* commit_mu_;
  uint16_t source_ = 0;
  size_t split_index_ = 0;
  const std::string* source_name_ = nullptr;
  const Source* source_reader_ = nullptr;
  const Router* router_ = nullptr;
  const Record* current_ = nullptr;
  uint64_t position_ = 0;
  uint32_t seq_ = 0;
  SplitCounts split_;
  std::string pending_dead_letters_;  // of the split being read
  std::vector<FinishedSplit> unjournaled_;
  std::u16string id16_;
  std::string id_bytes_, key_, value_;
  const Schema* last_schema_ = nullptr;  // kept alive by the registry, so never reused for another schema
  uint32_t last_schema_id_ = 0;
  const CombinableRoutes* combinable_;  // null: every forward is replayed
  PartialCombiner combiner_;
  bool combining_ = false;           // a forward was combined: the budget counts the partials
  bool split_combined_ = false;      // a forward of the split being read was combined
  std::string unjournaled_dead_letters_;  // of finished splits that combined (never journaled)
  uint32_t writer_index_;
  uint64_t next_flush_id_;
};


// A full disk (or file-size limit) under the spill store: adds how much the store held for how many
// records, so the user can size the space a whole run needs.
Status WithSpillUse(Status s, const ShardStore& store, uint64_t records) {
  const std::string& m = s.message();
  if (s.ok() || s.code() != Status::Code::kIoError ||
      (m.find("No space") == std::string::npos && m.find("File too large") == std::string::npos &&
       m.find("quota") == std::string::npos)) {
    return s;
  }
  const uint64_t bytes = store.ApproximateDiskBytes();
  std::string use = "the spill store held " + std::to_string(bytes >> 20) + " MB for " + std::to_string(records) +
                    " routed records";
  if (records > 0) {
    use += ", about " + std::to_string(bytes / records) + " bytes each: a run needs up to that per record on disk, "
           "and about as much again for the savepoint";
  }
  Status out(s.code(), m + " (" + use + ")");
  if (!s.location().empty()) out.WithContext(s.location());
  return out.WithHint(s.hint());
}

// Runs `fn(task, worker)` for tasks 0..n-1 on `threads` workers; stops handing out tasks after an error.
void RunParallel(size_t n, int threads, FirstError* error, const std::function<Status(size_t, size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&](size_t worker_index) {
    for (;;) {
      if (error->stop().load()) return;
      const size_t task = next.fetch_add(1);
      if (task >= n) return;
      Status s = fn(task, worker_index);
      if (!s.ok()) error->Set(std::move(s));
    }
  };
  std::vector<std::thread> pool;
  const size_t count = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  for (size_t i = 1; i < count; ++i) pool.emplace_back(worker, i);
  if (count > 0) worker(0);
  for (auto& t : pool) t.join();
}

}  // namespace

SavepointCreator::SavepointCreator(int max_parallelism) : max_parallelism_(max_parallelism) {}
SavepointCreator::~SavepointCreator() = default;

SavepointCreator& SavepointCreator::WithParallelism(int parallelism) {
  parallelism_ = parallelism;
  return *this;
}
SavepointCreator& SavepointCreator::WithThreads(int threads) {
  threads_ = threads;
  return *this;
}
SavepointCreator& SavepointCreator::WithMemoryBudget(uint64_t bytes) {
  memory_budget_ = bytes;
  return *this;
}
SavepointCreator& SavepointCreator::WithCombinableRoutes(std::shared_ptr<const CombinableRoutes> routes) {
  combinable_ = std::move(routes);
  return *this;
}
SavepointCreator& SavepointCreator::WithTtlTimestamp(int64_t epoch_millis) {
  ttl_timestamp_ = epoch_millis;
  return *this;
}
SavepointCreator& SavepointCreator::WithStateBootstrapFunctionProvider(const std::string& function_type,
                                                                       FunctionProvider provider) {
  functions_.push_back(Function{function_type, std::move(provider)});
  return *this;
}
SavepointCreator& SavepointCreator::WithOnExisting(const std::string& function_type, const std::string& state,
                                                   OnExisting mode) {
  on_existing_.push_back({{function_type, state}, mode});
  return *this;
}
SavepointCreator& SavepointCreator::WithBootstrapData(const std::string& source_name, std::unique_ptr<Source> source,
                                                      std::shared_ptr<const Router> router) {
  inputs_.push_back(Input{source_name, std::move(source), std::move(router)});
  return *this;
}

Result<std::vector<StateDescriptor>> SavepointCreator::States() const {
  std::vector<StateDescriptor> states;
  std::unordered_map<std::string, bool> seen_types;
  for (const auto& f : functions_) {
    if (!seen_types.emplace(f.type, true).second) {
      return Status::InvalidSpec("function type " + f.type + " has two bootstrap functions");
    }
    auto prototype = f.provider();
    if (!prototype) return Status::InvalidSpec("the provider for " + f.type + " returned no function");
    std::unordered_map<std::string, bool> seen_states;
    for (const auto& slot : prototype->slots()) {
      const auto& spec = slot.spec;
      if (!seen_states.emplace(spec.name, true).second) {
        return Status::InvalidSpec("function " + f.type + " declares state '" + spec.name + "' twice");
      }
      SFB_ASSIGN_OR_RETURN(StateDescriptor d,
                           StateDescriptor::Make(f.type, spec.name, spec.type.kind, spec.type.type_name,
                                                 spec.type.codec, spec.expiration.mode, spec.expiration.millis));
      if (d.repr() != spec.type.repr) {
        return Status::InvalidSpec("state " + d.FlinkName() + " has a C++ type that does not match " + d.type_name);
      }
      if (d.has_ttl() && d.ttl_millis <= 0) {
        return Status::InvalidSpec("state " + d.FlinkName() + " has an expiration of " +
                                   std::to_string(d.ttl_millis) + " ms; it must be positive");
      }
      states.push_back(std::move(d));
    }
  }
  if (states.size() > 32767) return Status::InvalidSpec("more than 32767 states");
  return states;
}

Status SavepointCreator::PrepareSources() {
  if (sources_prepared_) return Status::OK();
  std::unordered_map<std::string, bool> names;
  for (auto& in : inputs_) {
    if (!names.emplace(in.name, true).second) return Status::InvalidSpec("two sources are named '" + in.name + "'");
    in.source->set_interrupt(cancel_);
    SFB_RETURN_IF_ERROR(in.source->Prepare().WithContext("source " + in.name));
    counters_.source_size_total += in.source->estimated_size();
  }
  if (inputs_.size() > 65535) return Status::InvalidSpec("more than 65535 sources");
  sources_prepared_ = true;
  return Status::OK();
}

Status SavepointCreator::Write(const std::string& path, const WriteOptions& options) {
  const auto start = Clock::now();
  summary_ = WriteSummary();
  summary_.path = path;
  summary_.max_parallelism = max_parallelism_;
  summary_.parallelism = parallelism_;
  SFB_RETURN_IF_ERROR(ValidateParallelism(max_parallelism_, parallelism_));
  if (functions_.size() > 65535) return Status::InvalidSpec("more than 65535 function types");
  SFB_ASSIGN_OR_RETURN(std::vector<StateDescriptor> states, States());
  SFB_RETURN_IF_ERROR(CheckOutputPath(path, options.overwrite));
  // on_existing choices by Flink state name; the last one given for a state wins.
  OnExistingChoices choices;
  for (const auto& [fs, mode] : on_existing_) {
    bool declared = false;
    for (const auto& d : states) {
      if (d.function_type != fs.first || d.state_name != fs.second) continue;
      choices[d.FlinkName()] = mode;
      declared = true;
    }
    if (!declared) {
      return Status::InvalidSpec(StrCat("on_existing is given for state '", fs.second, "' of ", fs.first,
                                        ", which no bootstrap function declares"));
    }
  }
  std::unique_ptr<BaseSavepoint> base;  // --base: read and checked before any input
  std::set<std::string> base_state_names;
  if (!options.base.empty()) {
    SFB_ASSIGN_OR_RETURN(base, OpenBaseForRun(options.base, path, states, choices, max_parallelism_, parallelism_));
    SFB_ASSIGN_OR_RETURN(base_state_names, KeyedStateNames(*base));
  } else if (options.count_only) {
    return Status::InvalidSpec("counting what a run keeps and replaces needs a base savepoint");
  }
  bool merges_with_base = false;
  for (const auto& d : states) {
    merges_with_base |= base_state_names.count(d.FlinkName()) &&
                        ChoiceFor(choices, d.FlinkName()) == OnExisting::kMerge;
  }
  // At most as many reader threads as routed-entry buffers can be told apart (writer/entry_buffer.h).
  const int wanted = threads_ > 0 ? threads_ : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::min(wanted, EntryBuffer::kMaxBuffers);

  // Bindings: function index -> savepoint state ids of its slots, in declaration order.
  std::vector<FunctionBinding> bindings;
  std::unordered_map<std::string, uint16_t> function_index;
  uint16_t next_state = 0;
  for (const auto& f : functions_) {
    FunctionBinding b{f.type, f.provider, {}};
    auto prototype = f.provider();
    for (size_t i = 0; i < prototype->slots().size(); ++i) b.state_ids.push_back(next_state++);
    function_index.emplace(f.type, static_cast<uint16_t>(bindings.size()));
    bindings.push_back(std::move(b));
  }

  if (!options.dead_letter.path.empty()) {
    std::error_code ec1, ec2;
    const std::string out = std::filesystem::weakly_canonical(path, ec1).string();
    const std::string dl = std::filesystem::weakly_canonical(options.dead_letter.path, ec2).string();
    if (!ec1 && !ec2 && (dl == out || dl.rfind(out + "/", 0) == 0)) {
      return Status::InvalidSpec("the dead-letter file " + options.dead_letter.path + " is inside the savepoint " + path)
          .WithHint("put errors.dead_letter outside the savepoint directory (it is replaced as a whole)");
    }
  }

  // The staging directory, the spill store and the journal: new, or an interrupted run's (--resume).
  std::unique_ptr<StagedDirectory> staged;
  std::unique_ptr<RunJournal> journal;
  std::string spill_dir;
  int64_t ttl_timestamp = ttl_timestamp_;
  if (options.resume) {
    SFB_ASSIGN_OR_RETURN(staged, StagedDirectory::Resume(path, options.overwrite, kRunJournalFile));
    staged->KeepOnFailure();
    SFB_ASSIGN_OR_RETURN(journal, RunJournal::Resume(staged->path() + "/" + kRunJournalFile));
    const RunJournal::Header& h = journal->header();
    if (h.fingerprint != options.fingerprint) {
      return Status::InvalidSpec("the job changed since the interrupted run (spec, sources or layout)")
          .WithHint("run without --resume to start over with the job as it is now");
    }
    if (h.sources.size() != inputs_.size()) return Status::InvalidSpec("the interrupted run had other sources");
    counters_.source_size_total = 0;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      Status s = inputs_[i].source->PrepareToResume(h.sources[i]);
      if (!s.ok()) {
        return s.WithContext("source " + inputs_[i].name)
            .WithHint("run without --resume to start over (the interrupted run's work is then discarded)");
      }
      counters_.source_size_total += inputs_[i].source->estimated_size();
    }
    sources_prepared_ = true;
    ttl_timestamp = h.ttl_timestamp;
    spill_dir = h.spill_dir.empty() ? staged->path() + "/.spill" : h.spill_dir;
  } else {
    SFB_RETURN_IF_ERROR(PrepareSources());
    if (ttl_timestamp < 0) {
      ttl_timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    }
    SFB_ASSIGN_OR_RETURN(staged, StagedDirectory::Create(path, options.overwrite));
    spill_dir = staged->path() + "/.spill";
    if (!options.tmp_dir.empty()) {
      RemoveDirectoriesOfDeadRuns(options.tmp_dir, "sfb-spill-");
      spill_dir = options.tmp_dir + "/sfb-spill-" + std::to_string(::getpid()) + "-" +
                  std::to_string(reinterpret_cast<uintptr_t>(this) & 0xFFFFFF);
    }
    RunJournal::Header h;
    h.fingerprint = options.fingerprint;
    h.ttl_timestamp = ttl_timestamp;
    h.spill_dir = options.tmp_dir.empty() ? "" : std::filesystem::absolute(spill_dir).string();
    for (const auto& in : inputs_) h.sources.push_back(in.source->ResumeState());
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
    counters_.records_read += c.read;
    counters_.records_forwarded += c.forwarded;
    counters_.records_dead_lettered += c.dead_lettered;
    resumed_dead_letters += c.dead_lettered;
  }
  std::unique_ptr<DeadLetterFile> dead_letter;
  if (!options.dead_letter.path.empty()) {
    SFB_ASSIGN_OR_RETURN(dead_letter, DeadLetterFile::Create(options.dead_letter, journal->dead_letter_bytes(),
                                                             resumed_dead_letters));
  }

  ShardStore::Options store_options;
  store_options.dir = spill_dir + "/store";
  store_options.reopen = options.resume;
  SFB_ASSIGN_OR_RETURN(auto store, ShardStore::Open(store_options));
  SchemaRegistry schemas;
  for (const auto& [id, names] : journal->schemas()) SFB_RETURN_IF_ERROR(schemas.Restore(id, names));
  schemas.SetNewSchemaListener([&journal](uint32_t id, const std::vector<std::string>& names) {
    journal->AddSchema(id, names);
  });

  // Phase 1: read and route every split.
  counters_.phase = 1;
  struct Task {
    uint16_t input;
    size_t split;
  };
  std::vector<Task> tasks;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    for (size_t s = 0; s < inputs_[i].source->num_splits(); ++s) {
      if (journal->done().count({static_cast<uint16_t>(i), s})) continue;  // finished by the interrupted run
      tasks.push_back(Task{static_cast<uint16_t>(i), s});
    }
  }
  summary_.splits_resumed = journal->done().size();
  // Splits are journaled only when every source could be resumed: one that cannot (PostgreSQL) makes
  // --resume refuse the whole run, so the journal lines would buy nothing.
  bool resumable = true;
  for (const auto& source_state : journal->header().sources) resumable &= !source_state.is_null();
  FirstError read_error;
  const uint64_t memory_budget = memory_budget_ > 0 ? memory_budget_ : DefaultMemoryBudget(ReadAvailableMemory());
  RoutedEntries entries(store.get(), max_parallelism_, threads, memory_budget);
  // Partial entries' flush ids start from this run's random nonce: the builder takes only this run's,
  // never those an interrupted run spilled (its combined splits are read again, writer/partial_combiner.h).
  const uint64_t flush_nonce = static_cast<uint64_t>(std::random_device()()) << kPartialFlushBits;
  // Combining is asked for (WriteOptions::combine_early), never the default.
  // A partial overwrites the state it resolves into, so it could not start from a base's value: a run that
  // merges with a base replays every record (the bytes are the same either way).
  const CombinableRoutes* combinable = options.combine_early && !merges_with_base ? combinable_.get() : nullptr;
  {
    std::mutex commit_mu;
    std::vector<std::unique_ptr<RoutingConsumer>> consumers;
    for (int i = 0; i < threads; ++i) {
      consumers.push_back(std::make_unique<RoutingConsumer>(
          entries.writer(i), &schemas, &function_index, max_parallelism_, &counters_, cancel_, dead_letter.get(),
          resumable ? journal.get() : nullptr, &commit_mu, combinable, static_cast<uint32_t>(i),
          flush_nonce));
    }
    // The user's interrupt stops the sources too: a source waiting on a server (a long query) sees
    // the stop flag it was given, not the consumers' check of the interrupt flag on each record.
    std::mutex relay_mu;
    std::condition_variable relay_cv;
    bool reading_done = false;
    std::thread relay([&] {
      std::unique_lock<std::mutex> lock(relay_mu);
      while (!relay_cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return reading_done; })) {
        if (cancel_->load()) {
          read_error.Set(Status::Cancelled("interrupted"));
          return;
        }
      }
    });
    struct RelayStop {
      std::mutex& mu;
      std::condition_variable& cv;
      bool& done;
      std::thread& thread;
      ~RelayStop() {
        {
          std::lock_guard<std::mutex> lock(mu);
          done = true;
        }
        cv.notify_all();
        thread.join();
      }
    } relay_stop{relay_mu, relay_cv, reading_done, relay};
    RunParallel(tasks.size(), threads, &read_error, [&](size_t t, size_t worker) -> Status {
      RoutingConsumer* consumer = consumers[worker].get();
      const Task& task = tasks[t];
      Input& in = inputs_[task.input];
      consumer->StartSplit(task.input, task.split, &in.name, in.source.get(), in.router.get());
      return consumer->EndSplit(in.source->ReadSplit(task.split, *consumer, read_error.stop()));
    });
    for (auto& consumer : consumers) {
      if (read_error.stop().load()) break;
      Status s = consumer->FinishReading();
      if (!s.ok()) read_error.Set(std::move(s));
    }
    // The dead letters are kept whether or not the run goes on: they may be why it stopped.
    for (auto& consumer : consumers) {
      Status s = consumer->CommitRemaining();
      if (!s.ok()) read_error.Set(std::move(s));
    }
  }
  const Status dead_letter_closed = dead_letter ? dead_letter->Close() : Status::OK();
  if (cancel_->load()) return Status::Cancelled("interrupted; no savepoint was written");
  SFB_RETURN_IF_ERROR(WithSpillUse(read_error.Get(), *store, counters_.records_forwarded));
  SFB_RETURN_IF_ERROR(dead_letter_closed);
  SFB_RETURN_IF_ERROR(WithSpillUse(store->FinishLoad(), *store, counters_.records_forwarded));
  summary_.read_seconds = SecondsSince(start);
  summary_.spill_bytes = store->ApproximateDiskBytes();
  summary_.memory_budget = memory_budget;
  summary_.memory_peak = entries.budget().peak();
  summary_.spills = entries.spills();
  summary_.spilled_records = entries.spilled_entries();

  // Phase 2: one keyed-state file per subtask.
  counters_.phase = 2;
  const auto build_start = Clock::now();
  std::vector<std::string> source_names;
  for (const auto& in : inputs_) source_names.push_back(in.name);
  std::vector<SubtaskBuildResult> results(static_cast<size_t>(parallelism_));
  FirstError build_error;
  RunParallel(static_cast<size_t>(parallelism_), threads, &build_error, [&](size_t subtask, size_t) -> Status {
    SubtaskBuildInput in;
    in.entries = &entries;
    in.schemas = &schemas;
    in.states = &states;
    in.functions = &bindings;
    in.source_names = &source_names;
    in.describe_position = [&](uint16_t source, uint64_t position) {
      return inputs_[source].source->DescribePosition(position);
    };
    in.max_parallelism = max_parallelism_;
    in.parallelism = parallelism_;
    in.subtask = static_cast<int>(subtask);
    in.file_path = staged->path() + "/keyed-state-functions-" + std::to_string(subtask);
    in.spill_dir = spill_dir;
    in.ttl_timestamp = ttl_timestamp;
    in.cancel = cancel_;
    in.addresses_done = &counters_.addresses_written;
    in.partial_run = flush_nonce >> kPartialFlushBits;
    in.base = merges_with_base ? base.get() : nullptr;
    in.on_existing = &choices;
    auto r = BuildSubtaskFile(in);
    if (!r.ok()) return r.status();
    results[subtask] = std::move(r).value();
    counters_.subtasks_done++;
    return Status::OK();
  });
  if (cancel_->load()) return Status::Cancelled("interrupted; no savepoint was written");
  SFB_RETURN_IF_ERROR(build_error.Get());
  std::vector<ExistingCounts> counts(states.size());
  if (base) {
    SFB_RETURN_IF_ERROR(
        MergeSubtasksWithBase(*base, max_parallelism_, staged->path(), threads, choices, &results, &counts));
  }
  summary_.build_seconds = SecondsSince(build_start);
  summary_.states.resize(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    StateSummary& st = summary_.states[i];
    st = StateSummary();
    st.function_type = states[i].function_type;
    st.state = states[i].state_name;
    st.type_name = states[i].type_name;
    for (const auto& r : results) st.entries += r.entries_per_state[i];
    if (base) {
      st.kept = counts[i].kept;
      st.replaced = counts[i].replaced;
      st.merged = counts[i].merged;
      st.added = counts[i].added;
      if (base_state_names.count(states[i].FlinkName())) st.on_existing = OnExistingName(ChoiceFor(choices, states[i].FlinkName()));
    }
  }
  if (options.count_only) {
    // Nothing is committed: the staging directory (and with it the build) goes when `staged` does.
    summary_.records_read = counters_.records_read;
    summary_.records_forwarded = counters_.records_forwarded;
    summary_.records_dead_lettered = counters_.records_dead_lettered;
    summary_.total_seconds = SecondsSince(start);
    counters_.phase = 4;
    return Status::OK();
  }
  store.reset();
  SFB_RETURN_IF_ERROR(RemoveAll(spill_dir));

  // Phase 3: metadata, then move into place (without the journal: the savepoint is complete).
  counters_.phase = 3;
  schemas.SetNewSchemaListener(nullptr);
  journal.reset();
  SFB_RETURN_IF_ERROR(RemoveAll(staged->path() + "/" + kRunJournalFile));
  SavepointMetadata metadata;
  OperatorStateMeta op;
  op.id = OperatorIdFromUid(kFunctionsOperatorUid);
  op.parallelism = parallelism_;
  op.max_parallelism = max_parallelism_;
  for (int i = 0; i < parallelism_; ++i) {
    SubtaskBuildResult& r = results[static_cast<size_t>(i)];
    SubtaskState st;
    st.index = i;
    st.has_keyed_state = true;
    st.keyed.start_key_group = r.start_key_group;
    st.keyed.offsets = std::move(r.offsets);
    st.keyed.stream.type = StreamHandle::Type::kRelativeFile;
    st.keyed.stream.path = "keyed-state-functions-" + std::to_string(i);
    st.keyed.stream.size = static_cast<int64_t>(r.file_bytes);
    op.subtasks.push_back(std::move(st));
    summary_.addresses += r.addresses;
    summary_.bytes += r.file_bytes;
  }
  metadata.operators.push_back(std::move(op));
  if (base) SFB_RETURN_IF_ERROR(CarryOverOperators(*base, staged->path(), &metadata));
  for (const auto& in : inputs_) {
    summary_.sources.push_back({{"name", in.name}, {"provenance", in.source->Provenance()}});
  }
  {
    nlohmann::ordered_json prov;
    prov["tool"] = "statefun-bootstrap";
    prov["format"] = "flink-1.16-canonical-savepoint";
    prov["operator_uid"] = kFunctionsOperatorUid;
    prov["max_parallelism"] = max_parallelism_;
    prov["parallelism"] = parallelism_;
    prov["ttl_timestamp"] = ttl_timestamp;
    prov["created_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    prov["records_read"] = counters_.records_read.load();
    prov["records_routed"] = counters_.records_forwarded.load();
    if (dead_letter) {
      prov["records_dead_lettered"] = counters_.records_dead_lettered.load();
      prov["dead_letter"] = dead_letter->path();
    }
    prov["addresses"] = summary_.addresses;
    if (base) prov["base"] = base->directory();
    prov["sources"] = summary_.sources;
    SFB_RETURN_IF_ERROR(WriteStringToFileSynced(staged->path() + "/" + kProvenanceFile, prov.dump(2) + "\n"));
  }
  for (const auto& in : inputs_) {
    for (const auto& [name, contents] : in.source->HandoffFiles()) {
      if (name.empty() || name.find('/') != std::string::npos || name == kProvenanceFile || name == kMetadataFileName) {
        return Status::Internal("source " + in.name + " asked for a handoff file named '" + name + "'");
      }
      SFB_RETURN_IF_ERROR(WriteStringToFileSynced(staged->path() + "/" + name, contents));
    }
  }
  SFB_ASSIGN_OR_RETURN(std::string metadata_bytes, SerializeMetadata(metadata));
  SFB_RETURN_IF_ERROR(WriteStringToFileSynced(staged->path() + "/" + kMetadataFileName, metadata_bytes));
  summary_.bytes += metadata_bytes.size();
  summary_.files = static_cast<uint64_t>(parallelism_) + 1;
  if (cancel_->load()) return Status::Cancelled("interrupted; no savepoint was written");
  if (base) SFB_RETURN_IF_ERROR(base->CheckUnchanged());
  SFB_RETURN_IF_ERROR(staged->Commit());
  summary_.records_read = counters_.records_read;
  summary_.records_forwarded = counters_.records_forwarded;
  summary_.records_dead_lettered = counters_.records_dead_lettered;
  if (dead_letter) summary_.dead_letter_path = dead_letter->path();
  summary_.total_seconds = SecondsSince(start);
  counters_.phase = 4;
  return Status::OK();
}

}  // namespace sfb
