#include "connectors/postgres/postgres_source_spec.h"

#include <algorithm>
#include <cctype>

#include "common/str_cat.h"
#include "router/template.h"

namespace sfb {
namespace {

const char* SplitName(PostgresSourceConfig::Split s) {
  switch (s) {
    case PostgresSourceConfig::Split::kAuto: return "auto";
    case PostgresSourceConfig::Split::kCtid: return "ctid";
    case PostgresSourceConfig::Split::kKey: return "key";
    case PostgresSourceConfig::Split::kNone: return "none";
  }
  return "?";
}

const char* TimestampsName(TimestampMode m) {
  switch (m) {
    case TimestampMode::kIso: return "iso";
    case TimestampMode::kEpochMillis: return "epoch_millis";
    case TimestampMode::kEpochMicros: return "epoch_micros";
  }
  return "?";
}

// The query without trailing semicolons and blanks (it becomes a subquery and a COPY argument).
std::string TrimQuery(std::string q) {
  while (!q.empty() && (q.back() == ';' || std::isspace(static_cast<unsigned char>(q.back())))) q.pop_back();
  size_t start = 0;
  while (start < q.size() && std::isspace(static_cast<unsigned char>(q[start]))) ++start;
  return q.substr(start);
}

}  // namespace

Result<std::unique_ptr<Source>> PostgresSourceDefinition::Create() const {
  return std::unique_ptr<Source>(std::make_unique<PostgresSource>(config_, report_));
}

nlohmann::ordered_json PostgresSourceDefinition::Describe() const {
  nlohmann::ordered_json j{{"kind", "postgres"}};
  const nlohmann::ordered_json endpoint = config_.endpoint.Describe();
  for (const auto& [k, v] : endpoint.items()) j[k] = v;
  if (config_.table) {
    j["table"] = config_.table->Display();
    if (!config_.columns.empty()) j["columns"] = config_.columns;
  } else {
    j["query"] = config_.query;
  }
  j["split_by"] = SplitName(config_.split);
  j["workers"] = config_.workers;
  j["chunk_rows"] = config_.chunk_rows;
  if (config_.timestamps != TimestampMode::kIso) j["timestamps"] = TimestampsName(config_.timestamps);
  if (!config_.embed_json_text) j["in_json_objects"] = "text";
  if (!config_.snapshot.empty()) j["snapshot"] = config_.snapshot;
  std::lock_guard<std::mutex> lock(report_->mu);
  if (!report_->plan.is_null()) {
    for (const auto& [k, v] : report_->plan.items()) j[k] = v;
  }
  return j;
}

Result<std::unique_ptr<SourceDefinition>> ParsePostgresSourceSpec(const SpecContext& ctx, const std::string& name,
                                                                  const YAML::Node& p) {
  const std::string what = "postgres source " + name;
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(
      p, what,
      {"dsn", "host", "port", "database", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey",
       "connect_timeout", "table", "columns", "query", "split_by", "workers", "chunk_rows", "timestamps",
       "in_json_objects", "lock_timeout", "retries", "snapshot", "progress"}));
  PostgresSourceConfig c;
  c.name = name;

  // Connection.
  std::string dsn;
  if (p["dsn"]) {
    SFB_ASSIGN_OR_RETURN(dsn, ctx.Scalar(p["dsn"], "dsn"));
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [key, libpq_key] : std::vector<std::pair<std::string, std::string>>{
           {"host", "host"}, {"database", "dbname"}, {"user", "user"}, {"password", "password"}}) {
    if (!p[key]) continue;
    SFB_ASSIGN_OR_RETURN(std::string v, ctx.Scalar(p[key], key));
    fields.emplace_back(libpq_key, v);
  }
  if (p["port"]) {
    SFB_ASSIGN_OR_RETURN(int64_t port, ctx.Integer(p["port"], "port", 1, 65535));
    fields.emplace_back("port", std::to_string(port));
  }
  if (p["sslmode"]) {
    SFB_ASSIGN_OR_RETURN(std::string mode, ctx.Scalar(p["sslmode"], "sslmode"));
    static const std::vector<std::string> kModes = {"disable", "allow",     "prefer",
                                                    "require", "verify-ca", "verify-full"};
    if (std::find(kModes.begin(), kModes.end(), mode) == kModes.end()) {
      const std::string s = SuggestName(mode, kModes);
      return ctx.Error(p["sslmode"], "unknown sslmode '" + mode + "'",
                       s.empty() ? "sslmode is disable, allow, prefer, require, verify-ca or verify-full"
                                 : "did you mean '" + s + "'?");
    }
    fields.emplace_back("sslmode", mode);
  }
  for (const char* key : {"sslrootcert", "sslcert", "sslkey"}) {
    if (!p[key]) continue;
    SFB_ASSIGN_OR_RETURN(std::string path, ctx.Scalar(p[key], key));
    fields.emplace_back(key, path == "system" ? path : ctx.Path(path));
  }
  if (p["connect_timeout"]) {
    SFB_ASSIGN_OR_RETURN(int64_t ms, ctx.DurationMillis(p["connect_timeout"], "connect_timeout"));
    fields.emplace_back("connect_timeout", std::to_string(std::max<int64_t>(1, (ms + 999) / 1000)));
  }
  auto endpoint = PgEndpoint::Make(dsn, fields);
  if (!endpoint.ok()) return Status(endpoint.status()).WithContext(ctx.Where(p["dsn"] ? p["dsn"] : p));
  c.endpoint = std::move(endpoint).value();

  // What to read.
  if (p["table"] && p["query"]) {
    return ctx.Error(p, what + " has both table: and query:", "read either a table or a query (one source each)");
  }
  if (!p["table"] && !p["query"]) {
    return ctx.Error(p, what + " has neither table: nor query:",
                     "add table: schema.table (and optionally columns:), or query: SELECT ...");
  }
  if (p["table"]) {
    SFB_ASSIGN_OR_RETURN(std::string text, ctx.Scalar(p["table"], "table"));
    auto table = ParseQualifiedName(text, "public");
    if (!table.ok()) return Status(table.status()).WithContext(ctx.Where(p["table"]));
    c.table = std::move(table).value();
    if (p["columns"]) {
      if (!p["columns"].IsSequence()) return ctx.Error(p["columns"], "columns must be a list of column names");
      SFB_ASSIGN_OR_RETURN(c.columns, ctx.StringList(p["columns"], "column name"));
      for (const auto& col : c.columns) {
        if (col.empty() || col.find('\0') != std::string::npos) {
          return ctx.Error(p["columns"], "a column name is empty or contains a NUL character");
        }
      }
    }
  } else {
    SFB_ASSIGN_OR_RETURN(std::string q, ctx.Scalar(p["query"], "query"));
    c.query = TrimQuery(q);
    c.query_origin = QueryOrigin{q, ctx.Where(p["query"]), ctx.ValueLines(p["query"])};
    if (c.query.empty()) return ctx.Error(p["query"], "the query is empty", "write query: SELECT ... FROM ...");
    // Said before the server sees it (which would refuse it anyway: the snapshot transaction is READ ONLY).
    if (const auto problem = ReadOnlyProblem(c.query)) {
      return Status::InvalidSpec("source " + name + ": " + problem->message + " " +
                                 DescribeQueryPlace(c.query, c.query_origin, problem->offset))
          .WithHint("a source only reads: write a SELECT (or WITH ... SELECT, VALUES, TABLE)");
    }
    if (p["columns"]) {
      return ctx.Error(p["columns"], "columns: applies to table: sources", "select the columns in the query itself");
    }
    if (p["split_by"]) {
      return ctx.Error(p["split_by"], "split_by: applies to table: sources; a query is read in one piece",
                       "read a table with table: to have it read in parallel chunks");
    }
  }

  // How to read it.
  if (p["split_by"]) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(p["split_by"], "split_by"));
    if (s == "auto") c.split = PostgresSourceConfig::Split::kAuto;
    else if (s == "ctid") c.split = PostgresSourceConfig::Split::kCtid;
    else if (s == "key") c.split = PostgresSourceConfig::Split::kKey;
    else if (s == "none") c.split = PostgresSourceConfig::Split::kNone;
    else return ctx.Error(p["split_by"], "unknown split_by '" + s + "'", "split_by is auto, ctid, key or none");
  }
  if (p["workers"]) {
    SFB_ASSIGN_OR_RETURN(int64_t w, ctx.Integer(p["workers"], "workers", 1, 256,
                                                "workers is the number of connections reading in parallel"));
    c.workers = static_cast<int>(w);
  }
  if (p["chunk_rows"]) {
    SFB_ASSIGN_OR_RETURN(int64_t n, ctx.Integer(p["chunk_rows"], "chunk_rows", 1, int64_t{1} << 40));
    c.chunk_rows = static_cast<uint64_t>(n);
  }
  if (p["timestamps"]) {
    SFB_ASSIGN_OR_RETURN(std::string t, ctx.Scalar(p["timestamps"], "timestamps"));
    if (t == "iso") c.timestamps = TimestampMode::kIso;
    else if (t == "epoch_millis") c.timestamps = TimestampMode::kEpochMillis;
    else if (t == "epoch_micros") c.timestamps = TimestampMode::kEpochMicros;
    else return ctx.Error(p["timestamps"], "unknown timestamps '" + t + "'",
                          "timestamps is iso, epoch_millis or epoch_micros");
  }
  if (p["in_json_objects"]) {
    SFB_ASSIGN_OR_RETURN(std::string e, ctx.Scalar(p["in_json_objects"], "in_json_objects"));
    if (e == "embed") c.embed_json_text = true;
    else if (e == "text") c.embed_json_text = false;
    else return ctx.Error(p["in_json_objects"], StrCat("unknown in_json_objects '", e, "'"),
                          "in_json_objects is embed (numeric, json and array columns as JSON) or text (as strings)");
  }
  if (p["lock_timeout"]) {
    SFB_ASSIGN_OR_RETURN(c.lock_timeout_ms, ctx.DurationMillis(p["lock_timeout"], "lock_timeout"));
    if (c.lock_timeout_ms <= 0) return ctx.Error(p["lock_timeout"], "lock_timeout must be positive");
  }
  if (p["retries"]) {
    SFB_ASSIGN_OR_RETURN(int64_t r, ctx.Integer(p["retries"], "retries", 0, 100));
    c.retries = static_cast<int>(r);
  }
  if (p["snapshot"]) {
    SFB_ASSIGN_OR_RETURN(c.snapshot, ctx.Scalar(p["snapshot"], "snapshot"));
  }
  if (p["progress"]) {
    SFB_ASSIGN_OR_RETURN(c.progress_ms, ctx.DurationMillis(p["progress"], "progress"));
  }
  return std::unique_ptr<SourceDefinition>(std::make_unique<PostgresSourceDefinition>(std::move(c)));
}

}  // namespace sfb
