// SchemaRegistryClient: fetches writer schemas by id from a Confluent-compatible schema registry over
// its REST API (Confluent Schema Registry, or another registry's Confluent API such as Apicurio's under
// /apis/ccompat/v7), for keys and values in the registry wire format (registry_wire_format.h).
//
//   GET <url>/schemas/ids/<id>   {"schema": "<schema text>", "schemaType": "AVRO"|"PROTOBUF"|"JSON", ...}
//                                (no schemaType: AVRO); 404 when the registry does not know the id
//   GET <url>/subjects/<subject>/versions/<version>
//                                {"id": 7, "schema": "...", "schemaType": ..., "references": [...]}: a schema
//                                another one imports (Protobuf `references`), or a pinned reader schema;
//                                <version> "latest" for kLatestSchemaVersion
//   GET <url>/subjects/<subject>/versions   [1, 2, 3]: what a subject has (to say so when a pin is missing)
//   GET <url>/subjects           ["users-value", ...]: what Check() asks (answers when the registry is up
//                                and lets us in), and what Subjects() lists
//
// A schema may list references, {"name": "common.proto", "subject": "common.proto", "version": 1}: the
// schemas it imports by name, each the given version of a subject.
//
// Each id is fetched once per client (a run): the answer, or the registry's "not found", is kept. A
// client is shared by the reader threads of a source; requests are serialised (a topic has few ids).
// URLs are tried in order; the next one is tried when one cannot be reached or answers 5xx. Credentials
// (basic.auth.user.info, or user:password@ in a url) are sent, never put in a message.

#ifndef SFB_CONNECTORS_KAFKA_SCHEMA_REGISTRY_CLIENT_H_
#define SFB_CONNECTORS_KAFKA_SCHEMA_REGISTRY_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/kafka_config.h"

namespace sfb {

// A schema another schema imports: `name` is how the importer names it (a Protobuf import path).
struct RegistryReference {
  std::string name;
  std::string subject;
  int32_t version = 0;
};

struct RegistrySchema {
  int32_t id = 0;
  std::string type;  // AVRO, PROTOBUF or JSON
  std::string text;  // the schema as the registry gives it
  std::vector<RegistryReference> references;
};

// Where writer schemas are looked up by id (the registry client; tests give their own).
class SchemaSource {
 public:
  virtual ~SchemaSource() = default;
  // NotFound when no schema has this id; other errors when the source cannot say.
  virtual Result<std::shared_ptr<const RegistrySchema>> SchemaById(int32_t id) = 0;
  // A version of a subject (what a reference names). NotFound when there is no such version.
  // `version` may be kLatestSchemaVersion (kafka_config.h).
  virtual Result<std::shared_ptr<const RegistrySchema>> SchemaByVersion(const std::string& subject,
                                                                        int32_t version) = 0;
  // What the source has, for messages about a subject or version it does not have: its subjects, and a
  // subject's versions (NotFound when there is no such subject).
  virtual Result<std::vector<std::string>> Subjects() = 0;
  virtual Result<std::vector<int32_t>> Versions(const std::string& subject) = 0;
};

class SchemaRegistryClient final : public SchemaSource {
 public:
  explicit SchemaRegistryClient(SchemaRegistryConfig config);
  ~SchemaRegistryClient() override;
  SchemaRegistryClient(const SchemaRegistryClient&) = delete;
  SchemaRegistryClient& operator=(const SchemaRegistryClient&) = delete;

  // The schema with this id. NotFound when the registry does not know it; IoError when no url answers,
  // the registry refuses the credentials (401/403) or answers something that is not a schema.
  Result<std::shared_ptr<const RegistrySchema>> SchemaById(int32_t id) override;
  // Fetched once per (subject, version), like ids.
  Result<std::shared_ptr<const RegistrySchema>> SchemaByVersion(const std::string& subject, int32_t version) override;
  // Asked each time (only when a message needs them).
  Result<std::vector<std::string>> Subjects() override;
  Result<std::vector<int32_t>> Versions(const std::string& subject) override;
  // Whether the registry answers and accepts the credentials (validate --connect).
  Status Check();
  // Requests sent so far (each id once).
  int requests() const;

  // `url` without user:password@ (for messages).
  static std::string Redacted(const std::string& url);

 private:
  struct Reply {
    long status = 0;
    std::string body;
    std::string url;  // redacted, the one that answered
  };
  Result<Reply> Get(const std::string& path);
  // GET `path` expecting 200 and a JSON body; NotFound for a 404 (`what_is_missing` says what was asked).
  Result<std::string> GetJson(const std::string& path, const std::string& what_is_missing);
  // GET `path`, its answer read as a schema. `what_is_missing` says, in a 404's message, what was asked.
  Result<std::shared_ptr<const RegistrySchema>> FetchSchema(const std::string& path, int32_t id,
                                                            const std::string& what_is_missing);

  const SchemaRegistryConfig config_;
  mutable std::mutex mu_;
  std::map<int32_t, Result<std::shared_ptr<const RegistrySchema>>> cache_;
  std::map<std::pair<std::string, int32_t>, Result<std::shared_ptr<const RegistrySchema>>> versions_;
  int requests_ = 0;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_SCHEMA_REGISTRY_CLIENT_H_
