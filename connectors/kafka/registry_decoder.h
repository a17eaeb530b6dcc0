// RegistryAvroDecoder: a Kafka key or value in the schema registry wire format with an Avro payload ->
// record fields. The schema id in each message picks the writer schema, fetched from the registry once
// per run (SchemaRegistryClient) and compiled once per reader thread, so a topic whose schema evolved
// over its history decodes record by record with the schema each record was written with.
//
// Fields are AvroDatumReader's (formats/avro_fields.h) under the part's name ("value", "key").
//
// With a reader schema (`reader_schema: file.avsc`) every writer schema is resolved onto it once per id
// (formats/avro_resolution.h) and each record is projected before it is read, so every record has the
// reader's fields: those its writer lacked carry the reader's defaults. A writer schema the reader
// schema cannot read (a reader field without default that the writer lacks, types that do not
// resolve) fails the run at the first record with that id, naming the id, both schemas and the field.
//
// With a reader schema pinned by record name (`reader_schema: {version: V}` and subject_name_strategy:
// record, pinned_reader_schema.h), the reader schema of a writer schema is version V of the subject named
// by the writer record's full name, fetched once per name and decoder at the first record of that name
// (the registry client keeps each answer, so once per run); a topic holding several record types reads
// each with its own. A name whose subject or version the registry lacks fails the run, as a reader
// schema that cannot read the writer does.
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
#include "formats/avro_resolution.h"
#include "formats/field_sink.h"

namespace sfb {

class RegistryAvroDecoder {
 public:
  // `reader_schema` may be null (each record is read with its writer schema); `reader_schema_name`
  // names it in messages (its file).
  // `version_by_record_name` (0: none) pins the reader schema by record name instead (above); it applies
  // only without a `reader_schema`.
  RegistryAvroDecoder(std::shared_ptr<SchemaSource> registry, std::shared_ptr<const AvroSchema> reader_schema = nullptr,
                      std::string reader_schema_name = "", int32_t version_by_record_name = 0);
  ~RegistryAvroDecoder();

  // Decodes `bytes` (a key or value, `part` names which) into fields added to `sink`.
  Status Decode(std::string_view bytes, std::string_view part, FieldSink* sink);

 private:
  // How records written with schema `id` are read: with their own schema's reader, or (reader schema)
  // resolved onto it.
  struct WriterSchema {
    std::unique_ptr<AvroDatumReader> reader;
    std::unique_ptr<const AvroResolution> resolution;
    AvroDatumReader* projected_reader = nullptr;  // with a resolution: reads the reader schema's datums
  };
  // A reader schema and the reader of its datums.
  struct ReaderSchema {
    std::shared_ptr<const AvroSchema> schema;
    std::string name;  // for messages: a file, or a subject and version
    std::unique_ptr<AvroDatumReader> reader;
  };
  // The reader schema pinned for writer record `record_name` (version_by_record_name_), kept per name.
  Result<ReaderSchema*> ReaderByRecordName(const std::string& record_name, std::string_view part);
  // The entry for schema `id`, or why there is none (kept: each id is looked at once).
  Result<const WriterSchema*> WriterFor(int32_t id, std::string_view part);

  std::shared_ptr<SchemaSource> registry_;
  std::unique_ptr<ReaderSchema> reader_;  // the reader schema given, if any
  int32_t version_by_record_name_ = 0;
  std::map<std::string, Result<std::unique_ptr<ReaderSchema>>> by_record_name_;
  std::map<int32_t, Result<WriterSchema>> writers_;
  std::string json_;
  std::string projected_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_REGISTRY_DECODER_H_
