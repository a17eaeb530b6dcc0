#include "connectors/kafka/protobuf_message_indexes.h"

#include <cstdint>
#include <string>

#include "common/str_cat.h"

namespace sfb {
namespace {

// A zigzag varint at `*at`, advanced past it. False when the bytes end inside it or it runs past 10 bytes.
bool ReadZigzag(std::string_view bytes, size_t* at, int64_t* out) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*at >= bytes.size()) return false;
    const auto b = static_cast<uint8_t>(bytes[(*at)++]);
    raw |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
      return true;
    }
  }
  return false;
}

Status Malformed(const std::string& why) {
  return Status::BadRecord(StrCat("its Protobuf message-index list is malformed: ", why))
      .WithHint("the producer must use a schema registry Protobuf serializer (header, message indexes, message)");
}

}  // namespace

Result<ProtobufMessageIndexes> ParseProtobufMessageIndexes(std::string_view bytes) {
  size_t at = 0;
  int64_t count = 0;
  if (!ReadZigzag(bytes, &at, &count)) {
    return Malformed(bytes.empty() ? "there are no bytes after the schema id" : "the count is not a complete varint");
  }
  if (count < 0 || count > kMaxProtobufNesting) {
    return Malformed(StrCat("the count is ", std::to_string(count), " (0 to ", std::to_string(kMaxProtobufNesting),
                            " expected)"));
  }
  ProtobufMessageIndexes out;
  if (count == 0) out.path.push_back(0);  // the short form of [0]
  for (int64_t i = 0; i < count; ++i) {
    int64_t index = 0;
    if (!ReadZigzag(bytes, &at, &index)) {
      return Malformed(StrCat("index ", std::to_string(i + 1), " of ", std::to_string(count), " is not a complete varint"));
    }
    if (index < 0 || index > INT32_MAX) {
      return Malformed(StrCat("index ", std::to_string(i + 1), " is ", std::to_string(index)));
    }
    out.path.push_back(static_cast<int>(index));
  }
  out.payload = bytes.substr(at);
  return out;
}

}  // namespace sfb
