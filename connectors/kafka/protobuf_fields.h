// ProtobufFields: turns a serialized protobuf message into flat, typed record fields.
//
// Kafka keys and values with `format: protobuf` name a FileDescriptorSet (protoc --include_imports
// --descriptor_set_out=F) and a message type. Each field of the message becomes a record field named
// prefix.field (prefix.outer.inner for nested messages), typed as protobuf knows it: integers -> int
// (uint64 above INT64_MAX -> text), float/double -> double, bool, string -> text, bytes -> bytes, enum ->
// its value's name. Repeated and map fields become one field holding their JSON text (as JSON arrays do
// in the file and json formats). A field that is not set is NULL when protobuf tracks presence for it
// (proto2/optional scalars, oneof members, messages: every leaf of an unset message is NULL), else it
// has its default value, as proto3 defines.
//
// The whole message is also given as its protobuf JSON mapping text (proto field names, defaults
// printed), so "{value}" can fill a codec: json or codec: protobuf state directly.
//
// A ProtobufFields is immutable after Load and shared by reader threads; each thread parses with its
// own Parser.

#ifndef SFB_CONNECTORS_KAFKA_PROTOBUF_FIELDS_H_
#define SFB_CONNECTORS_KAFKA_PROTOBUF_FIELDS_H_

#include <memory>
#include <string>
#include <string_view>

#include "api/record.h"
#include "common/status.h"
#include "formats/field_sink.h"
#include "formats/protobuf_message_type.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace sfb {

class ProtobufFields {
 public:
  static Result<std::shared_ptr<const ProtobufFields>> Load(const std::string& descriptor_set_path,
                                                            const std::string& message_name);
  // For a type loaded another way (a schema registry's schema).
  static std::shared_ptr<const ProtobufFields> ForType(std::unique_ptr<const ProtobufMessageType> type);
  ~ProtobufFields();
  const std::string& message_name() const { return type_->name(); }

  // Per-thread parsing state (a reusable message).
  class Parser {
   public:
    explicit Parser(const ProtobufFields* fields);
    ~Parser();
    // Parses `bytes`; adds one field per message field under `prefix` and sets *json to the JSON
    // mapping text. BadRecord when the bytes are not a valid message of the type.
    Status Parse(std::string_view bytes, std::string_view prefix, FieldSink* sink, std::string* json);

   private:
    const ProtobufFields* fields_;
    std::unique_ptr<google::protobuf::Message> message_;
    std::string name_;  // scratch for nested field names
  };

 private:
  ProtobufFields() = default;
  std::unique_ptr<const ProtobufMessageType> type_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_PROTOBUF_FIELDS_H_
