// The handoff from a bootstrap to the live application: where the bootstrap's Kafka data ended.
//
// A kafka source reads every partition up to the end offsets captured when the run started. The
// savepoint holds the state of exactly those records, so the application must consume from exactly
// those offsets on. Two artifacts say so:
//   - the source's provenance (written to the savepoint's statefun-bootstrap.json and printed in the
//     run summary): brokers, topics, start and end offsets per partition, messages read;
//   - a module.yaml ingress snippet (io.statefun.kafka.v1/ingress, startupPosition specific-offsets
//     with the end offsets), written into the savepoint directory as kafka-ingress-<source>.yaml.

#ifndef SFB_CONNECTORS_KAFKA_HANDOFF_H_
#define SFB_CONNECTORS_KAFKA_HANDOFF_H_

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_plan.h"

namespace sfb {

// "kafka-ingress-visits.yaml"
std::string IngressSnippetFileName(const std::string& source_name);

// The module.yaml ingress that continues where the bootstrap stopped. Names the job did not give
// (ingress: id, consumer_group_id, value_type, targets) are CHANGE-ME placeholders.
std::string IngressSnippet(const KafkaSourceConfig& config, const KafkaReadPlan& plan);

// The source's provenance. No client properties: they may hold secrets.
nlohmann::ordered_json KafkaProvenance(const KafkaSourceConfig& config, const KafkaReadPlan& plan,
                                       uint64_t messages_read);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_HANDOFF_H_
