// AvroSchemaFileDecoder: a Kafka key or value in Avro written without a schema registry, with the writer
// schema given as a file (`value: {format: avro, schema: user.avsc}`) -> record fields. Two encodings are
// read, told apart message by message:
//
//   single-object   C3 01, the writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian,
//                   formats/avro_canonical_form.h), then the binary datum (Avro's own framing, e.g.
//                   Java's BinaryMessageEncoder)
//   bare datum      the binary datum alone
//
// A message starting C3 01 with the schema file's fingerprint is single-object. One that starts C3 01 with
// another fingerprint is read as a bare datum when it decodes as one to the last byte (a datum may begin
// with those bytes), and is otherwise a BadRecord naming both fingerprints: it was written with another
// schema. Fields are AvroDatumReader's (formats/avro_fields.h). One decoder per reader thread.

#ifndef SFB_CONNECTORS_KAFKA_AVRO_SCHEMA_FILE_DECODER_H_
#define SFB_CONNECTORS_KAFKA_AVRO_SCHEMA_FILE_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "formats/avro_fields.h"
#include "formats/field_sink.h"

namespace sfb {

class AvroSchemaFileDecoder {
 public:
  // `schema_path` names the file in messages; `fingerprint` is its schema's CRC-64-AVRO fingerprint.
  AvroSchemaFileDecoder(std::shared_ptr<const AvroSchema> schema, uint64_t fingerprint, std::string schema_path);

  Status Decode(std::string_view bytes, std::string_view part, FieldSink* sink);

 private:
  AvroDatumReader reader_;
  const uint64_t fingerprint_;
  const std::string schema_path_;
  std::string json_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_AVRO_SCHEMA_FILE_DECODER_H_
