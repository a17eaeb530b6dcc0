#include "connectors/kafka/handoff.h"

#include <ctime>

namespace sfb {
namespace {

std::string IsoTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A YAML scalar: plain when it is safe, else double-quoted (JSON string syntax is valid YAML).
std::string Yaml(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c == '.' || c == '/';
  }
  return plain ? s : nlohmann::json(s).dump();
}

std::string OrPlaceholder(const std::string& value, const std::string& placeholder) {
  return value.empty() ? placeholder : value;
}

}  // namespace

std::string IngressSnippetFileName(const std::string& source_name) {
  std::string safe;
  for (char c : source_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    safe.push_back(ok ? c : '_');
  }
  return "kafka-ingress-" + safe + ".yaml";
}

std::string IngressSnippet(const KafkaSourceConfig& c, const KafkaReadPlan& plan) {
  const bool complete = !c.ingress.id.empty() && !c.ingress.consumer_group_id.empty() && !c.ingress.value_type.empty() &&
                        !c.ingress.targets.empty();
  std::string y;
  y += "# module.yaml ingress continuing where statefun-bootstrap stopped reading source " + Yaml(c.source_name) + ".\n";
  y += "# Every partition starts at the end offset captured when the bootstrap started (" + IsoTime(plan.captured_at_ms) +
       "):\n";
  y += "# records before it are in the savepoint's state, records from it on are for the application.\n";
  if (!complete) {
    y += "# Replace the CHANGE-ME values (or set them under the source's ingress: key in the job file).\n";
  }
  y += "# Client security settings are not copied here: add your own under properties.\n";
  y += "kind: io.statefun.kafka.v1/ingress\n";
  y += "spec:\n";
  y += "  id: " + Yaml(OrPlaceholder(c.ingress.id, "CHANGE-ME/" + c.source_name)) + "\n";
  y += "  address: " + Yaml(c.brokers) + "\n";
  y += "  consumerGroupId: " + Yaml(OrPlaceholder(c.ingress.consumer_group_id, "CHANGE-ME")) + "\n";
  y += "  startupPosition:\n";
  y += "    type: specific-offsets\n";
  y += "    offsets:\n";
  for (const auto& p : plan.partitions) {
    y += "      - " + nlohmann::json(p.topic + "/" + std::to_string(p.partition)).dump() + ": " + std::to_string(p.end) + "\n";
  }
  y += "  topics:\n";
  for (const auto& t : plan.topics) {
    y += "    - topic: " + Yaml(t) + "\n";
    y += "      valueType: " + Yaml(OrPlaceholder(c.ingress.value_type, "CHANGE-ME/ValueType")) + "\n";
    y += "      targets:\n";
    if (c.ingress.targets.empty()) y += "        - CHANGE-ME/function\n";
    for (const auto& target : c.ingress.targets) y += "        - " + Yaml(target) + "\n";
  }
  if (c.read_committed) {
    y += "  properties:\n";
    y += "    - isolation.level: read_committed\n";
  }
  return y;
}

nlohmann::ordered_json KafkaProvenance(const KafkaSourceConfig& c, const KafkaReadPlan& plan, uint64_t messages_read) {
  nlohmann::ordered_json starts = nlohmann::ordered_json::object();
  nlohmann::ordered_json ends = nlohmann::ordered_json::object();
  for (const auto& p : plan.partitions) {
    starts[p.topic][std::to_string(p.partition)] = p.start;
    ends[p.topic][std::to_string(p.partition)] = p.end;
  }
  return {{"connector", "kafka"},
          {"brokers", c.brokers},
          {"isolation", c.read_committed ? "read_committed" : "read_uncommitted"},
          {"captured_at_ms", plan.captured_at_ms},
          {"messages_read", messages_read},
          {"start_offsets", std::move(starts)},
          {"end_offsets", std::move(ends)},
          {"ingress_snippet", IngressSnippetFileName(c.source_name)}};
}

}  // namespace sfb
