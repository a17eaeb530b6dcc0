// RegistryProtobufDecoder: a Kafka key or value in the schema registry wire format with a Protobuf payload
// (Confluent's KafkaProtobufSerializer, confluent-kafka's ProtobufSerializer) -> record fields.
//
//   byte 0       magic 0
//   bytes 1..4   the writer schema's id: a .proto file in the registry
//   then         the message-index list (protobuf_message_indexes.h): which message of that file
//   then         the serialized message
//
// Each schema id's file is fetched once, with the files it imports (the schema's `references`, each a
// version of a subject, fetched once too; imports of Protobuf's well-known types come from libprotobuf),
// parsed (formats/protobuf_schema_text.h: .proto text or a base64 FileDescriptorProto) and built into a
// DescriptorPool of its own, so a topic whose schema evolved decodes record by record. The message the
// indexes name is decoded as `format: protobuf` with a descriptor set decodes it (protobuf_fields.h):
// the same fields and the same JSON mapping text.
//
// A record the registry cannot explain (no magic byte, an unknown id, a schema that is not Protobuf or
// does not build, indexes that name no message, bytes that are not the message) is a BadRecord naming the
// schema id; a registry that cannot be reached or refuses the credentials is an IoError that fails the
// run. One decoder per reader thread.

#ifndef SFB_CONNECTORS_KAFKA_REGISTRY_PROTOBUF_DECODER_H_
#define SFB_CONNECTORS_KAFKA_REGISTRY_PROTOBUF_DECODER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/protobuf_fields.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/field_sink.h"

namespace google::protobuf {
class DescriptorPool;
class FileDescriptor;
}  // namespace google::protobuf

namespace sfb {

class RegistryProtobufDecoder {
 public:
  explicit RegistryProtobufDecoder(std::shared_ptr<SchemaSource> registry);
  ~RegistryProtobufDecoder();

  // Decodes `bytes` (a key or value, `part` names which): adds the message's fields to `sink` and sets
  // *json to its JSON mapping text.
  Status Decode(std::string_view bytes, std::string_view part, FieldSink* sink, std::string* json);

 private:
  struct MessageParser {
    std::shared_ptr<const ProtobufFields> fields;
    std::unique_ptr<ProtobufFields::Parser> parser;
  };
  // One schema id's file, built once.
  struct File {
    std::shared_ptr<const google::protobuf::DescriptorPool> pool;
    const google::protobuf::FileDescriptor* file = nullptr;
    std::map<std::vector<int>, MessageParser> parsers;  // by message-index path, made on first use
  };
  // The file of schema `id`, or why there is none (kept: each id is looked at once).
  Result<File*> FileFor(int32_t id, std::string_view part);
  Result<File> Build(const RegistrySchema& schema, std::string_view part);
  Result<ProtobufFields::Parser*> ParserFor(File* file, const std::vector<int>& path, int32_t id,
                                            std::string_view part);

  std::shared_ptr<SchemaSource> registry_;
  std::map<int32_t, Result<File>> files_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_REGISTRY_PROTOBUF_DECODER_H_
