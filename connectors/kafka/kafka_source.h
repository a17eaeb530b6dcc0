// KafkaSource: replays Kafka topics, bounded by the end offsets captured when the run starts.
//
// Prepare connects, lists the topics and captures every partition's offset range (kafka_plan.h).
// Each split is a group of partitions read by one client that is assigned the partitions at their
// start offsets, reads until every partition reached its captured end, and pauses a partition once it
// is done, so records produced meanwhile are never read. A partition is done at the first record at
// or past its end, or at a partition-end event at or past it (compaction and transaction markers leave
// offset gaps, so the last offset before the end may never arrive as a record).
//
// Faults: librdkafka retries connections and leader changes on its own; a reader that makes no progress
// for read_timeout fails the run naming the partitions it waits for and what the client saw. Offsets
// that vanished (retention) and topics that disappear fail at once. A failed read fails the run, and
// the savepoint is then not written.
//
// Records (record_decoder.h) carry positions (partition number << 48 | offset), so the output does not
// depend on how partitions are spread over splits and threads.

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/source.h"
#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_plan.h"
#include "connectors/kafka/kafka_progress.h"
#include "connectors/kafka/protobuf_fields.h"
#include "connectors/kafka/schema_registry_client.h"

namespace sfb {

// Not part of the installed C++ API: only held here (formats/field_selection.h).
class FieldSelection;

class KafkaClient;

// Where a source posts its captured plan, so the definition that created it can show the plan
// (validate --connect) without owning the source.
struct KafkaPlanBoard {
  std::mutex mu;
  nlohmann::ordered_json plan;  // null until a source is prepared
};

// A partition's prefetch bounds for a share of memory. librdkafka's queue stops at whichever binds first:
// `messages` (at 256 bytes each) or `kbytes` of keys and values (half the share). A queued message costs
// its key and value plus ~90 bytes (bench/kafka: 120 to 175 bytes for ~85 bytes of payload), so either
// way the queue holds at most ~0.85 of the share, plus one fetch (fetch.message.max.bytes) it may
// overshoot by. Floors of 1,000 messages and 1 MB keep a tiny share readable; librdkafka's ceilings
// (10M messages, 2097151 KB) cap a large one.
struct KafkaPrefetch {
  int64_t messages = 0;
  int64_t kbytes = 0;
};
KafkaPrefetch KafkaPrefetchFor(uint64_t bytes);

class KafkaSource : public Source {
 public:
  explicit KafkaSource(KafkaSourceConfig config, std::shared_ptr<KafkaPlanBoard> board = nullptr);
  ~KafkaSource() override;

  Status Prepare() override;
  size_t num_splits() const override { return splits_.size(); }
  Status ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) override;
  // "topic visits partition 3 offset 991"
  std::string DescribePosition(uint64_t position) const override;
  uint64_t estimated_size() const override { return plan_.total_offsets(); }
  nlohmann::ordered_json Provenance() const override;
  std::vector<std::pair<std::string, std::string>> HandoffFiles() const override;
  nlohmann::ordered_json ResumeState() const override;
  Status PrepareToResume(const nlohmann::ordered_json& state) override;
  // When every field named is topic, partition, offset, timestamp, key[.f] or value[.f], messages'
  // headers are not read (rd_kafka_message_headers costs ~900 instructions per message, even for a
  // message without headers); a message that cannot be decoded still has them in its dead letter.
  void set_fields_read(const std::vector<std::string>& fields) override;
  void set_fields_only_null_tested(const std::vector<std::string>& fields) override;
  // Sizes every reader's prefetch queues from `offered` (KafkaPrefetchFor, per partition of the plan),
  // leaving alone a bound set under properties; 0 when properties set both.
  uint64_t ReserveReadAhead(uint64_t offered) override;

  const KafkaReadPlan& plan() const { return plan_; }
  uint64_t messages_read() const { return messages_read_.load(); }

 private:
  Status ReadPartitions(const std::vector<uint32_t>& partitions, RecordConsumer& consumer,
                        const std::atomic<bool>& cancel);
  Status CommitEndOffsets(KafkaClient& client) const;

  KafkaSourceConfig config_;
  std::shared_ptr<KafkaPlanBoard> board_;
  std::shared_ptr<const ProtobufFields> key_protobuf_, value_protobuf_;
  std::shared_ptr<SchemaRegistryClient> key_registry_, value_registry_;
  // The protobuf descriptions and schema registry clients the key and value formats need, if any.
  Status LoadFormats();
  // Fetches a reader schema pinned to a subject (`reader_schema: {subject:, version:}`) into the format's
  // avro_reader_schema, so readers use it as a reader schema file (pinned_reader_schema.h).
  Status LoadPinnedReaderSchemas();
  // Takes `plan` as what this source reads.
  void Adopt(KafkaReadPlan plan);
  KafkaReadPlan plan_;
  bool prepared_ = false;
  std::vector<std::vector<uint32_t>> splits_;  // plan_.splits, plus one empty split to commit when nothing is read
  std::vector<size_t> topic_of_;               // partition number -> index in plan_.topics
  std::unique_ptr<KafkaProgress> progress_;
  std::atomic<uint64_t> messages_read_{0};
  std::atomic<size_t> splits_done_{0};
  std::shared_ptr<const FieldSelection> fields_read_;  // null: every field (set_fields_read never called)
  bool read_headers_ = true;  // false once set_fields_read() names no headers.* field
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_H_
