// RecordDecoder: one Kafka message -> one Record, the fields routes name (README.md, "Record fields").
//
//   topic        text       the message's topic
//   partition    int
//   offset       int
//   timestamp    int        epoch milliseconds (NULL when the message has none)
//   key          ...        the key as its format gives it (NULL when the message has no key)
//   key.<f>      ...        json/protobuf keys: the key's fields, flattened (key.id, key.region)
//   headers.<h>  text       each header (bytes when not UTF-8; NULL for a null header; the last of
//                           repeated names wins)
//   value        ...        the value: text or bytes for raw, the JSON text of an object (or the JSON
//                           scalar itself) for json, the JSON mapping text for protobuf, the JSON text
//                           of a record (or the Avro scalar itself) for avro; NULL for a tombstone
//   value.<f>    ...        json/protobuf/avro values: the value's fields, flattened (value.address.city)
//
// JSON objects flatten to dotted names with their JSON types (string -> text, integer -> int, other
// numbers -> double, bool, null); arrays stay JSON text. A JSON `null` document is a NULL value, like
// a tombstone. Raw text must be valid UTF-8 (read non-text data with `as: bytes`).
//
// With a FieldSelection (SelectFields), a record holds only the selected fields, plus a key or value
// that is NULL (a tombstone must stay one); JSON members outside it are checked but not built. A
// raw part or JSON object whose own field is only tested for NULL is given as the marker Bool(true)
// instead of a copy of its bytes. When a
// selected field is missing from what that gives, the message is decoded again whole, so whatever
// reports the missing field sees every field the message has.
//
// A decoder is used by one reader thread: it reuses field storage and caches one Schema per distinct
// field list, so homogeneous topics share a single Schema.

#ifndef SFB_CONNECTORS_KAFKA_RECORD_DECODER_H_
#define SFB_CONNECTORS_KAFKA_RECORD_DECODER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/record.h"
#include "common/status.h"
#include "connectors/kafka/avro_schema_file_decoder.h"
#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/protobuf_fields.h"
#include "connectors/kafka/registry_decoder.h"
#include "connectors/kafka/registry_json_decoder.h"
#include "connectors/kafka/registry_protobuf_decoder.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/field_selection.h"

namespace sfb {

// What the decoder needs of a message (librdkafka's rd_kafka_message_t, or test data).
struct KafkaMessageView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;                 // epoch ms; negative: none
  std::optional<std::string_view> key;    // nullopt: no key
  std::optional<std::string_view> value;  // nullopt: a tombstone
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

class RecordDecoder final : private FieldSink {
 public:
  // The protobuf descriptions are required for protobuf formats read with a descriptor set, the registry
  // clients for formats with a registry (null otherwise).
  RecordDecoder(const KafkaFormat& key_format, const KafkaFormat& value_format,
                std::shared_ptr<const ProtobufFields> key_protobuf,
                std::shared_ptr<const ProtobufFields> value_protobuf,
                std::shared_ptr<SchemaSource> key_registry = nullptr,
                std::shared_ptr<SchemaSource> value_registry = nullptr);
  ~RecordDecoder() override;

  // Builds the record for `m`. BadRecord (naming the key or the value, with a hint) when they cannot
  // be decoded; the caller adds the message's location. Other errors (a schema registry that does not
  // answer) fail the run.
  Status Decode(const KafkaMessageView& m, Record* record);
  // Records then hold only the fields `selection` selects (see above); null: every field.
  void SelectFields(std::shared_ptr<const FieldSelection> selection);
  // Gives a consumed record's value storage back for reuse.
  void Recycle(Record* record) { values_ = std::move(record->mutable_values()); }

 private:
  void Add(std::string_view name, Value value) override;
  // How one part (key or value) is decoded: its format and the decoders that format needs.
  struct PartDecoder {
    KafkaFormat format;
    std::unique_ptr<ProtobufFields::Parser> protobuf;  // protobuf with a descriptor set
    std::unique_ptr<RegistryAvroDecoder> avro;         // avro with a registry
    std::unique_ptr<AvroSchemaFileDecoder> avro_file;  // avro with a schema file
    std::unique_ptr<RegistryJsonDecoder> json;         // json with a registry
    std::unique_ptr<RegistryProtobufDecoder> registry_protobuf;  // protobuf with a registry
  };
  void SetUp(PartDecoder* p, const KafkaFormat& format, const ProtobufFields* protobuf,
             std::shared_ptr<SchemaSource> registry);
  // One pass over `m` into names_/values_: with `selection`, only what it selects (see above).
  Status DecodeFields(const KafkaMessageView& m, const FieldSelection* selection);
  // `whole` says whether the part itself (its text, its scalar) is wanted as a field; `marker`, that
  // it is only compared with NULL (a raw part or JSON object is then given as Bool(true)).
  Status DecodePart(PartDecoder& p, std::string_view part, std::optional<std::string_view> bytes,
                    const FieldSelection* selection, bool whole, bool marker);
  Status DecodeJson(std::string_view bytes, std::string_view part, const FieldSelection* selection, bool whole,
                    bool marker);
  // The Schema for the current field list, cached. `keep` (when not empty) lists, per schema field,
  // which of the decoded values it takes: a repeated name keeps its first place and its last value.
  struct CachedSchema {
    std::vector<std::string> names;  // as decoded, repeats included
    std::shared_ptr<const Schema> schema;
    std::vector<uint32_t> keep;
    bool has_selected = true;  // every name of selection_ is one of the fields
  };
  const CachedSchema& CurrentSchema();

  std::shared_ptr<const ProtobufFields> key_protobuf_, value_protobuf_;  // outlive the parsers
  PartDecoder key_, value_;
  std::shared_ptr<const FieldSelection> selection_;
  // What selection_ asks of the fields every message gives.
  bool selects_topic_ = true, selects_partition_ = true, selects_offset_ = true, selects_timestamp_ = true;
  bool selects_key_ = true, selects_value_ = true;
  bool key_null_tested_ = false, value_null_tested_ = false;  // the part's own field is only compared with NULL

  void SetName(size_t i, std::string_view name);
  const std::string& NameAt(size_t i) const;  // this record's i-th name (i < count_)
  std::vector<std::string> names_;  // the first count_ are this record's (unless matching_); the rest is reusable storage
  // The first count_ names are those of last_schema_, and were not written into names_.
  bool matching_ = false;
  size_t count_ = 0;
  std::vector<Value> values_;
  std::string path_, json_;

  const CachedSchema* last_schema_ = nullptr;
  std::map<std::string, CachedSchema> schemas_;  // by NUL-joined names
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_RECORD_DECODER_H_
