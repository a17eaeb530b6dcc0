// ProtobufSchemaText: a Protobuf schema as schema registries give it -> a FileDescriptorProto, the form a
// DescriptorPool builds types from.
//
// Registries hand out a Protobuf schema in one of two spellings, and a reader must take both:
//   - `.proto` source text (Confluent Schema Registry; Apicurio's Confluent API), parsed here with
//     libprotoc's parser, as protoc would parse the file;
//   - base64 of a serialized FileDescriptorProto (what confluent-kafka's Python serializer registers, and
//     what some registries return as they were given it).
// The text is base64 when it consists of base64 characters only (`.proto` text always has spaces or
// punctuation base64 lacks) and decodes to a FileDescriptorProto.
//
// The result is named `file_name` (the name its importers use); imports stay as written, for the caller
// to resolve (a registry's references).

#ifndef SFB_FORMATS_PROTOBUF_SCHEMA_TEXT_H_
#define SFB_FORMATS_PROTOBUF_SCHEMA_TEXT_H_

#include <string>
#include <string_view>

#include <google/protobuf/descriptor.pb.h>

#include "common/status.h"

namespace sfb {

// InvalidSpec naming the line and column (1-based) of the first syntax error, or why the base64 form
// is not a descriptor.
Result<google::protobuf::FileDescriptorProto> ParseProtobufSchema(std::string_view schema,
                                                                  const std::string& file_name);

}  // namespace sfb

#endif  // SFB_FORMATS_PROTOBUF_SCHEMA_TEXT_H_
