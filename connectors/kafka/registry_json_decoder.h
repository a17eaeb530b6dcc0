// RegistryJsonDecoder: a Kafka key or value in the schema registry wire format with a JSON Schema payload
// (confluent-kafka's JSONSerializer and its Java and Go peers) -> the JSON text, for the `json` format to
// flatten as it flattens plain JSON.
//
//   byte 0       magic 0
//   bytes 1..4   the writer schema's id, big-endian
//   bytes 5..    the JSON document, UTF-8
//
// The schema is not needed to read the document (JSON describes itself), but its id must be one the
// registry knows and be a JSON Schema: a record written against another registry or with another
// serializer is a BadRecord naming the id, not data silently read. Each id is looked at once per decoder
// (the registry client caches it for the run). A registry that cannot be reached or refuses the
// credentials is an IoError that fails the run.

#ifndef SFB_CONNECTORS_KAFKA_REGISTRY_JSON_DECODER_H_
#define SFB_CONNECTORS_KAFKA_REGISTRY_JSON_DECODER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "connectors/kafka/schema_registry_client.h"

namespace sfb {

class RegistryJsonDecoder {
 public:
  explicit RegistryJsonDecoder(std::shared_ptr<SchemaSource> registry);

  // The JSON document framed in `bytes` (a view into them); `part` ("key", "value") names it in errors.
  Result<std::string_view> Payload(std::string_view bytes, std::string_view part);

 private:
  // OK when `id` is a JSON Schema the registry knows; the BadRecord otherwise (kept per id).
  Status CheckId(int32_t id, std::string_view part);

  std::shared_ptr<SchemaSource> registry_;
  std::map<int32_t, Status> checked_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_REGISTRY_JSON_DECODER_H_
