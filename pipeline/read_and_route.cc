#include "pipeline/read_and_route.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/byte_writer.h"
#include "common/java_string.h"
#include "pipeline/parallel.h"
#include "savepoint/entry_json.h"
#include "savepoint/key_groups.h"

namespace sfb {
namespace {

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
    PublishCounts();
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
    if (++unpublished_read_ == kPublishEvery) PublishCounts();
    ++split_.read;
    position_ = position;
    seq_ = 0;
    current_ = &record;
    writer_->BeginRecord();
    Status s = router_->Route(record, *this);
    if (s.ok()) {
      unpublished_forwarded_ += seq_;
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
    // A source's records nearly always go to the function the last one went to: compared by name (a
    // few bytes) rather than hashed into the index.
    if (!has_last_function_ || function_type != last_function_type_) {
      auto it = function_index_->find(function_type);
      if (it == function_index_->end()) {
        return Status::InvalidSpec("a route forwards to function type '" + function_type +
                                   "', which has no bootstrap function")
            .WithHint("declare " + function_type + " under functions: (or register a provider for it)");
      }
      last_function_type_ = function_type;
      last_function_ = it->second;
      has_last_function_ = true;
    }
    const uint16_t function = last_function_;
    if (id.empty()) {
      return Status::BadRecord("the function id for " + function_type + " is empty")
          .WithHint("every record must yield a non-empty id; filter out records without one (where:) or fix the data");
    }
    // The same for the payload's schema. A schema found combinable is a route's, alive for the whole run,
    // so no other schema can meet this cache at its address.
    if (payload.schema_ptr().get() != last_payload_schema_) {
      last_payload_schema_ = payload.schema_ptr().get();
      last_rules_ = combinable_ ? combinable_->Find(last_payload_schema_) : nullptr;
    }
    if (const std::vector<CombineRule>* rules = last_rules_) {
      // Combined (writer/partial_combiner.h): the address is (function, id bytes); its key group and the
      // id's Java form are computed once per address when the partials are flushed, not per record.
      if (!IsValidUtf8(id)) {
        return Status::BadRecord("the function id for " + function_type + " is not valid UTF-8");
      }
      combiner_.Stage(function, id, rules, payload, RecordOrder{source_, position_, seq_++});
      combining_ = true;
      split_combined_ = true;
      return Status::OK();
    }
    int32_t hash;
    id_bytes_.clear();
    if (!PrepareJavaId(id, &id16_, &hash, &id_bytes_)) {
      return Status::BadRecord("the function id for " + function_type + " is not valid UTF-8");
    }
    const int kg = KeyGroupForHash(hash, max_parallelism_);
    key_.clear();
    EncodeStoreKey(&key_, kg, function, id_bytes_, source_, position_, seq_++);
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
    // What the partials hold and the step the next record may add (a doubled table, a new chunk), so
    // the thread flushes before a step would take it past the budget.
    writer_->SetHeldElsewhere(combiner_.memory_bytes() + combiner_.growth_bytes());
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
    auto put = [&](int key_group, std::string_view key, std::string_view value) {
      writer_->Put(key_group, key, value);
      if ((++n & 1023) != 0 || !status.ok()) return;
      writer_->SetHeldElsewhere(combiner_.memory_bytes());
      if (writer_->Reserve()) return;
      status = writer_->Spill();
      if (spilled) *spilled = true;
    };
    combiner_.Flush(flush_id, writer_index_, max_parallelism_, put);
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
  // The live counters every reader thread adds to: added in batches, since an atomic add per record on
  // a cache line the other readers write too costs more than routing a small record.
  static constexpr uint64_t kPublishEvery = 1024;
  void PublishCounts() {
    counters_->records_read.fetch_add(unpublished_read_, std::memory_order_relaxed);
    counters_->records_forwarded.fetch_add(unpublished_forwarded_, std::memory_order_relaxed);
    unpublished_read_ = unpublished_forwarded_ = 0;
  }
  uint64_t unpublished_read_ = 0, unpublished_forwarded_ = 0;
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
  std::string last_function_type_;     // the function of the last forward, and its index
  uint16_t last_function_ = 0;
  bool has_last_function_ = false;
  const Schema* last_payload_schema_ = nullptr;  // the payload schema of the last forward, and its rules
  const std::vector<CombineRule>* last_rules_ = nullptr;
  PartialCombiner combiner_;
  bool combining_ = false;           // a forward was combined: the budget counts the partials
  bool split_combined_ = false;      // a forward of the split being read was combined
  std::string unjournaled_dead_letters_;  // of finished splits that combined (never journaled)
  uint32_t writer_index_;
  uint64_t next_flush_id_;
};

}  // namespace

Status ReadAndRoute(const ReadAndRouteJob& job) {
  FirstError read_error;
  std::mutex commit_mu;
  std::vector<std::unique_ptr<RoutingConsumer>> consumers;
  for (int i = 0; i < job.threads; ++i) {
    consumers.push_back(std::make_unique<RoutingConsumer>(
        job.entries->writer(i), job.schemas, job.function_index, job.max_parallelism, job.counters, job.cancel,
        job.dead_letter, job.journal, &commit_mu, job.combinable, static_cast<uint32_t>(i), job.flush_nonce));
  }
  {
    // The user's interrupt stops the sources too: a source waiting on a server (a long query) sees
    // the stop flag it was given, not the consumers' check of the interrupt flag on each record.
    std::mutex relay_mu;
    std::condition_variable relay_cv;
    bool reading_done = false;
    std::thread relay([&] {
      std::unique_lock<std::mutex> lock(relay_mu);
      while (!relay_cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return reading_done; })) {
        if (job.cancel->load()) {
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
    RunParallel(job.tasks.size(), job.threads, &read_error, [&](size_t t, size_t worker) -> Status {
      RoutingConsumer* consumer = consumers[worker].get();
      const SplitTask& task = job.tasks[t];
      const SourceInput& in = (*job.inputs)[task.input];
      consumer->StartSplit(task.input, task.split, &in.name, in.source, in.router);
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
  return read_error.Get();
}

}  // namespace sfb
