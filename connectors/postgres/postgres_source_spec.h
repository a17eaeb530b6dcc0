// The `postgres:` block of a job spec's source (connectors/postgres/README.md is the reference):
//
//   orders:
//     postgres:
//       dsn: postgresql://reader@db.internal:5432/shop     # and/or host, port, database, user
//       password: ${PGPASSWORD}
//       sslmode: verify-full
//       sslrootcert: certs/db-ca.pem
//       table: public.orders                              # or query: SELECT ...
//       columns: [id, customer_id, total, created_at]
//       split_by: auto                                    # ctid | key | none
//       workers: 4
//
// Parsing checks everything that can be checked without a server; the definition connects only when
// the source is created and prepared (remote() is true, so `validate` needs --connect for that).

#ifndef SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_SPEC_H_
#define SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_SPEC_H_

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "connectors/postgres/postgres_source.h"
#include "connectors/source_definition.h"
#include "job/spec_node.h"

namespace sfb {

class PostgresSourceDefinition : public SourceDefinition {
 public:
  explicit PostgresSourceDefinition(PostgresSourceConfig config)
      : config_(std::move(config)), report_(std::make_shared<PostgresPlanReport>()) {}
  const char* kind() const override { return "postgres"; }
  bool remote() const override { return true; }
  Result<std::unique_ptr<Source>> Create() const override;
  // Connection (no password), table and columns or query, chunking options; after the created source
  // was prepared, also its plan: split, chunks, workers, estimated rows, snapshot.
  nlohmann::ordered_json Describe() const override;
  const PostgresSourceConfig& config() const { return config_; }

 private:
  PostgresSourceConfig config_;
  std::shared_ptr<PostgresPlanReport> report_;
};

Result<std::unique_ptr<SourceDefinition>> ParsePostgresSourceSpec(const SpecContext& ctx, const std::string& name,
                                                                  const YAML::Node& node);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_SPEC_H_
