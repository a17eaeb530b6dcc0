#include "connectors/postgres/postgres_source.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "api/dead_letter.h"
#include "common/exit_cleanup.h"
#include "common/str_cat.h"
#include "common/text_preview.h"
#include "connectors/postgres/copy_text.h"
#include "router/template.h"

namespace sfb {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kOrdinalRowBits = 40;  // ordinal positions: chunk << 40 | row within the chunk
constexpr uint64_t kMaxChunks = 100000;

enum : uint32_t { kInt2Oid = 21, kInt4Oid = 23, kInt8Oid = 20, kUuidOid = 2950 };

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names, size_t limit = 30) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", ...";
  return out;
}

uint32_t ToOid(const pqxx::field& f) { return static_cast<uint32_t>(std::stoul(f.c_str())); }
bool IsTrue(const pqxx::field& f) { return !f.is_null() && std::string(f.c_str()) == "t"; }

const char* RelkindName(char k) {
  switch (k) {
    case 'r': return "table";
    case 'p': return "partitioned table";
    case 'v': return "view";
    case 'm': return "materialized view";
    case 'f': return "foreign table";
    case 'i': case 'I': return "index";
    case 'S': return "sequence";
    case 'c': return "composite type";
    case 't': return "TOAST table";
  }
  return "relation";
}

// Rows the planner expects `sql` to return (EXPLAIN, nothing executed); 0 when it cannot say.
Result<double> EstimateRows(PgSession& s, const std::string& sql, const std::string& what) {
  SFB_ASSIGN_OR_RETURN(pqxx::result r, s.Exec("EXPLAIN (FORMAT JSON) " + sql, what));
  const auto doc = nlohmann::json::parse(r[0][0].c_str(), nullptr, false);
  if (doc.is_array() && !doc.empty() && doc[0].contains("Plan") && doc[0]["Plan"].contains("Plan Rows")) {
    return doc[0]["Plan"]["Plan Rows"].get<double>();
  }
  return 0.0;
}

}  // namespace

// A line on stderr every `interval`: rows, rate, share of the estimate and time left, per source.
class PostgresSource::ProgressPrinter {
 public:
  ProgressPrinter(const PostgresSource* source, int64_t interval_ms)
      : source_(source), interval_(std::chrono::milliseconds(interval_ms)), start_(Clock::now()),
        thread_([this] { Loop(); }) {}
  ~ProgressPrinter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    auto next = start_ + interval_;
    while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
      next += interval_;
      const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
      const uint64_t rows = source_->rows_read_.load();
      const uint64_t total = source_->estimated_rows_;
      const double rate = secs > 0 ? static_cast<double>(rows) / secs : 0;
      std::string line = "source " + source_->config_.name + " (" + source_->ObjectName() + "): " + Thousands(rows);
      if (total > 0) {
        char pct[64];
        std::snprintf(pct, sizeof pct, " of ~%s rows (%.0f%%)", Thousands(total).c_str(),
                      100.0 * static_cast<double>(rows) / static_cast<double>(total));
        line += pct;
      } else {
        line += " rows";
      }
      line += ", " + Thousands(static_cast<uint64_t>(rate)) + " rows/s";
      if (total > rows && rate > 0) {
        line += ", ETA " + std::to_string(static_cast<uint64_t>(static_cast<double>(total - rows) / rate)) + " s";
      }
      line += ", chunks " + std::to_string(source_->chunks_done_.load()) + "/" +
              std::to_string(source_->plan_.chunks.size());
      std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    }
  }

  const PostgresSource* source_;
  const std::chrono::milliseconds interval_;
  const Clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Cancels the running statement of every chunk whose stop flag is set (an interrupt, another split's
// failure): a reading thread blocked in libpq, waiting for the first row of a slow query, cannot look
// at the flag itself. libpq's cancel request is made for use from another thread; it only reads the
// connection's address and backend key, which do not change while the chunk is read.
class PostgresSource::StatementCanceller {
 public:
  // A process that exits at once (a second Ctrl-C) cancels the statements first: a server does not
  // notice a client gone while it runs a statement, and would run it to the end.
  StatementCanceller()
      : exit_action_(RegisterExitAction([this] { CancelAll(); })), thread_([this] { Loop(); }) {}
  ~StatementCanceller() {
    UnregisterExitAction(exit_action_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // While registered, `session`'s statement is cancelled as soon as `*flag` is set.
  void Add(PgSession* session, const std::atomic<bool>* flag) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.push_back(Active{session, flag, Clock::time_point()});
  }
  void Remove(PgSession* session) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < active_.size(); ++i) {
      if (active_[i].session == session) {
        active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
    }
  }

 private:
  struct Active {
    PgSession* session;
    const std::atomic<bool>* flag;
    Clock::time_point cancelled;  // when the last cancel request went out; {}: none yet
  };
  void CancelAll() {
    // Busy: the loop is sending cancel requests already (and may wait for a server that does not answer).
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    for (auto& a : active_) a.session->CancelQuery();
  }
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_; })) {
      const auto now = Clock::now();
      for (auto& a : active_) {
        // Asked again while the chunk still reads: a request that reached the server before the
        // chunk's statement did cancels nothing.
        if (a.flag->load(std::memory_order_relaxed) && now - a.cancelled > std::chrono::milliseconds(200)) {
          a.session->CancelQuery();
          a.cancelled = now;
        }
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<Active> active_;
  const int exit_action_;
  std::thread thread_;
};

PostgresSource::PostgresSource(PostgresSourceConfig config, std::shared_ptr<PostgresPlanReport> report)
    : config_(std::move(config)), report_(std::move(report)) {}

PostgresSource::~PostgresSource() {
  canceller_.reset();
  progress_.reset();
  if (pool_) pool_->CloseAll();
}

std::vector<std::string> PostgresSource::json_text_fields() const {
  std::vector<std::string> out;
  if (!config_.embed_json_text || !schema_) return out;
  for (size_t i = 0; i < types_.size() && i < schema_->size(); ++i) {
    const PgKind k = types_[i].kind;
    if (k == PgKind::kNumeric || k == PgKind::kJson || k == PgKind::kArray) out.push_back(schema_->names()[i]);
  }
  return out;
}

std::string PostgresSource::ObjectName() const { return config_.table ? config_.table->Display() : "the query"; }

std::string PostgresSource::ChunkName(size_t split) const {
  if (plan_.chunks.size() == 1) return ObjectName();
  return "chunk " + std::to_string(split + 1) + "/" + std::to_string(plan_.chunks.size()) + " (" +
         plan_.chunks[split].label + ") of " + ObjectName();
}

Status PostgresSource::Prepare() {
  if (snapshot_) return Status::OK();
  SFB_ASSIGN_OR_RETURN(snapshot_, PgSnapshot::Acquire(config_.endpoint, config_.snapshot, config_.lock_timeout_ms));
  snapshot_info_ = snapshot_->info();
  // An interrupt while a statement here waits (LOCK TABLE behind another session's exclusive lock, a
  // slow catalog query) cancels it on the server, as during reads.
  std::call_once(canceller_once_, [this] { canceller_ = std::make_unique<StatementCanceller>(); });
  Status s = snapshot_->WithSession([this](PgSession& session) {
    if (interrupt().load()) return Status::Cancelled("interrupted");
    canceller_->Add(&session, &interrupt());
    struct Unregister {
      StatementCanceller* canceller;
      PgSession* session;
      ~Unregister() { canceller->Remove(session); }
    } unregister{canceller_.get(), &session};
    Status prepared = config_.table ? PrepareTable(session) : PrepareQuery(session);
    return prepared.ok() && config_.table ? CheckChunkStatements(session) : prepared;
  });
  if (!s.ok()) {
    snapshot_.reset();
    if (interrupt().load() && s.code() != Status::Code::kCancelled) return Status::Cancelled("interrupted");
    return s;
  }
  pool_ = std::make_unique<WorkerPool>(config_.endpoint, snapshot_info_.id, config_.lock_timeout_ms, config_.workers);

  nlohmann::ordered_json plan;
  plan["split_by"] = split_name_;
  plan["chunks"] = plan_.chunks.size();
  plan["workers"] = std::min<size_t>(static_cast<size_t>(config_.workers), plan_.chunks.size());
  plan["estimated_rows"] = estimated_rows_;
  plan["order"] = position_name_;
  if (plan_.chunks.size() > 1) {
    plan["first_chunk"] = plan_.chunks.front().label;
    plan["last_chunk"] = plan_.chunks.back().label;
  }
  if (!split_note_.empty()) plan["note"] = split_note_;
  if (!text_form_columns_.empty()) plan["read_as_text"] = text_form_columns_;
  plan["snapshot"] = snapshot_info_.id;
  plan["snapshot_lsn"] = snapshot_info_.lsn;
  if (report_) {
    std::lock_guard<std::mutex> lock(report_->mu);
    report_->plan = std::move(plan);
  }
  return Status::OK();
}

Status PostgresSource::PrepareTable(PgSession& s) {
  const QualifiedName& t = *config_.table;
  const std::string display = t.Display();
  const std::string role = snapshot_info_.user;
  SFB_ASSIGN_OR_RETURN(
      pqxx::result rel,
      s.ExecParams("SELECT c.oid, c.relkind::text, has_schema_privilege(n.oid, 'USAGE'), "
                   "has_table_privilege(c.oid, 'SELECT'), "
                   "CASE WHEN c.relkind IN ('r', 'm') THEN has_column_privilege(c.oid, 'ctid', 'SELECT') END "
                   "FROM pg_catalog.pg_class c "
                   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                   "looking up table " + display, t.schema, t.name));
  if (rel.empty()) {
    // Say what is there instead.
    SFB_ASSIGN_OR_RETURN(pqxx::result all,
                         s.Exec("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                                "ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','f') AND "
                                "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
                                "listing tables"));
    std::vector<std::string> names;
    bool schema_exists = false;
    for (const auto& row : all) {
      const QualifiedName q{row[0].c_str(), row[1].c_str()};
      schema_exists |= q.schema == t.schema;
      names.push_back(q.Display());
    }
    std::string suggestion = SuggestName(display, names);
    if (suggestion.empty()) {
      for (const auto& n : names) {  // same name, other case
        std::string a = n, b = display;
        for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (a == b) suggestion = n;
      }
    }
    std::string what = "table " + display + " does not exist in database " + snapshot_info_.database;
    if (!schema_exists) what += " (it has no schema " + DisplayIdentifier(t.schema) + " with tables the role can see)";
    return Status::InvalidSpec(what).WithHint(
        suggestion.empty() ? "check the schema and the name (names are case-sensitive; write schema.table)"
                           : "did you mean " + suggestion + "?");
  }
  const uint32_t oid = ToOid(rel[0][0]);
  const char relkind = rel[0][1].c_str()[0];
  const bool schema_usage = IsTrue(rel[0][2]);
  const bool table_select = IsTrue(rel[0][3]);
  // ctid is covered by the table-wide SELECT privilege only, never by column grants.
  const bool ctid_readable = IsTrue(rel[0][4]);
  if (std::string("rpvmf").find(relkind) == std::string::npos) {
    return Status::InvalidSpec(display + " is a " + RelkindName(relkind) + ", not a table or view")
        .WithHint("name a table, view or materialized view, or use query:");
  }
  if (!schema_usage) {
    return Status::IoError("permission denied: role " + role + " may not use schema " +
                           QuoteIdentifier(t.schema) + " (reading " + display + ")")
        .WithHint("GRANT USAGE ON SCHEMA " + QuoteIdentifier(t.schema) + " TO " + QuoteIdentifier(role) + ";");
  }

  // Columns.
  SFB_ASSIGN_OR_RETURN(
      pqxx::result cols,
      s.ExecParams("SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), "
                   "has_column_privilege(a.attrelid, a.attnum, 'SELECT') FROM pg_catalog.pg_attribute a "
                   "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                   "listing the columns of " + display, oid));
  struct Column {
    std::string name;
    uint32_t type;
    std::string type_name;
    bool readable;
  };
  std::vector<Column> all;
  std::vector<std::string> all_names;
  for (const auto& row : cols) {
    all.push_back(Column{row[0].c_str(), ToOid(row[1]), row[2].c_str(), table_select || IsTrue(row[3])});
    all_names.push_back(all.back().name);
  }
  std::vector<const Column*> selected;
  if (config_.columns.empty()) {
    for (const auto& c : all) selected.push_back(&c);
  } else {
    std::set<std::string> seen;
    for (const auto& name : config_.columns) {
      if (!seen.insert(name).second) {
        return Status::InvalidSpec("column '" + name + "' is listed twice in columns: of " + display);
      }
      const Column* found = nullptr;
      for (const auto& c : all) {
        if (c.name == name) found = &c;
      }
      if (!found) {
        const std::string suggestion = SuggestName(name, all_names);
        return Status::InvalidSpec(display + " has no column '" + name + "' (columns: " + JoinNames(all_names) + ")")
            .WithHint(suggestion.empty()
                          ? "list columns as the table names them (case-sensitive), or leave columns: out"
                          : "did you mean '" + suggestion + "'?");
      }
      selected.push_back(found);
    }
  }
  if (selected.empty()) return Status::InvalidSpec(display + " has no columns to read");
  std::vector<std::string> denied;
  for (const Column* c : selected) {
    if (!c->readable) denied.push_back(c->name);
  }
  if (!denied.empty()) {
    std::string cols_sql;
    for (const auto& d : denied) cols_sql += (cols_sql.empty() ? "" : ", ") + QuoteIdentifier(d);
    const std::string grant_table = "GRANT SELECT ON " + t.Quoted() + " TO " + QuoteIdentifier(role) + ";";
    if (denied.size() == selected.size()) {
      return Status::IoError("permission denied: role " + role + " may not read " + display)
          .WithHint(grant_table + " (or read as a role that may)");
    }
    return Status::IoError("permission denied: role " + role + " may not read column" +
                           (denied.size() > 1 ? "s " : " ") + JoinNames(denied) + " of " + display)
        .WithHint(grant_table + " or GRANT SELECT (" + cols_sql + ") ON " + t.Quoted() + " TO " +
                  QuoteIdentifier(role) + "; or leave " + (denied.size() > 1 ? "them" : "it") + " out of columns:");
  }
  std::vector<uint32_t> oids;
  std::vector<std::string> names, type_names;
  for (const Column* c : selected) {
    oids.push_back(c->type);
    names.push_back(c->name);
    type_names.push_back(c->type_name);
    plan_.columns.push_back(QuoteIdentifier(c->name));
  }
  SFB_RETURN_IF_ERROR(ResolveTypes(s, oids, names, type_names));

  // The primary key, when it is one readable integer or uuid column.
  SFB_ASSIGN_OR_RETURN(
      pqxx::result pk,
      s.ExecParams("SELECT a.attname, a.atttypid, has_column_privilege(a.attrelid, a.attnum, 'SELECT') "
                   "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND "
                   "a.attnum = ANY(i.indkey) WHERE i.indrelid = $1 AND i.indisprimary",
                   "looking up the primary key of " + display, oid));
  std::string key;
  uint32_t key_type = 0;
  if (pk.size() == 1 && (table_select || IsTrue(pk[0][2]))) {
    key = pk[0][0].c_str();
    key_type = ToOid(pk[0][1]);
  }
  const bool int_key = key_type == kInt2Oid || key_type == kInt4Oid || key_type == kInt8Oid;
  const bool uuid_key = key_type == kUuidOid;
  const bool has_ctid = relkind == 'r' || relkind == 'm';
  // A role granted only some columns (GRANT SELECT (a, b) ON t) may not read ctid: such a read neither
  // selects it nor splits by it.
  const bool use_ctid = has_ctid && ctid_readable;

  // No ALTER, DROP or TRUNCATE under the read (taken after the snapshot, as pg_dump does). LOCK TABLE
  // needs the table-wide SELECT privilege; a role granted only some columns reads without the lock.
  if (table_select && (relkind == 'r' || relkind == 'p' || relkind == 'm')) {
    SFB_RETURN_IF_ERROR(s.Exec("LOCK TABLE " + t.Quoted() + " IN ACCESS SHARE MODE", "locking " + display).status());
  }
  SFB_ASSIGN_OR_RETURN(double estimate,
                       EstimateRows(s, "SELECT 1 FROM " + t.Quoted(), "estimating the rows of " + display));
  estimated_rows_ = static_cast<uint64_t>(std::max(0.0, estimate));

  plan_.relation = t.Quoted();
  if (int_key) {
    plan_.position = PositionKind::kIntKey;
    plan_.position_column = QuoteIdentifier(key);
    key_column_ = key;
    position_name_ = "primary key " + key;
  } else if (use_ctid) {
    plan_.position = PositionKind::kCtid;
    plan_.position_column = "ctid";
    position_name_ = "physical (ctid)";
  } else {
    plan_.position = PositionKind::kOrdinal;
    position_name_ = "as the server returns the rows";
  }

  using Split = PostgresSourceConfig::Split;
  Split split = config_.split;
  const int version = snapshot_info_.server_version;
  const std::string column_grants_only =
      "role " + role + " may read only some columns of " + display + " (column privileges), which do not cover ctid";
  if (split == Split::kAuto) {
    if (use_ctid && version >= 140000) split = Split::kCtid;
    else if (int_key || uuid_key) split = Split::kKey;
    else split = Split::kNone;
    if (split == Split::kNone && ChunkCount(estimate, config_.chunk_rows, kMaxChunks) > 1) {
      if (has_ctid && !ctid_readable) {
        split_note_ = "read in one piece: " + column_grants_only + ", and " + display +
                      " has no integer or uuid primary key the role may read to split by";
      } else if (has_ctid) {
        split_note_ = "read in one piece: splitting by ctid needs PostgreSQL 14, and " + display +
                      " has no integer or uuid primary key to split by";
      } else {
        split_note_ = std::string("read in one piece: a ") + RelkindName(relkind) +
                      " has no ctid, and no integer or uuid primary key to split by";
      }
    }
  }
  const uint64_t n = ChunkCount(estimate, config_.chunk_rows, kMaxChunks);
  switch (split) {
    case Split::kCtid: {
      if (!has_ctid) {
        return Status::InvalidSpec("split_by: ctid needs a plain table, but " + display + " is a " +
                                   RelkindName(relkind))
            .WithHint(int_key || uuid_key ? "use split_by: key (or auto)" : "use split_by: none (or auto)");
      }
      if (!ctid_readable) {
        return Status::InvalidSpec("split_by: ctid reads ctid, but " + column_grants_only)
            .WithHint("GRANT SELECT ON " + t.Quoted() + " TO " + QuoteIdentifier(role) + "; or " +
                      (int_key || uuid_key ? "use split_by: key (or auto)" : "use split_by: none (or auto)"));
      }
      if (version < 140000) {
        return Status::InvalidSpec("split_by: ctid needs PostgreSQL 14 or newer (TID range scans); the server runs " +
                                   std::to_string(version / 10000))
            .WithHint(int_key || uuid_key ? "use split_by: key (or auto)" : "use split_by: none (or auto)");
      }
      SFB_ASSIGN_OR_RETURN(pqxx::result pages,
                           s.ExecParams("SELECT pg_relation_size($1::oid) / current_setting('block_size')::bigint",
                                        "measuring " + display, oid));
      plan_.chunks = CtidChunks(pages[0][0].as<uint64_t>(), n);
      split_name_ = "ctid";
      break;
    }
    case Split::kKey: {
      if (!int_key && !uuid_key) {
        return Status::InvalidSpec("split_by: key needs a primary key of one integer or uuid column, and " + display +
                                   (key.empty() ? " has none the role can read" : "'s is " + key))
            .WithHint(has_ctid ? "use split_by: ctid (or auto)" : "use split_by: none");
      }
      if (int_key) {
        SFB_ASSIGN_OR_RETURN(pqxx::result mm, s.Exec("SELECT min(" + QuoteIdentifier(key) + ")::text, max(" +
                                                         QuoteIdentifier(key) + ")::text FROM " + t.Quoted(),
                                                     "finding the key range of " + display));
        if (mm[0][0].is_null()) {
          plan_.chunks = {Chunk{"", "all rows"}};
        } else {
          plan_.chunks = IntKeyChunks(QuoteIdentifier(key), key, std::stoll(mm[0][0].c_str()),
                                      std::stoll(mm[0][1].c_str()), n);
        }
      } else {
        plan_.chunks = UuidKeyChunks(QuoteIdentifier(key), key, n);
      }
      if (plan_.chunks.size() > 1) plan_.order_by = QuoteIdentifier(key);  // ordered: a chunk can resume
      split_name_ = "key " + key;
      break;
    }
    case Split::kNone:
    case Split::kAuto:
      plan_.chunks = {Chunk{"", "all rows"}};
      split_name_ = "none";
      break;
  }
  schema_ = std::make_shared<const Schema>(names);
  return Status::OK();
}

Status PostgresSource::CheckChunkStatements(PgSession& s) {
  // The first, a middle and the last chunk: every form of WHERE the chunks have. EXPLAIN plans the
  // statement and checks every privilege it needs (columns, ctid, row-level security) without running it.
  std::set<size_t> which = {0, plan_.chunks.size() / 2, plan_.chunks.size() - 1};
  for (const size_t i : which) {
    SFB_RETURN_IF_ERROR(
        s.Exec("EXPLAIN " + plan_.ChunkSql(i), "checking the statement that reads " + ChunkName(i)).status());
  }
  return Status::OK();
}

Status PostgresSource::PrepareQuery(PgSession& s) {
  // Parsed and analyzed by the server exactly as written (a prepared statement, nothing run), so an
  // error's position is one in the user's text.
  // (The spec parser has refused a query that does not only read: postgres_source_spec.cc.)
  static std::atomic<int> statements{0};
  const std::string name = "sfb_query_" + std::to_string(statements++);
  PgError error;
  if (!s.Prepare(name, config_.query, "checking the query", &error)) {
    if (error.connection_lost || error.sqlstate.empty()) return error.status;
    std::string message = error.status.message();
    const std::string suffix = " (checking the query)";
    if (message.size() > suffix.size() && message.compare(message.size() - suffix.size(), suffix.size(), suffix) == 0) {
      message.resize(message.size() - suffix.size());
    }
    if (error.position > 0) {
      message += " " + DescribeQueryPlace(config_.query, config_.query_origin,
                                          ByteOffsetOfCharacter(config_.query, error.position));
    } else if (error.line > 0) {
      size_t offset = 0;
      for (int line = 1; line < error.line && offset != std::string::npos; ++line) {
        offset = config_.query.find('\n', offset);
        if (offset != std::string::npos) ++offset;
      }
      if (offset != std::string::npos) {
        message += " " + DescribeQueryPlace(config_.query, config_.query_origin, offset, /*with_column=*/false);
      }
    } else {
      message += " (in the query at " + config_.query_origin.where + ")";
    }
    Status out(error.status.code(), message);
    if (!error.status.hint().empty()) out.WithHint(error.status.hint());
    return out;
  }
  s.Unprepare(name);
  // The query becomes a subquery: the newline ends a trailing -- comment.
  SFB_ASSIGN_OR_RETURN(pqxx::result r,
                       s.Exec("SELECT * FROM (" + config_.query + "\n) AS sfb_query LIMIT 0", "checking the query"));
  std::vector<uint32_t> oids;
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (pqxx::row::size_type i = 0; i < r.columns(); ++i) {
    const std::string name = r.column_name(i);
    if (!seen.insert(name).second) {
      return Status::InvalidSpec("the query returns two columns named '" + name + "'")
          .WithHint("give each result column its own name: ... AS other_name");
    }
    if (name == "?column?") {
      return Status::InvalidSpec("a column of the query has no name ('?column?')")
          .WithHint("name every computed column: SELECT count(*) AS n, ...");
    }
    names.push_back(name);
    oids.push_back(static_cast<uint32_t>(r.column_type(i)));
  }
  if (names.empty()) return Status::InvalidSpec("the query returns no columns");
  SFB_RETURN_IF_ERROR(ResolveTypes(s, oids, names, {}));
  SFB_ASSIGN_OR_RETURN(double estimate, EstimateRows(s, config_.query, "estimating the rows of the query"));
  estimated_rows_ = static_cast<uint64_t>(std::max(0.0, estimate));
  plan_.query = config_.query;
  plan_.position = PositionKind::kOrdinal;
  plan_.chunks = {Chunk{"", "all rows"}};
  split_name_ = "none";
  position_name_ = "the query's row order";
  if (config_.workers > 1) {
    split_note_ = "read in one piece, on one connection, although workers: " + std::to_string(config_.workers) +
                  ": a query is not cut into chunks (its rows come in the order the server returns them); read a "
                  "table with table: for parallel chunks";
  }
  schema_ = std::make_shared<const Schema>(names);
  return Status::OK();
}

Status PostgresSource::ResolveTypes(PgSession& s, const std::vector<uint32_t>& oids,
                                    const std::vector<std::string>& names, const std::vector<std::string>& type_names) {
  struct Row {
    char typtype;
    uint32_t base;
    PgTypeInfo info;
  };
  std::map<uint32_t, Row> known;
  std::set<uint32_t> wanted(oids.begin(), oids.end());
  for (int round = 0; round < 8 && !wanted.empty(); ++round) {
    std::string list;
    for (uint32_t o : wanted) list.append(list.empty() ? "" : ",").append(std::to_string(o));
    SFB_ASSIGN_OR_RETURN(
        pqxx::result r,
        s.ExecParams("SELECT oid, typtype::text, typbasetype, typelem, typcategory::text, format_type(oid, NULL) "
                     "FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])",
                     "looking up column types", StrCat("{", list, "}")));
    wanted.clear();
    for (const auto& row : r) {
      Row t;
      t.info.oid = ToOid(row[0]);
      t.typtype = row[1].c_str()[0];
      t.base = ToOid(row[2]);
      t.info.typtype = t.typtype;
      t.info.element = ToOid(row[3]);
      t.info.category = row[4].c_str()[0];
      t.info.name = row[5].c_str();
      known[t.info.oid] = t;
      for (uint32_t next : {t.base, t.info.element}) {
        if (next != 0 && !known.count(next)) wanted.insert(next);
      }
    }
  }
  // A domain's base type (domains over domains included).
  auto base_of = [&](uint32_t oid) -> const Row* {
    for (int depth = 0; depth < 16; ++depth) {
      auto it = known.find(oid);
      if (it == known.end()) return nullptr;
      if (it->second.typtype != 'd') return &it->second;
      oid = it->second.base;
    }
    return nullptr;
  };
  types_.clear();
  text_form_columns_.clear();
  for (size_t i = 0; i < oids.size(); ++i) {
    PgType type;
    auto it = known.find(oids[i]);
    if (i < type_names.size()) type.name = type_names[i];
    else if (it != known.end()) type.name = it->second.info.name;
    else type.name = "oid " + std::to_string(oids[i]);
    const Row* base = base_of(oids[i]);
    Status why = Status::NotFound("unknown type");
    if (base && base->info.category == 'A' && base->info.element != 0) {
      const Row* element = base_of(base->info.element);
      if (element) {
        auto kind = ScalarKind(element->info);
        if (kind.ok()) {
          type.kind = PgKind::kArray;
          type.element = *kind;
          why = Status::OK();
        }
      }
    } else if (base) {
      auto kind = ScalarKind(base->info);
      if (kind.ok()) {
        type.kind = *kind;
        why = Status::OK();
      }
    }
    if (!why.ok()) {
      // No dedicated mapping (geometric types, money, ranges, bit strings, composites, hstore, arrays
      // of them, ...): every type has a text form, and the value is read as it, as psql shows it.
      type.kind = PgKind::kText;
      text_form_columns_.push_back(names[i] + " (" + type.name + ")");
    }
    types_.push_back(type);
  }
  return Status::OK();
}

Status PostgresSource::ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  Status s = ReadSplitWithRetries(split, consumer, cancel);
  if (!s.ok() && s.code() != Status::Code::kCancelled) s.WithContext("source " + config_.name);
  return s;
}

Status PostgresSource::ReadSplitWithRetries(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  if (!pool_) return Status::Internal("postgres source read before Prepare()");
  if (config_.progress_ms > 0) {
    std::call_once(progress_once_,
                   [this] { progress_ = std::make_unique<ProgressPrinter>(this, config_.progress_ms); });
  }
  std::call_once(canceller_once_, [this] { canceller_ = std::make_unique<StatementCanceller>(); });
  ChunkProgress progress;
  for (int attempt = 1;; ++attempt) {
    auto session = pool_->Acquire(cancel);
    if (!session.ok()) {
      Status s = session.status();
      if (attempt > 1 && s.code() != Status::Code::kCancelled) {
        s = Status(s.code(),
                   "could not read " + ChunkName(split) + " again after its connection was lost: " + s.message())
                .WithHint(s.hint().empty() ? "run again when the server is available" : s.hint());
      }
      return s;
    }
    PgError error;
    Status s = ReadChunkOnce(**session, split, consumer, cancel, &progress, &error);
    if (s.ok()) {
      pool_->Release(std::move(session).value());
      ChunkDone();
      return s;
    }
    pool_->Discard(std::move(session).value());
    if (!error.connection_lost || cancel.load()) return s;
    const std::string what = s.message();
    // Rows in the server's own order (queries, views) come back the same only by luck: resume those only
    // when nothing was delivered yet.
    const bool resumable =
        plan_.position != PositionKind::kOrdinal || !plan_.order_by.empty() || progress.delivered == 0;
    if (!snapshot_->Alive()) {
      return Status::IoError(what + "; the snapshot's own connection is gone too (the server stopped or restarted?), "
                                    "so the chunk cannot be read again from the same snapshot")
          .WithHint("run again once the server is available; no savepoint is written from a partial read");
    }
    if (!resumable) {
      return Status::IoError(what + "; " + Thousands(progress.delivered) + " rows of " + ObjectName() +
                             " were already read, and rows read in the server's own order cannot be resumed "
                             "(the order may differ on a second read)")
          .WithHint("run again when the server is stable");
    }
    if (attempt > config_.retries) {
      return Status::IoError(what + "; gave up after " + std::to_string(attempt) + " attempts")
          .WithHint("check the server's log for why its backends end; raise retries: to try more often");
    }
    std::fprintf(stderr,
                 "warning: source %s: %s; the snapshot is still open, so the chunk is read again on a new connection "
                 "(attempt %d of %d), skipping the %s rows already read\n",
                 config_.name.c_str(), what.c_str(), attempt + 1, config_.retries + 1,
                 Thousands(progress.delivered).c_str());
    std::fflush(stderr);
  }
}

void PostgresSource::ChunkDone() {
  if (chunks_done_.fetch_add(1) + 1 == plan_.chunks.size()) {
    // Every chunk is read: end the worker transactions now rather than hold the server's xmin horizon
    // back while the savepoint is written. The snapshot info stays for the provenance.
    progress_.reset();
    pool_->CloseAll();
    snapshot_.reset();
  }
}

Status PostgresSource::ReadChunkOnce(PgSession& s, size_t split, RecordConsumer& consumer,
                                     const std::atomic<bool>& cancel, ChunkProgress* progress, PgError* error) {
  const std::string sql = plan_.ChunkSql(split);
  const size_t ncols = types_.size();
  const size_t width = ncols + (plan_.position_column.empty() ? 0 : 1);
  std::vector<CopyField> fields;
  // One record, refilled row after row. Its schema is this chunk's own copy: workers sharing one schema
  // object would share (and fight over) its reference count on every row.
  Record record(std::make_shared<const Schema>(*schema_), {});
  std::vector<Value>& values = record.mutable_values();
  std::string line, scratch;
  uint64_t row = 0;  // rows of this attempt
  // Stops the server's COPY before returning early, so libpqxx need not drain the rest of the chunk.
  auto stop = [&](Status st) {
    s.CancelQuery();
    return st;
  };
  if (cancel.load()) return Status::Cancelled("interrupted");
  canceller_->Add(&s, &cancel);
  struct Unregister {
    StatementCanceller* canceller;
    PgSession* session;
    ~Unregister() { canceller->Remove(session); }
  } unregister{canceller_.get(), &s};
  // rows_read_ is added to by every reader: in batches, since a contended atomic add per row costs
  // about what a small row's routing does. Whatever is pending is added however the chunk ends.
  struct RowsRead {
    std::atomic<uint64_t>* total;
    uint64_t pending = 0;
    void Add() {
      if (++pending == 1024) Flush();
    }
    void Flush() {
      total->fetch_add(pending, std::memory_order_relaxed);
      pending = 0;
    }
    ~RowsRead() { Flush(); }
  } rows_read{&rows_read_};
  try {
    // libpqxx 6 COPYs "(<this>) TO STDOUT"; the newline ends a trailing -- comment of a query.
    pqxx::stream_from stream(s.tx(), "(" + sql + "\n)");
    while (stream.get_raw_line(line)) {
      ++row;
      if ((row & 1023) == 0 && cancel.load(std::memory_order_relaxed)) return stop(Status::Cancelled("interrupted"));
      if (!SplitCopyLine(line, width, &fields)) {
        return stop(Status::Corruption("a row of " + ChunkName(split) + " has " + std::to_string(fields.size()) +
                                       " fields, expected " + std::to_string(width)));
      }
      uint64_t position = 0;
      switch (plan_.position) {
        case PositionKind::kIntKey: {
          int64_t key;
          const std::string_view k = fields[ncols].raw;
          auto r = std::from_chars(k.data(), k.data() + k.size(), key);
          if (r.ec != std::errc() || fields[ncols].null) {
            return stop(Status::Corruption("bad primary key value '" + PreviewText(k, 60) + "' in " + ChunkName(split)));
          }
          position = IntKeyPosition(key);
          break;
        }
        case PositionKind::kCtid:
          if (!ParseCtid(fields[ncols].raw, &position)) {
            return stop(Status::Corruption("bad ctid '" + PreviewText(fields[ncols].raw, 60) + "' in " + ChunkName(split)));
          }
          break;
        case PositionKind::kOrdinal:
          position = (static_cast<uint64_t>(split) << kOrdinalRowBits) | (row - 1);
          break;
      }
      if (row <= progress->delivered) {
        // Read by an earlier attempt: the same snapshot and plan give the same rows in the same order.
        if (row == progress->delivered && plan_.position != PositionKind::kOrdinal &&
            position != progress->last_position) {
          return stop(Status::IoError("reading " + ChunkName(split) + " again returned its rows in another order, so "
                                      "it cannot resume where the lost connection stopped")
                          .WithHint("run again"));
        }
        continue;
      }
      values.resize(ncols);
      Status decoded;
      for (size_t i = 0; i < ncols && decoded.ok(); ++i) {
        if (fields[i].null) {
          values[i] = Value::Null();
          continue;
        }
        decoded = DecodePgText(types_[i], UnescapeCopyField(fields[i].raw, &scratch), config_.timestamps, &values[i]);
        if (!decoded.ok()) decoded.WithContext(DescribePosition(position) + " column " + schema_->names()[i]);
      }
      if (!decoded.ok()) {
        // The row as the server sent it, column by column, for the dead-letter file.
        nlohmann::ordered_json raw = nlohmann::ordered_json::object();
        for (size_t i = 0; i < ncols; ++i) {
          raw[schema_->names()[i]] =
              fields[i].null ? nlohmann::ordered_json(nullptr) : JsonBytes(UnescapeCopyField(fields[i].raw, &scratch));
        }
        Status st = consumer.Reject(position, std::move(decoded), raw);
        if (!st.ok()) return stop(st);
      } else {
        Status st = consumer.Consume(record, position);
        if (!st.ok()) {
          if (st.code() == Status::Code::kCancelled) return stop(st);
          return stop(st.WithContext(DescribePosition(position)));
        }
      }
      progress->delivered = row;
      progress->last_position = position;
      rows_read.Add();
    }
    stream.complete();
  } catch (const std::exception& e) {
    *error = s.Convert(e, "reading " + ChunkName(split));
    if (error->status.code() == Status::Code::kCancelled && !cancel.load()) {
      error->status = Status::IoError(error->status.message() + " (by another session or an administrator)");
    }
    return error->status;
  }
  return Status::OK();
}

Status PostgresSource::PrepareToResume(const nlohmann::ordered_json&) {
  return Status::InvalidSpec("a PostgreSQL source cannot continue an interrupted run: the snapshot it read ended "
                             "with that run, and reading the rest from a new one would mix two points in time")
      .WithHint("run without --resume to read everything again from one snapshot");
}

std::string PostgresSource::DescribePosition(uint64_t position) const {
  switch (plan_.position) {
    case PositionKind::kIntKey:
      return ObjectName() + " " + key_column_ + "=" + std::to_string(IntKeyFromPosition(position));
    case PositionKind::kCtid:
      return ObjectName() + " row at ctid " + CtidText(position);
    case PositionKind::kOrdinal: {
      const size_t chunk = static_cast<size_t>(position >> kOrdinalRowBits);
      const uint64_t row = (position & ((uint64_t{1} << kOrdinalRowBits) - 1)) + 1;
      if (plan_.chunks.size() <= 1 || chunk >= plan_.chunks.size()) return ObjectName() + " row " + std::to_string(row);
      return ChunkName(chunk) + " row " + std::to_string(row);
    }
  }
  return ObjectName();
}

nlohmann::ordered_json PostgresSource::Provenance() const {
  nlohmann::ordered_json j;
  j["kind"] = "postgres";
  const nlohmann::ordered_json endpoint = config_.endpoint.Describe();
  for (const auto& [k, v] : endpoint.items()) j[k] = v;
  if (config_.table) j["table"] = config_.table->Display();
  else j["query"] = config_.query;
  j["snapshot"] = nlohmann::ordered_json{{"id", snapshot_info_.id},
                                         {"exported", snapshot_info_.exported},
                                         {"lsn", snapshot_info_.lsn},
                                         {"time", snapshot_info_.time},
                                         {"time_ms", snapshot_info_.time_ms},
                                         {"txid_snapshot", snapshot_info_.txid_snapshot}};
  if (snapshot_info_.in_recovery) j["snapshot"]["lsn_is"] = "replay position (standby)";
  j["rows"] = rows_read_.load();
  j["chunks"] = plan_.chunks.size();
  j["split_by"] = split_name_;
  return j;
}

}  // namespace sfb
