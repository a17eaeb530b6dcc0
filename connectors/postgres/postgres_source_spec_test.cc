#include "connectors/postgres/postgres_source_spec.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

Result<std::unique_ptr<SourceDefinition>> Parse(const std::string& yaml) {
  SpecContext ctx("job.yaml", "/jobs");
  return ParsePostgresSourceSpec(ctx, "orders", YAML::Load(yaml));
}

const PostgresSourceConfig& Config(const std::unique_ptr<SourceDefinition>& d) {
  return static_cast<const PostgresSourceDefinition&>(*d).config();
}

TEST(PostgresSourceSpec, TableWithEveryOption) {
  setenv("SFB_PG_SPEC_TEST_PASSWORD", "hunter2", 1);
  auto d = Parse(R"({host: db, port: 5433, database: shop, user: reader, password: "${SFB_PG_SPEC_TEST_PASSWORD}",
                     sslmode: verify-full, sslrootcert: certs/ca.pem, connect_timeout: 5s,
                     table: sales.orders, columns: [id, "total amount"], split_by: key, workers: 3,
                     chunk_rows: 1000, timestamps: epoch_millis, lock_timeout: 10s, retries: 1, progress: 30s})");
  ASSERT_TRUE(d.ok()) << d.status().ToUserString();
  const auto& c = Config(*d);
  EXPECT_TRUE((*d)->remote());
  EXPECT_EQ(c.table->schema, "sales");
  EXPECT_EQ(c.table->name, "orders");
  EXPECT_EQ(c.columns, (std::vector<std::string>{"id", "total amount"}));
  EXPECT_EQ(c.split, PostgresSourceConfig::Split::kKey);
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.chunk_rows, 1000u);
  EXPECT_EQ(c.timestamps, TimestampMode::kEpochMillis);
  EXPECT_TRUE(c.embed_json_text);  // the default: numeric, json and array columns embed in json objects
  EXPECT_EQ(c.lock_timeout_ms, 10000);
  EXPECT_EQ(c.retries, 1);
  EXPECT_EQ(c.progress_ms, 30000);
  EXPECT_NE(c.endpoint.conninfo().find("sslrootcert='/jobs/certs/ca.pem'"), std::string::npos);
  EXPECT_NE(c.endpoint.conninfo().find("connect_timeout='5'"), std::string::npos);
  const std::string described = (*d)->Describe().dump();
  EXPECT_EQ(described.find("hunter2"), std::string::npos);
  EXPECT_NE(described.find("\"table\":\"sales.orders\""), std::string::npos);
  EXPECT_NE(described.find("\"server\":\"db:5433\""), std::string::npos);
}

TEST(PostgresSourceSpec, QueryIsTrimmed) {
  auto d = Parse("{dsn: 'host=db dbname=shop', query: \"SELECT 1 AS x;  \\n\"}");
  ASSERT_TRUE(d.ok()) << d.status().ToUserString();
  EXPECT_EQ(Config(*d).query, "SELECT 1 AS x");
  EXPECT_FALSE(Config(*d).table.has_value());
}

TEST(PostgresSourceSpec, InJsonObjectsKeepsTextOnRequest) {
  auto d = Parse("{host: db, table: t, in_json_objects: text}");
  ASSERT_TRUE(d.ok()) << d.status().ToUserString();
  EXPECT_FALSE(Config(*d).embed_json_text);
  EXPECT_NE((*d)->Describe().dump().find("\"in_json_objects\":\"text\""), std::string::npos);
  d = Parse("{host: db, table: t, in_json_objects: embed}");
  ASSERT_TRUE(d.ok()) << d.status().ToUserString();
  EXPECT_TRUE(Config(*d).embed_json_text);
}

void ExpectError(const std::string& yaml, const std::string& message_part) {
  auto d = Parse(yaml);
  ASSERT_FALSE(d.ok()) << yaml;
  EXPECT_NE(d.status().ToUserString().find(message_part), std::string::npos) << d.status().ToUserString();
  EXPECT_NE(d.status().ToUserString().find("job.yaml:"), std::string::npos) << d.status().ToUserString();
}

TEST(PostgresSourceSpec, RejectsMistakesWithLocations) {
  ExpectError("{host: db}", "neither table: nor query:");
  ExpectError("{host: db, table: t, query: SELECT 1}", "both table: and query:");
  ExpectError("{host: db, tabel: t}", "did you mean 'table'");
  ExpectError("{host: db, table: t, split_by: pages}", "unknown split_by");
  ExpectError("{host: db, query: SELECT 1, split_by: ctid}", "applies to table: sources");
  ExpectError("{host: db, query: SELECT 1, columns: [a]}", "columns: applies to table:");
  ExpectError("{host: db, table: t, sslmode: verify-ful}", "did you mean 'verify-full'");
  ExpectError("{host: db, table: t, workers: 0}", "workers");
  ExpectError("{host: db, table: a.b.c}", "more than two parts");
  ExpectError("{host: db, table: t, timestamps: unix}", "timestamps is iso, epoch_millis or epoch_micros");
  ExpectError("{host: db, query: ';'}", "the query is empty");
  ExpectError("{host: db, table: t, in_json_objects: string}", "in_json_objects is embed");
  ExpectError("{dsn: 'host=db pasword=x', table: t}", "invalid connection option");
}

}  // namespace
}  // namespace sfb
