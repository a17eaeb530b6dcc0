#include "connectors/postgres/pg_session.h"

#include <poll.h>

#include <cstdlib>

#include "connectors/postgres/sql_text.h"

namespace sfb {
namespace {

// The first line of a libpq/server message, without the severity prefix.
std::string FirstLine(std::string text) {
  const size_t nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  for (const char* prefix : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
    if (text.rfind(prefix, 0) == 0) text = text.substr(std::char_traits<char>::length(prefix));
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

bool Contains(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// The SQLSTATE of a server error. libpqxx 6 leaves it empty in the subclasses it throws for some codes,
// so those are recognized by their type.
std::string SqlState(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  if (dynamic_cast<const pqxx::undefined_table*>(&e)) return "42P01";
  if (dynamic_cast<const pqxx::undefined_column*>(&e)) return "42703";
  if (dynamic_cast<const pqxx::undefined_function*>(&e)) return "42883";
  if (dynamic_cast<const pqxx::syntax_error*>(&e)) return "42601";
  if (dynamic_cast<const pqxx::feature_not_supported*>(&e)) return "0A000";
  if (dynamic_cast<const pqxx::data_exception*>(&e)) return "22000";
  if (dynamic_cast<const pqxx::insufficient_resources*>(&e)) return "53000";
  return "";
}

}  // namespace

std::string ConnectHint(const std::string& message, const PgEndpoint& endpoint) {
  const std::string user = endpoint.user().empty() ? "the user" : "user " + endpoint.user();
  if (Contains(message, "password authentication failed") || Contains(message, "authentication failed")) {
    return "check the password of " + user +
           " (password: in the source, usually password: ${PGPASSWORD}, or the dsn, or ~/.pgpass)";
  }
  if (Contains(message, "no password supplied") || Contains(message, "fe_sendauth")) {
    return "the server wants a password for " + user + ": add password: ${PGPASSWORD} to the source and export it";
  }
  if (Contains(message, "permission denied for database")) {
    const std::string db = endpoint.database().empty() ? "the database" : QuoteIdentifier(endpoint.database());
    return "GRANT CONNECT ON DATABASE " + db + " TO " +
           (endpoint.user().empty() ? "the user" : QuoteIdentifier(endpoint.user())) + ";";
  }
  if (Contains(message, "database") && Contains(message, "does not exist")) {
    return "check database: (or dbname in the dsn); list databases with psql -l";
  }
  if (Contains(message, "role") && Contains(message, "does not exist")) {
    return "check user: (or user in the dsn); the role must exist on the server";
  }
  if (Contains(message, "pg_hba.conf")) {
    return "the server's pg_hba.conf does not admit this user/host/database (or needs TLS: set sslmode: require)";
  }
  if (Contains(message, "SSL") || Contains(message, "certificate")) {
    return "check sslmode, sslrootcert (the CA that signed the server's certificate), sslcert and sslkey";
  }
  if (Contains(message, "timeout expired")) {
    return "the server did not answer within connect_timeout: check host and port, and that it is reachable";
  }
  if (Contains(message, "Connection refused") || Contains(message, "could not connect") ||
      Contains(message, "could not translate host name") || Contains(message, "No such file")) {
    return "check host and port, and that the server is running and accepts TCP connections there";
  }
  if (Contains(message, "shutting down") || Contains(message, "starting up") || Contains(message, "recovery mode")) {
    return "the server is not accepting connections right now; run again when it is up";
  }
  return "check the connection settings (dsn, host, port, database, user, password, sslmode)";
}

Result<std::unique_ptr<PgSession>> PgSession::Open(const PgEndpoint& endpoint, const std::string& role,
                                                   int64_t lock_timeout_ms) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(endpoint.conninfo() + " fallback_application_name='statefun-bootstrap " +
                                              role + "'");
  } catch (const std::exception& e) {
    const std::string why = FirstLine(e.what());
    return Status::IoError("cannot connect to PostgreSQL at " + endpoint.Label() + ": " + why)
        .WithHint(ConnectHint(why, endpoint));
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // Never reconnect behind our back: a new connection would not be in the snapshot's transaction.
  conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
  std::unique_ptr<PgSession> s(new PgSession(endpoint, std::move(conn)));
  try {
    s->tx_ = std::make_unique<pqxx::nontransaction>(*s->conn_, role);
  } catch (const std::exception& e) {
    return s->Convert(e, "starting a session").status;
  }
  SFB_RETURN_IF_ERROR(s->Exec("SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; "
                              "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; "
                              "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
                              "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; "
                              "SET lock_timeout = " + std::to_string(lock_timeout_ms) + "; "
                              "SET synchronize_seqscans = off; SET max_parallel_workers_per_gather = 0",
                              "setting up the session")
                          .status());
  return s;
}

PgSession::~PgSession() {
  if (!tx_) return;
  if (!PeerClosed()) {
    try {
      tx_->exec("ROLLBACK");  // the transaction only read: nothing to keep
    } catch (...) {
    }
  }
  tx_.reset();
  try {
    conn_->disconnect();
  } catch (...) {
  }
}

Status PgSession::Begin() {
  return Exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "starting the read transaction").status();
}

Status PgSession::ImportSnapshot(const std::string& snapshot_id) {
  auto r = Exec("SET TRANSACTION SNAPSHOT " + QuoteLiteral(snapshot_id), "importing snapshot " + snapshot_id);
  if (r.ok()) return Status::OK();
  Status s = r.status();
  if (s.message().find("invalid snapshot identifier") != std::string::npos ||
      s.message().find("could not import") != std::string::npos) {
    return Status::NotFound("snapshot " + snapshot_id + " is no longer available: " + s.message())
        .WithHint("a snapshot can be imported only while the transaction that exported it is open; if you passed "
                  "snapshot:, keep that session open until the run ends, otherwise run again");
  }
  return s;
}

Result<pqxx::result> PgSession::Exec(const std::string& sql, const std::string& what) {
  try {
    return tx_->exec(sql);
  } catch (const std::exception& e) {
    return Convert(e, what).status;
  }
}

bool PgSession::Prepare(const std::string& name, const std::string& sql, const std::string& what, PgError* error) {
  try {
    conn_->prepare(name, sql);
    conn_->prepare_now(name);
    return true;
  } catch (const std::exception& e) {
    *error = Convert(e, what);
    Unprepare(name);
    return false;
  }
}

void PgSession::Unprepare(const std::string& name) {
  try {
    conn_->unprepare(name);
  } catch (...) {
  }
}

bool PgSession::PeerClosed(int wait_ms) const {
  const int fd = conn_->sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, wait_ms) != 0;
}

void PgSession::CancelQuery() {
  try {
    conn_->cancel_query();
  } catch (...) {
  }
}

PgError PgSession::Convert(const std::exception& e, const std::string& what) const {
  PgError out;
  const std::string message = FirstLine(e.what());
  const std::string where = "while " + what + " on " + endpoint_.Label();
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    out.connection_lost = true;
    out.status = Status::IoError("lost the connection to the server " + where + ": " + message);
    return out;
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) {
    out.status = Status::IoError("PostgreSQL client error " + where + ": " + message);
    return out;
  }
  out.sqlstate = SqlState(*sql);
  if (const auto* syntax = dynamic_cast<const pqxx::syntax_error*>(&e)) out.position = syntax->error_position;
  // libpq's message shows the statement's line with the error as "LINE n: ...".
  const std::string full = e.what();
  const size_t at = full.find("\nLINE ");
  if (at != std::string::npos) out.line = std::atoi(full.c_str() + at + 6);
  if (out.line <= 0) out.line = -1;
  const std::string& code = out.sqlstate;
  if (code.rfind("08", 0) == 0 || code == "57P01" || code == "57P02" || code == "57P03") {
    out.connection_lost = true;
    out.status = Status::IoError("the server ended the connection " + where + ": " + message);
  } else if (code == "42501") {
    out.status = Status::IoError("permission denied " + where + ": " + message)
                     .WithHint("GRANT the role SELECT on what it reads (and USAGE on the schema), or read as "
                               "another user");
  } else if (code == "55P03") {
    out.status = Status::IoError("could not get a lock " + where + ": " + message)
                     .WithHint("another session holds or waits for a conflicting lock (ALTER TABLE, TRUNCATE, VACUUM "
                               "FULL, DROP): let it finish, or raise lock_timeout:");
  } else if (code == "57014") {
    out.status = Status::Cancelled("the statement was cancelled " + where);
  } else if (code == "25006") {
    out.status = Status::InvalidSpec(message + " (" + what + ")")
                     .WithHint("sources are read in a READ ONLY transaction: the query must only read");
  } else if (code.rfind("42", 0) == 0 || code == "3F000") {  // a name or the SQL of the spec is wrong
    out.status = Status::InvalidSpec(message + " (" + what + ")");
  } else {
    out.status = Status::IoError("PostgreSQL error" + (code.empty() ? "" : " " + code) + " " + where + ": " + message);
  }
  return out;
}

}  // namespace sfb
