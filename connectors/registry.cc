#include "connectors/registry.h"

#include "connectors/file/file_source_spec.h"
#include "connectors/postgres/postgres_source_spec.h"
#include "connectors/kafka/kafka_source_spec.h"

namespace sfb {

Result<std::unique_ptr<SourceDefinition>> ParseSourceDefinition(const SpecContext& ctx, const std::string& name,
                                                                const YAML::Node& node) {
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(node, "source " + name, {"file", "postgres", "kafka"}));
  if (node.size() != 1) {
    return ctx.Error(node, "source " + name + " must have exactly one connector: file, postgres or kafka");
  }
  const std::string kind = node.begin()->first.as<std::string>();
  const YAML::Node config = node.begin()->second;
  if (kind == "file") return ParseFileSourceSpec(ctx, name, config);
  if (kind == "postgres") return ParsePostgresSourceSpec(ctx, name, config);
  if (kind == "kafka") return ParseKafkaSourceSpec(ctx, name, config);
  return ctx.Error(node, "source " + name + ": the " + kind + " connector is not available in this build yet",
                   "export the data to CSV or JSONL and use a file: source");
}

}  // namespace sfb
