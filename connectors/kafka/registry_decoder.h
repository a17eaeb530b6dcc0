// RegistryAvroDecoder: a Kafka key or value in the schema registry wire format with an Avro payload ->
// record fields. The schema id in each message picks the writer schema, fetched from the registry once
// per run (SchemaRegistryClient) and compiled once per reader thread, so a topic whose schema evolved
// over its history decodes record by record with the schema each record was written with.
//
// Fields are AvroDatumReader's (formats/avro_fields.h) under the part's name ("value", "key").
//
// Errors name the schema id. A message the registry cannot explain (no magic byte, an unknown id, a
// schema that is not Avro, bytes that are not a datum of the schema) is a BadRecord, for the dead-letter
// path; a registry that cannot be reached or refuses the credentials is an IoError that fails the run
// (every later record would fail the same way).

#ifndef SFB_CONNECTORS_KAFKA_REGISTRY_DECODER_H_
#define SFB_CONNECTORS_KAFKA_REGISTRY_DECODER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/avro_fields.h"
#include "formats/field_sink.h"

namespace sfb {

class RegistryAvroDecoder {
 public:
  explicit RegistryAvroDecoder(std::shared_ptr<SchemaSource> registry);
  ~RegistryAvroDecoder();

  // Decodes `bytes` (a key or value, `part` names which) into fields added to `sink`.
  Status Decode(std::string_view bytes, std::string_view part, FieldSink* sink);

 private:
  // The reader for schema `id`, or why there is none (kept: each id is looked at once).
  Result<AvroDatumReader*> ReaderFor(int32_t id, std::string_view part);

  std::shared_ptr<SchemaSource> registry_;
  std::map<int32_t, Result<std::unique_ptr<AvroDatumReader>>> readers_;
  std::string json_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_REGISTRY_DECODER_H_
