// PgSession: one connection to the server, and the transaction the connector reads in.
//
// Every session is set up the same way: the COPY text it receives is exact and stable (TimeZone UTC,
// DateStyle ISO, shortest-exact floats, hex bytea, UTF-8, standard strings), rows come back in a
// repeatable order (no synchronized or parallel scans), statement and idle-in-transaction timeouts
// are off (as pg_dump does: a long read is not an error), and lock waits give up after lock_timeout.
// Begin() opens the REPEATABLE READ, READ ONLY transaction everything is read in.
//
// libpqxx's automatic reconnection is switched off: a session whose connection broke is discarded,
// never silently replaced by a new connection outside the snapshot.
//
// Failures are PgErrors: a Status whose message has a hint (and, like all text here, no password),
// plus whether the connection itself was lost (the backend was terminated, the server stopped, the
// network broke), which is what makes a chunk worth retrying.

#ifndef SFB_CONNECTORS_POSTGRES_PG_SESSION_H_
#define SFB_CONNECTORS_POSTGRES_PG_SESSION_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "common/status.h"
#include "connectors/postgres/pg_endpoint.h"

namespace sfb {

struct PgError {
  Status status;
  bool connection_lost = false;
  std::string sqlstate;  // "" when the failure did not come from the server
  // Where in the statement the server found the error: the character position (from 1) it reports for
  // syntax errors, and the line its message shows ("LINE 3: ...") for others; -1 when it said none.
  int position = -1;
  int line = -1;
};

class PgSession {
 public:
  // Connects and applies the session settings. `role` names the session in messages and in
  // pg_stat_activity's application_name when the spec does not set one ("snapshot", "worker").
  static Result<std::unique_ptr<PgSession>> Open(const PgEndpoint& endpoint, const std::string& role,
                                                 int64_t lock_timeout_ms);
  ~PgSession();

  // BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY.
  Status Begin();
  // SET TRANSACTION SNAPSHOT: must follow Begin() directly.
  Status ImportSnapshot(const std::string& snapshot_id);

  // Runs `sql`; `what` says what it was for ("checking the columns of public.orders").
  Result<pqxx::result> Exec(const std::string& sql, const std::string& what);
  // With parameters $1, $2, ... sent separately from the SQL text.
  template <typename... Args>
  Result<pqxx::result> ExecParams(const std::string& sql, const std::string& what, Args&&... args) {
    try {
      return tx_->exec_params(sql, std::forward<Args>(args)...);
    } catch (const std::exception& e) {
      return Convert(e, what).status;
    }
  }

  // Has the server parse and analyze `sql` exactly as given, as prepared statement `name` (nothing is
  // run), so that an error's position is one in `sql`. False, with `error` filled, when it fails.
  bool Prepare(const std::string& name, const std::string& sql, const std::string& what, PgError* error);
  void Unprepare(const std::string& name);

  // The error for an exception thrown by libpqxx while doing `what`.
  PgError Convert(const std::exception& e, const std::string& what) const;
  // Asks the server to cancel the running statement (from the thread that runs it, before it stops
  // reading the COPY, so libpqxx does not have to drain the rest of the chunk).
  void CancelQuery();

  // True when the server has sent something on this idle session or closed it, within `wait_ms`: an idle
  // session is sent nothing but a termination notice, so the session is dead. Looks at the socket only,
  // because a statement on a connection the server already closed makes libpqxx 6 leak the failed result.
  bool PeerClosed(int wait_ms = 0) const;

  pqxx::nontransaction& tx() { return *tx_; }
  int server_version() const { return conn_->server_version(); }
  int backend_pid() const { return conn_->backendpid(); }
  const PgEndpoint& endpoint() const { return endpoint_; }

 private:
  PgSession(const PgEndpoint& endpoint, std::unique_ptr<pqxx::connection> conn)
      : endpoint_(endpoint), conn_(std::move(conn)) {}

  PgEndpoint endpoint_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::nontransaction> tx_;
};

// The hint for a connection failure's message (wrong password, unknown database, refused, TLS).
std::string ConnectHint(const std::string& message, const PgEndpoint& endpoint);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_PG_SESSION_H_
