// SourceDefinition: a source as declared in a job spec — parsed and checked, not yet opened.
//
// Each connector (connectors/file, connectors/postgres, connectors/kafka) parses its own block of the
// spec into a SourceDefinition (connectors/registry.h dispatches on the block's key). The job builder
// asks it for a Source when the job runs, and for a description when printing a plan. Descriptions
// never contain secrets: credentials stay inside the definition.

#ifndef SFB_CONNECTORS_SOURCE_DEFINITION_H_
#define SFB_CONNECTORS_SOURCE_DEFINITION_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/source.h"
#include "common/status.h"

namespace sfb {

class SourceDefinition {
 public:
  virtual ~SourceDefinition() = default;
  // "file", "postgres", "kafka".
  virtual const char* kind() const = 0;
  // True when opening the source contacts a server; `validate` then opens it only with --connect.
  virtual bool remote() const { return false; }
  virtual Result<std::unique_ptr<Source>> Create() const = 0;
  // What the plan shows about the source (kind, path or table or topic, options); no secrets.
  virtual nlohmann::ordered_json Describe() const = 0;
  // Defaults for the routes reading this source, used when a route leaves the key out: the id
  // template ("{key}" for Kafka, as statefun's Kafka ingress addresses by record key) and the
  // delete_when condition ("{value} == null": a Kafka tombstone deletes the states its route sets).
  virtual std::string default_route_id() const { return ""; }
  virtual std::string default_delete_when() const { return ""; }
  // The field a tombstone of this source has as NULL, and whose sub-fields ("value.<f>") it lacks:
  // "value" for a Kafka source that routes tombstones; empty when the source has none. Routes use it to
  // decide what a tombstone can be asked (router/rules.h, "Tombstones").
  virtual std::string tombstone_field() const { return ""; }
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_SOURCE_DEFINITION_H_
