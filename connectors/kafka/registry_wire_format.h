// The schema registry wire format: how Confluent-compatible serializers frame a Kafka key or value.
//
//   byte 0       magic, always 0
//   bytes 1..4   the writer schema's id in the registry, big-endian (signed 32 bit, >= 0 in practice)
//   bytes 5..    the payload: for Avro the binary datum written with that schema; for Protobuf a
//                message-index list first (not read here yet); for JSON Schema the JSON text
//
// A reader takes the id from every message (a topic's schema may change over its history) and fetches
// the schema by id from the registry (schema_registry_client.h).

#ifndef SFB_CONNECTORS_KAFKA_REGISTRY_WIRE_FORMAT_H_
#define SFB_CONNECTORS_KAFKA_REGISTRY_WIRE_FORMAT_H_

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace sfb {

struct RegistryFrame {
  int32_t schema_id = 0;
  std::string_view payload;  // views the framed bytes
};

// Splits `bytes` into schema id and payload. BadRecord when the bytes are shorter than the 5-byte header
// or do not start with the magic byte 0 (a message written without the registry serializer).
Result<RegistryFrame> ParseRegistryFrame(std::string_view bytes);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_REGISTRY_WIRE_FORMAT_H_
