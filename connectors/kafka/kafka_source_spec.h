// The `kafka:` block of a job spec's source (connectors/kafka/README.md is the reference):
//
//   visits:
//     kafka:
//       brokers: ${KAFKA_BROKERS}
//       topics: [visits]                 # or topic_pattern: "visits\..*"
//       start: earliest                  # or {timestamp: 2024-05-01T00:00:00Z} or {offsets: {visits: {0: 42}}}
//       value: json                      # json | raw | protobuf | avro, or {format: raw, as: bytes},
//                                        # or {format: avro, registry: {url: ...}} (also protobuf, json)
//                                        # avro with a registry may add reader_schema: user.avsc, or one
//                                        # pinned in it: reader_schema: {subject: S, version: 3|latest}
//       properties: {security.protocol: SASL_SSL, sasl.password: "${KAFKA_PASSWORD}"}
//
// Routes from a kafka source default to id "{key}" and delete_when "{value} == null".

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_SPEC_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_SPEC_H_

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/source_definition.h"
#include "job/spec_node.h"

namespace sfb {

class KafkaSourceDefinition : public SourceDefinition {
 public:
  explicit KafkaSourceDefinition(KafkaSourceConfig config)
      : config_(std::move(config)), board_(std::make_shared<KafkaPlanBoard>()) {}
  const char* kind() const override { return "kafka"; }
  bool remote() const override { return true; }
  Result<std::unique_ptr<Source>> Create() const override;
  // The block's settings (property names only, never values) and, once a source it created was
  // prepared (validate --connect, run), the topics, partitions and offset ranges to read.
  nlohmann::ordered_json Describe() const override;
  std::string default_route_id() const override { return "{key}"; }
  std::string default_delete_when() const override;
  // "value" unless tombstones: skip drops them before routing.
  std::string tombstone_field() const override;
  const KafkaSourceConfig& config() const { return config_; }

 private:
  KafkaSourceConfig config_;
  std::shared_ptr<KafkaPlanBoard> board_;
};

Result<std::unique_ptr<SourceDefinition>> ParseKafkaSourceSpec(const SpecContext& ctx, const std::string& name,
                                                               const YAML::Node& node);

// "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+02:00", "2024-05-01" (UTC midnight) or epoch ms.
Result<int64_t> ParseTimestampMillis(const std::string& text);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_SOURCE_SPEC_H_
