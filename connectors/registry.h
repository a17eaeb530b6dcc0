// ParseSourceDefinition: the one place that maps a job spec's source block to its connector.
//
//   sources:
//     users:  { file: { ... } }        -> connectors/file
//     orders: { postgres: { ... } }    -> connectors/postgres
//     clicks: { kafka: { ... } }       -> connectors/kafka

#ifndef SFB_CONNECTORS_REGISTRY_H_
#define SFB_CONNECTORS_REGISTRY_H_

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "connectors/source_definition.h"
#include "job/spec_node.h"

namespace sfb {

Result<std::unique_ptr<SourceDefinition>> ParseSourceDefinition(const SpecContext& ctx, const std::string& name,
                                                                const YAML::Node& node);

}  // namespace sfb

#endif  // SFB_CONNECTORS_REGISTRY_H_
