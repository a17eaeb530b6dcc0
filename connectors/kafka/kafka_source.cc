#include "connectors/kafka/kafka_source.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <tuple>

#include "api/dead_letter.h"
#include "common/str_cat.h"
#include "connectors/kafka/handoff.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/pinned_reader_schema.h"
#include "connectors/kafka/record_decoder.h"
#include "formats/field_selection.h"

namespace sfb {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMillis = 100;
constexpr size_t kBatch = 1024;
constexpr uint64_t kProgressBatch = 4096;

// Partition errors no retry can fix: the run fails at once.
bool IsFatalPartitionError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

std::string Seconds(int64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// The message's headers (none when it has none) into *out, as views of librdkafka's storage.
void ReadHeaders(const rd_kafka_message_t* m,
                 std::vector<std::pair<std::string_view, std::optional<std::string_view>>>* out) {
  out->clear();
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out->emplace_back(name, value ? std::optional<std::string_view>(std::string_view(static_cast<const char*>(value), size))
                                  : std::nullopt);
  }
}

// One partition as a reader sees it.
struct ReadState {
  uint32_t index;  // partition number in the plan
  const PartitionRange* range;
  int64_t next;  // the next offset expected
  bool done = false;
  uint64_t unreported_messages = 0;
  int64_t reported_offset;  // offsets advanced so far were reported up to here
};

}  // namespace

KafkaSource::KafkaSource(KafkaSourceConfig config, std::shared_ptr<KafkaPlanBoard> board)
    : config_(std::move(config)), board_(std::move(board)) {}

KafkaSource::~KafkaSource() = default;

Status KafkaSource::LoadFormats() {
  // Registry clients are made here, not per reader: each schema id is then fetched once per run.
  if (config_.key.registry && !key_registry_) {
    key_registry_ = std::make_shared<SchemaRegistryClient>(*config_.key.registry);
  }
  if (config_.value.registry && !value_registry_) {
    value_registry_ = std::make_shared<SchemaRegistryClient>(*config_.value.registry);
  }
  if (config_.key.kind == KafkaFormat::Kind::kProtobuf && !config_.key.registry) {
    SFB_ASSIGN_OR_RETURN(key_protobuf_, ProtobufFields::Load(config_.key.descriptor_set, config_.key.message));
  }
  if (config_.value.kind == KafkaFormat::Kind::kProtobuf && !config_.value.registry) {
    SFB_ASSIGN_OR_RETURN(value_protobuf_, ProtobufFields::Load(config_.value.descriptor_set, config_.value.message));
  }
  return Status::OK();
}

Status KafkaSource::LoadPinnedReaderSchemas() {
  for (auto [format, registry, part] :
       {std::tuple<KafkaFormat*, SchemaRegistryClient*, const char*>{&config_.key, key_registry_.get(), "key"},
        {&config_.value, value_registry_.get(), "value"}}) {
    if (format->avro_reader_version == 0 || format->avro_reader_subject.empty() || format->avro_reader_schema) continue;
    Result<PinnedReaderSchema> pinned =
        FetchPinnedReaderSchema(*registry, format->avro_reader_subject, format->avro_reader_version, part);
    if (!pinned.ok()) {
      Status failed = pinned.status();
      return std::move(failed).WithContext(StrCat("kafka source ", config_.source_name));
    }
    format->avro_reader_schema = std::move(pinned->schema);
    format->avro_reader_schema_path = std::move(pinned->name);
  }
  return Status::OK();
}

Status KafkaSource::Prepare() {
  if (prepared_) return Status::OK();
  SFB_RETURN_IF_ERROR(LoadFormats());
  // The registry is checked with the brokers (validate --connect, run --dry-run): a registry that is
  // down or refuses the credentials fails before anything is read.
  if (key_registry_) {
    SFB_RETURN_IF_ERROR(key_registry_->Check().WithContext(StrCat("kafka source ", config_.source_name, " key")));
  }
  if (value_registry_) {
    SFB_RETURN_IF_ERROR(value_registry_->Check().WithContext(StrCat("kafka source ", config_.source_name, " value")));
  }
  // A reader schema pinned in the registry is fetched once, before anything is read.
  SFB_RETURN_IF_ERROR(LoadPinnedReaderSchemas());
  SFB_ASSIGN_OR_RETURN(std::unique_ptr<KafkaClient> client, KafkaClient::Create(config_));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  SFB_ASSIGN_OR_RETURN(KafkaReadPlan plan, PlanRead(config_, *client, cores));
  Adopt(std::move(plan));
  return Status::OK();
}

nlohmann::ordered_json KafkaSource::ResumeState() const {
  if (!prepared_) return nullptr;
  nlohmann::ordered_json state;
  state["captured_at_ms"] = plan_.captured_at_ms;
  state["topics"] = plan_.topics;
  state["partitions"] = nlohmann::ordered_json::array();
  for (const auto& p : plan_.partitions) state["partitions"].push_back({p.topic, p.partition, p.start, p.end});
  state["splits"] = plan_.splits;
  return state;
}

Status KafkaSource::PrepareToResume(const nlohmann::ordered_json& state) {
  // The interrupted run's captured ranges, not the topic's end now: the resumed run reads exactly what
  // the first one would have, and its handoff offsets are the same.
  KafkaReadPlan plan;
  try {
    plan.captured_at_ms = state.at("captured_at_ms").get<int64_t>();
    plan.topics = state.at("topics").get<std::vector<std::string>>();
    for (const auto& p : state.at("partitions")) {
      plan.partitions.push_back(PartitionRange{p.at(0).get<std::string>(), p.at(1).get<int32_t>(),
                                               p.at(2).get<int64_t>(), p.at(3).get<int64_t>()});
    }
    plan.splits = state.at("splits").get<std::vector<std::vector<uint32_t>>>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("the interrupted run's Kafka read plan is unreadable: ") + e.what());
  }
  for (const auto& split : plan.splits) {
    for (uint32_t i : split) {
      if (i >= plan.partitions.size()) return Status::Corruption("the interrupted run's Kafka read plan is inconsistent");
    }
  }
  prepared_ = false;
  SFB_RETURN_IF_ERROR(LoadFormats());
  SFB_RETURN_IF_ERROR(LoadPinnedReaderSchemas());
  Adopt(std::move(plan));
  return Status::OK();
}

void KafkaSource::Adopt(KafkaReadPlan plan) {
  plan_ = std::move(plan);
  splits_ = plan_.splits;
  // Nothing to read still commits the (unchanged) end offsets when asked to.
  if (splits_.empty() && config_.commit_offsets) splits_.emplace_back();
  topic_of_.clear();
  for (const auto& p : plan_.partitions) {
    topic_of_.push_back(static_cast<size_t>(
        std::find(plan_.topics.begin(), plan_.topics.end(), p.topic) - plan_.topics.begin()));
  }
  progress_ = std::make_unique<KafkaProgress>(config_.source_name, plan_, config_.progress_ms);
  if (board_) {
    std::lock_guard<std::mutex> lock(board_->mu);
    board_->plan = plan_.Describe();
  }
  prepared_ = true;
}

std::string KafkaSource::DescribePosition(uint64_t position) const {
  const uint32_t index = PositionPartition(position);
  const std::string offset = std::to_string(PositionOffset(position));
  if (index >= plan_.partitions.size()) return "position " + std::to_string(position);
  const PartitionRange& p = plan_.partitions[index];
  return "topic " + p.topic + " partition " + std::to_string(p.partition) + " offset " + offset;
}

nlohmann::ordered_json KafkaSource::Provenance() const {
  if (!prepared_) return nullptr;
  return KafkaProvenance(config_, plan_, messages_read_.load());
}

std::vector<std::pair<std::string, std::string>> KafkaSource::HandoffFiles() const {
  if (!prepared_) return {};
  return {{IngressSnippetFileName(config_.source_name), IngressSnippet(config_, plan_)}};
}

KafkaPrefetch KafkaPrefetchFor(uint64_t bytes) {
  KafkaPrefetch p;
  p.messages = static_cast<int64_t>(std::clamp<uint64_t>(bytes / 256, 1000, 10000000));
  p.kbytes = static_cast<int64_t>(std::clamp<uint64_t>(bytes / 2048, 1024, 2097151));
  return p;
}

uint64_t KafkaSource::ReserveReadAhead(uint64_t offered) {
  bool messages_set = false, kbytes_set = false;
  for (const auto& [name, value] : config_.properties) {
    messages_set |= name == "queued.min.messages";
    kbytes_set |= name == "queued.max.messages.kbytes";
  }
  const uint64_t partitions = plan_.partitions.size();
  if (!prepared_ || partitions == 0 || (messages_set && kbytes_set)) return 0;
  const KafkaPrefetch p = KafkaPrefetchFor(offered / partitions);
  if (!messages_set) config_.prefetch_messages = p.messages;
  if (!kbytes_set) config_.prefetch_kbytes = p.kbytes;
  return offered;
}

Status KafkaSource::ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  if (!prepared_ || split >= splits_.size()) return Status::Internal("kafka source read before it was prepared");
  progress_->Start();
  return ReadPartitions(splits_[split], consumer, cancel);
}

Status KafkaSource::ReadPartitions(const std::vector<uint32_t>& indexes, RecordConsumer& consumer,
                                   const std::atomic<bool>& cancel) {
  SFB_ASSIGN_OR_RETURN(std::unique_ptr<KafkaClient> client, KafkaClient::Create(config_));
  rd_kafka_t* rk = client->handle();
  std::vector<ReadState> states;
  for (uint32_t i : indexes) {
    const PartitionRange& r = plan_.partitions[i];
    states.push_back(ReadState{i, &r, r.start, false, 0, r.start});
  }
  if (!states.empty()) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(states.size()));
    for (const auto& s : states) {
      rd_kafka_topic_partition_list_add(list, s.range->topic.c_str(), s.range->partition)->offset = s.range->start;
    }
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::IoError("cannot assign partitions to a Kafka reader: " + KafkaErrorText(err));
    }
  }

  RecordDecoder decoder(config_.key, config_.value, key_protobuf_, value_protobuf_, key_registry_, value_registry_);
  decoder.SelectFields(fields_read_);
  KafkaMessageView view;
  Record record;
  size_t remaining = states.size();
  // (topic handle, partition) -> state; the previous hit is checked first (messages come in runs).
  std::map<std::pair<const void*, int32_t>, ReadState*> by_handle;
  std::pair<const void*, int32_t> last_key{nullptr, -1};
  ReadState* last_state = nullptr;
  auto lookup = [&](const rd_kafka_message_t* m) -> ReadState* {
    if (!m->rkt) return nullptr;
    const std::pair<const void*, int32_t> key{m->rkt, m->partition};
    if (key == last_key) return last_state;
    auto it = by_handle.find(key);
    ReadState* found = nullptr;
    if (it != by_handle.end()) {
      found = it->second;
    } else {
      const char* topic = rd_kafka_topic_name(m->rkt);
      for (auto& s : states) {
        if (s.range->partition == m->partition && s.range->topic == topic) found = &s;
      }
      by_handle[key] = found;
    }
    last_key = key;
    last_state = found;
    return found;
  };
  auto report = [&](ReadState& s) {
    const int64_t reached = s.done ? s.range->end : s.next;
    progress_->Add(topic_of_[s.index], s.unreported_messages, static_cast<uint64_t>(reached - s.reported_offset));
    s.reported_offset = reached;
    s.unreported_messages = 0;
  };
  auto finish = [&](ReadState& s) {
    if (s.done) return;
    s.done = true;
    --remaining;
    report(s);
    // Stop fetching what was produced after the capture.
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, s.range->topic.c_str(), s.range->partition);
    rd_kafka_pause_partitions(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
  };
  auto where = [](const ReadState& s, int64_t offset) {
    return "topic " + s.range->topic + " partition " + std::to_string(s.range->partition) + " offset " +
           std::to_string(offset);
  };

  // Stall detection without a clock read per message: progress only sets `moved`; the clock is read
  // when the reader waits (no message) or sees an error, and restarts there if anything moved since.
  auto last_progress = Clock::now();
  bool moved = false;
  auto check_stall = [&]() -> Status {
    const auto now = Clock::now();
    if (moved) {
      moved = false;
      last_progress = now;
      return Status::OK();
    }
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress).count();
    if (idle < config_.read_timeout_ms) return client->FatalError();
    std::string waiting;
    int shown = 0;
    for (const auto& s : states) {
      if (s.done) continue;
      if (shown++ < 5) {
        waiting += std::string(waiting.empty() ? "" : ", ") + s.range->topic + "/" + std::to_string(s.range->partition) +
                   " at offset " + std::to_string(s.next) + " of " + std::to_string(s.range->end);
      }
    }
    if (shown > 5) waiting += ", and " + std::to_string(shown - 5) + " more";
    const std::string seen = client->RecentErrors();
    return Status::IoError("no data from the Kafka brokers " + config_.brokers + " for " + Seconds(idle) +
                           " while reading " + waiting + (seen.empty() ? "" : "; the client saw: " + seen))
        .WithHint("check that the brokers are up and reachable; the connector retried for read_timeout (" +
                  Seconds(config_.read_timeout_ms) + "): raise it to ride out longer outages");
  };
  uint64_t read = 0;
  // One message or event; the caller destroys it.
  auto handle = [&](const rd_kafka_message_t* m) -> Status {
    ReadState* s = lookup(m);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (s && !s->done && m->offset >= s->range->end) {
        s->next = std::max(s->next, m->offset);
        finish(*s);
      }
      moved = true;
      return Status::OK();
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (!IsFatalPartitionError(m->err)) return check_stall();  // librdkafka retries; read_timeout bounds it
      std::string at = s ? where(*s, s->next) : "";
      if (!s && m->rkt) at = "topic " + std::string(rd_kafka_topic_name(m->rkt)) + " partition " + std::to_string(m->partition);
      Status error = Status::IoError("cannot read " + (at.empty() ? "from Kafka" : at) + ": " + rd_kafka_message_errstr(m));
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return error.WithHint("the records from there on were deleted (retention) after the run started; run again "
                              "to start from what is left, or restore the data");
      }
      return error.WithHint("check the topic still exists and the client is allowed to read it (properties:)");
    }
    if (!s || s->done || m->offset < s->next) return Status::OK();  // not ours, finished, or a repeat after a retry
    if (m->offset >= s->range->end) {
      finish(*s);
      return Status::OK();
    }
    moved = true;
    s->next = m->offset + 1;
    ++s->unreported_messages;
    ++read;
    if (m->payload || config_.tombstones != KafkaSourceConfig::Tombstones::kSkip) {
      view.topic = s->range->topic;
      view.partition = m->partition;
      view.offset = m->offset;
      rd_kafka_timestamp_type_t ts_type;
      view.timestamp = rd_kafka_message_timestamp(m, &ts_type);
      view.key = m->key ? std::optional<std::string_view>(std::string_view(static_cast<const char*>(m->key), m->key_len))
                        : std::nullopt;
      view.value = m->payload ? std::optional<std::string_view>(
                                    std::string_view(static_cast<const char*>(m->payload), m->len))
                              : std::nullopt;
      // Parsing a message's headers costs librdkafka about 900 instructions even when there are none.
      if (read_headers_) ReadHeaders(m, &view.headers);
      Status decoded = decoder.Decode(view, &record);
      if (!decoded.ok() && decoded.code() != Status::Code::kBadRecord) {
        return decoded.WithContext(where(*s, m->offset));  // e.g. the schema registry is gone: fails the run
      }
      if (!decoded.ok()) {
        if (!read_headers_) ReadHeaders(m, &view.headers);  // the dead letter keeps the whole message
        nlohmann::ordered_json raw;
        raw["topic"] = view.topic;
        raw["partition"] = view.partition;
        raw["offset"] = view.offset;
        raw["timestamp"] = view.timestamp;
        raw["key"] = view.key ? JsonBytes(*view.key) : nlohmann::ordered_json(nullptr);
        raw["value"] = view.value ? JsonBytes(*view.value) : nlohmann::ordered_json(nullptr);
        if (!view.headers.empty()) {
          raw["headers"] = nlohmann::ordered_json::array();
          for (const auto& [name, bytes] : view.headers) {
            raw["headers"].push_back({{"name", name}, {"value", bytes ? JsonBytes(*bytes) : nlohmann::ordered_json(nullptr)}});
          }
        }
        if (!read_headers_) view.headers.clear();  // the next record is decoded without them
        Status rejected = consumer.Reject(EncodePosition(s->index, m->offset),
                                          std::move(decoded.WithContext(where(*s, m->offset))), raw);
        if (!rejected.ok()) return rejected;
      } else {
        Status consumed = consumer.Consume(record, EncodePosition(s->index, m->offset));
        decoder.Recycle(&record);
        if (!consumed.ok()) {
          return consumed.code() == Status::Code::kCancelled ? consumed : consumed.WithContext(where(*s, m->offset));
        }
      }
    }
    if (s->next >= s->range->end) {
      finish(*s);
    } else if (s->unreported_messages >= kProgressBatch) {
      report(*s);
    }
    return Status::OK();
  };

  // Messages come in batches from the client's queue (one clock read and lock round per batch).
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(kBatch);
  Status status;
  while (remaining > 0 && status.ok()) {
    if (cancel.load(std::memory_order_relaxed)) {
      status = Status::Cancelled("interrupted");
      break;
    }
    const ssize_t n = rd_kafka_consume_batch_queue(queue, kPollMillis, batch.data(), batch.size());
    if (n < 0) {
      status = Status::IoError(std::string("cannot consume from Kafka: ") + KafkaErrorText(rd_kafka_last_error()));
    } else if (n == 0) {
      status = check_stall();
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (status.ok()) status = handle(batch[static_cast<size_t>(i)]);
      rd_kafka_message_destroy(batch[static_cast<size_t>(i)]);
    }
  }
  rd_kafka_queue_destroy(queue);
  messages_read_.fetch_add(read);
  for (auto& s : states) {
    if (!s.done) report(s);
  }
  if (!status.ok()) {
    progress_->Stop();  // the run ends: no more progress lines around its error message
    return status;
  }
  // The last reader to finish (all others succeeded) ends progress and commits when asked.
  if (splits_done_.fetch_add(1) + 1 == splits_.size()) {
    progress_->Stop();
    if (config_.commit_offsets) SFB_RETURN_IF_ERROR(CommitEndOffsets(*client));
  }
  return Status::OK();
}

Status KafkaSource::CommitEndOffsets(KafkaClient& client) const {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(plan_.partitions.size()));
  for (const auto& p : plan_.partitions) {
    rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.end;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(client.handle(), list, /*async=*/0);
  std::string failed;
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = list->elems[i].err;
      failed = std::string(" (topic ") + list->elems[i].topic + " partition " + std::to_string(list->elems[i].partition) + ")";
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  return Status::IoError("cannot commit the end offsets to consumer group " + config_.group_id + failed + ": " +
                         KafkaErrorText(err))
      .WithHint("the group must not have active members while the bootstrap commits; or drop commit_offsets and use "
                "the specific-offsets ingress snippet");
}

void KafkaSource::set_fields_read(const std::vector<std::string>& fields) {
  // Only names this connector always gives rule headers out: any other name (headers.h, or a typo whose
  // error may suggest a header's name) keeps them.
  auto without_headers = [](std::string_view f) {
    for (std::string_view part : {"key", "value"}) {
      if (f == part || (f.size() > part.size() && f.substr(0, part.size()) == part && f[part.size()] == '.')) return true;
    }
    return f == "topic" || f == "partition" || f == "offset" || f == "timestamp";
  };
  read_headers_ = !std::all_of(fields.begin(), fields.end(), without_headers);
  fields_read_ = std::make_shared<const FieldSelection>(fields);
}

void KafkaSource::set_fields_only_null_tested(const std::vector<std::string>& fields) {
  if (fields_read_) fields_read_ = std::make_shared<const FieldSelection>(fields_read_->names(), fields);
}

}  // namespace sfb
