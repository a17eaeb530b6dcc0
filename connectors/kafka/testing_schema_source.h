// For tests of the registry formats: an in-memory SchemaSource (schemas by id and by subject/version,
// counting lookups, able to play a registry that is down) and helpers that frame payloads in the schema
// registry wire format (registry_wire_format.h) and wrap them in a Kafka message.

#ifndef SFB_CONNECTORS_KAFKA_TESTING_SCHEMA_SOURCE_H_
#define SFB_CONNECTORS_KAFKA_TESTING_SCHEMA_SOURCE_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/str_cat.h"
#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/schema_registry_client.h"

namespace sfb {

class TestingSchemaSource : public SchemaSource {
 public:
  std::map<int32_t, RegistrySchema> schemas;
  std::map<std::pair<std::string, int32_t>, RegistrySchema> versions;  // (subject, version)
  std::map<int32_t, int> lookups;
  bool down = false;

  Result<std::shared_ptr<const RegistrySchema>> SchemaById(int32_t id) override {
    ++lookups[id];
    if (down) return Status::IoError("the schema registry does not answer (http://r: Connection refused)");
    auto it = schemas.find(id);
    if (it == schemas.end()) {
      return Status::NotFound(StrCat("the schema registry has no schema with id ", std::to_string(id)));
    }
    return std::make_shared<const RegistrySchema>(it->second);
  }
  Result<std::shared_ptr<const RegistrySchema>> SchemaByVersion(const std::string& subject, int32_t version) override {
    if (down) return Status::IoError("the schema registry does not answer (http://r: Connection refused)");
    if (version == kLatestSchemaVersion) {  // the highest version of the subject
      for (auto v = versions.begin(); v != versions.end(); ++v) {
        if (v->first.first == subject) version = std::max(version, v->first.second);
      }
    }
    auto it = versions.find({subject, version});
    if (it == versions.end()) {
      return Status::NotFound(StrCat("the schema registry has no version ", std::to_string(version), " of ", subject));
    }
    return std::make_shared<const RegistrySchema>(it->second);
  }
  Result<std::vector<std::string>> Subjects() override {
    if (down) return Status::IoError("the schema registry does not answer (http://r: Connection refused)");
    std::vector<std::string> out;
    for (const auto& [key, schema] : versions) {
      if (out.empty() || out.back() != key.first) out.push_back(key.first);
    }
    return out;
  }
  Result<std::vector<int32_t>> Versions(const std::string& subject) override {
    if (down) return Status::IoError("the schema registry does not answer (http://r: Connection refused)");
    std::vector<int32_t> out;
    for (const auto& [key, schema] : versions) {
      if (key.first == subject) out.push_back(key.second);
    }
    if (out.empty()) return Status::NotFound(StrCat("the schema registry has no subject ", subject));
    return out;
  }
};

// magic 0, the id big-endian, the payload.
inline std::string RegistryFramed(int32_t id, const std::string& payload) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<uint32_t>(id) >> shift) & 0xff));
  }
  out.append(payload);
  return out;
}

// A message of topic "users", partition 1, key "u1". `value` must outlive the view.
inline KafkaMessageView TestingMessage(const std::string& value, int64_t offset) {
  KafkaMessageView m;
  m.topic = "users";
  m.partition = 1;
  m.offset = offset;
  m.key = "u1";
  m.value = value;
  return m;
}

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_TESTING_SCHEMA_SOURCE_H_
