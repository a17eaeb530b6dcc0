// KafkaSourceConfig: a `kafka:` source block of a job spec, parsed and checked (kafka_source_spec.cc),
// not yet connected. connectors/kafka/README.md documents every key for users.
//
// The config holds the client properties as given (after ${ENV} expansion), so it may hold secrets
// (sasl.password, ssl.key.password, ...). Nothing that prints, describes or records a source reads
// `properties` values: they go to librdkafka only.

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_CONFIG_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_CONFIG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sfb {

class AvroSchema;  // formats/avro_fields.h

// Where a format's writer schemas come from: a Confluent-compatible schema registry (the `registry:` key of a
// key or value format; schema_registry_client.h). Holds the credentials: nothing prints basic_auth_user_info.
struct SchemaRegistryConfig {
  std::vector<std::string> urls;      // tried in order; each may carry a path (".../apis/ccompat/v7")
  std::string basic_auth_user_info;   // "user:password" for HTTP basic auth, or empty. A secret.
  int64_t timeout_ms = 10000;         // per request
  std::string ssl_ca_location;        // PEM bundle to verify the registry's certificate (default: the system's)
  std::string ssl_certificate_location, ssl_key_location;  // client certificate and key (PEM), for mutual TLS
  // subject_name_strategy: which subject a pinned reader schema (`reader_schema: {version: ...}`) without a
  // `subject` is in. topic (TopicNameStrategy): "<topic>-value" / "<topic>-key"; record
  // (RecordNameStrategy): the full name of each writer schema's record (namespace.name).
  bool record_name_strategy = false;
};

// A pinned reader schema's version meaning the subject's newest (GET .../versions/latest).
constexpr int32_t kLatestSchemaVersion = -1;

// A schema version as the registry's paths and our messages spell it: "3", or "latest".
inline std::string SchemaVersionText(int32_t version) {
  return version == kLatestSchemaVersion ? "latest" : std::to_string(version);
}

// How the bytes of a record key or value become record fields (record_decoder.h).
struct KafkaFormat {
  enum class Kind { kRaw, kJson, kProtobuf, kAvro };
  Kind kind = Kind::kRaw;
  bool raw_bytes = false;      // raw: bytes as they are, instead of UTF-8 text
  std::string descriptor_set;  // protobuf: FileDescriptorSet path (protoc --include_imports)
  std::string message;         // protobuf: full message name
  // avro, protobuf, json: the registry the schema id in each message refers to (the registry wire format).
  std::shared_ptr<const SchemaRegistryConfig> registry;
  // avro without a registry: the writer schema from a file (`schema:`), compiled when the spec is read,
  // and its CRC-64-AVRO fingerprint (what single-object encoded messages carry).
  std::string avro_schema_path = {};
  std::shared_ptr<const AvroSchema> avro_schema = {};
  uint64_t avro_fingerprint = 0;
  // avro with a registry: the reader schema (`reader_schema:`) every writer schema is projected onto,
  // with the reader's defaults for fields a writer lacks (formats/avro_resolution.h); null: none.
  std::string avro_reader_schema_path = {};
  std::shared_ptr<const AvroSchema> avro_reader_schema = {};
  // avro with a registry: a reader schema pinned in the registry (`reader_schema: {subject: S, version: V}`)
  // instead of a file. Version 0: none pinned; kLatestSchemaVersion: the subject's latest. A pinned subject
  // (given, or "<topic>-value" by the topic strategy) is fetched when the source is prepared, before any
  // record is read, and becomes avro_reader_schema (avro_reader_schema_path then names the subject and
  // version). An empty subject with the record strategy: each writer schema's record full name is the
  // subject, fetched at the first record of that name (registry_decoder.h).
  std::string avro_reader_subject = {};
  int32_t avro_reader_version = 0;
};

const char* KafkaFormatName(KafkaFormat::Kind kind);

struct KafkaSourceConfig {
  std::string source_name;  // the job's name for the source ("visits")
  std::string brokers;      // bootstrap.servers

  // Topics in the given order, or a regular expression matched against every topic's full name.
  std::vector<std::string> topics;
  std::string topic_pattern;

  enum class Start { kEarliest, kTimestamp, kOffsets };
  Start start = Start::kEarliest;
  int64_t start_timestamp_ms = 0;
  // topic -> partition -> first offset to read. Every partition of a listed topic needs one.
  std::map<std::string, std::map<int32_t, int64_t>> start_offsets;

  bool read_committed = false;  // isolation.level; the end is then the last stable offset

  KafkaFormat key{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  KafkaFormat value{KafkaFormat::Kind::kJson, false, "", "", nullptr};

  // A record with a null value: delete (routes get delete_when "{value} == null" by default),
  // skip (never routed), or keep (routed like any record, value null).
  enum class Tombstones { kDelete, kSkip, kKeep };
  Tombstones tombstones = Tombstones::kDelete;

  // librdkafka properties passed through (security settings...). May hold secrets: never printed.
  std::vector<std::pair<std::string, std::string>> properties;

  std::string group_id = "statefun-bootstrap";  // group.id of the readers (no group membership)
  bool commit_offsets = false;                  // commit the end offsets to group_id after reading

  int64_t timeout_ms = 30000;       // connecting, listing topics, querying offsets
  int64_t read_timeout_ms = 60000;  // a reader that makes no progress this long fails
  int readers = 0;                  // partition groups read in parallel; 0: one per core
  int64_t progress_ms = 10000;      // per-topic progress line interval; 0: none

  // Each reader's prefetch per partition (librdkafka's queued.min.messages and
  // queued.max.messages.kbytes), unless properties set them; sized from the run's memory budget by
  // KafkaSource::ReserveReadAhead. 0: the client's default (KafkaClient::Create).
  int64_t prefetch_messages = 0;
  int64_t prefetch_kbytes = 0;

  // Optional names for the module.yaml ingress snippet written at the end (placeholders otherwise).
  struct Ingress {
    std::string id;
    std::string consumer_group_id;
    std::string value_type;
    std::vector<std::string> targets;
  };
  Ingress ingress;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_CONFIG_H_
