// PinnedReaderSchema: the Avro reader schema a job pins in the schema registry instead of a file
// (`reader_schema: {subject: users-value, version: 3}` or `{version: latest}`; connectors/kafka/README.md),
// fetched (GET <url>/subjects/<subject>/versions/<version>) and compiled. It is then the reader schema
// exactly as a `reader_schema: file.avsc` is: every writer schema is projected onto it
// (formats/avro_resolution.h).
//
// Which subject: the one given; else by the registry's subject_name_strategy, `topic` (the default,
// "<topic>-value" / "<topic>-key", known when the job is read, so fetched when the source is prepared,
// before any record is read) or `record` (each writer schema's record full name, as Confluent's
// deserializers do with use.latest.version: known only from the writer schema, so fetched at the first
// record of each writer record name, registry_decoder.h).
//
// Only Avro is projected onto a reader schema: a pinned schema of another type is an error.

#ifndef SFB_CONNECTORS_KAFKA_PINNED_READER_SCHEMA_H_
#define SFB_CONNECTORS_KAFKA_PINNED_READER_SCHEMA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/avro_fields.h"

namespace sfb {

struct PinnedReaderSchema {
  std::shared_ptr<const AvroSchema> schema;
  std::string name;  // for messages: "subject users-value version 3 (schema id 7)"
};

// The Avro schema `version` of `subject` (`part`, "value" or "key", names it in messages). A subject or
// version the registry does not have is an InvalidSpec naming the subject, the version and what the
// registry has (its subjects, or the subject's versions); a schema that is not Avro, or does not
// compile, is an InvalidSpec too. A registry that does not answer or refuses the credentials is the
// client's IoError.
Result<PinnedReaderSchema> FetchPinnedReaderSchema(SchemaSource& registry, const std::string& subject,
                                                   int32_t version, std::string_view part);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_PINNED_READER_SCHEMA_H_
