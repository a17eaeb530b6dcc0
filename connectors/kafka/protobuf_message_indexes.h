// The message-index list of the schema registry wire format for Protobuf: which message of the writer's
// .proto file a Kafka key or value is. It follows the 5-byte header (registry_wire_format.h):
//
//   count        zigzag varint: how many indexes follow
//   index...     zigzag varints: the message's position among the file's top-level messages, then among
//                that message's nested messages, and so on ([1, 0]: the first message nested in the
//                file's second message)
//   payload      the serialized message
//
// A single 0 byte (count 0) is short for [0], the file's first message, the most common case.

#ifndef SFB_CONNECTORS_KAFKA_PROTOBUF_MESSAGE_INDEXES_H_
#define SFB_CONNECTORS_KAFKA_PROTOBUF_MESSAGE_INDEXES_H_

#include <string_view>
#include <vector>

#include "common/status.h"

namespace sfb {

struct ProtobufMessageIndexes {
  std::vector<int> path;    // never empty
  std::string_view payload;  // views the bytes given
};

// Reads the index list at the start of `bytes` (the payload after the registry header). BadRecord when a
// varint is cut off or too long, the count is negative or more than kMaxProtobufNesting, or an index is
// negative.
Result<ProtobufMessageIndexes> ParseProtobufMessageIndexes(std::string_view bytes);

// Deeper nesting than this is not a real schema (protoc itself limits nesting far below it).
constexpr int kMaxProtobufNesting = 100;

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_PROTOBUF_MESSAGE_INDEXES_H_
