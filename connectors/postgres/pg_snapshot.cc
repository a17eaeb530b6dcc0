#include "connectors/postgres/pg_snapshot.h"

#include <map>

namespace sfb {
namespace {

std::mutex g_registry_mu;
// Open snapshots by connection settings; weak, so the last source to let go ends the transaction.
std::map<std::string, std::weak_ptr<PgSnapshot>>& Registry() {
  static auto* registry = new std::map<std::string, std::weak_ptr<PgSnapshot>>();
  return *registry;
}

}  // namespace

Result<std::shared_ptr<PgSnapshot>> PgSnapshot::Acquire(const PgEndpoint& endpoint, const std::string& given_snapshot,
                                                        int64_t lock_timeout_ms) {
  const std::string key = endpoint.conninfo() + '\x01' + given_snapshot + '\x01' + std::to_string(lock_timeout_ms);
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto& registry = Registry();
  auto it = registry.find(key);
  if (it != registry.end()) {
    if (auto open = it->second.lock()) return open;
  }
  std::shared_ptr<PgSnapshot> snapshot(new PgSnapshot());
  SFB_RETURN_IF_ERROR(snapshot->Open(endpoint, given_snapshot, lock_timeout_ms));
  registry[key] = snapshot;
  return snapshot;
}

PgSnapshot::~PgSnapshot() = default;

Status PgSnapshot::Open(const PgEndpoint& endpoint, const std::string& given_snapshot, int64_t lock_timeout_ms) {
  SFB_ASSIGN_OR_RETURN(session_, PgSession::Open(endpoint, "snapshot", lock_timeout_ms));
  info_.server_version = session_->server_version();
  if (info_.server_version < 100000) {
    return Status::InvalidSpec("the server at " + endpoint.Label() + " runs PostgreSQL " +
                               std::to_string(info_.server_version / 10000) + "; the connector needs 10 or newer")
        .WithHint("export the data to CSV (COPY ... TO ... CSV HEADER) and use a file: source");
  }
  SFB_RETURN_IF_ERROR(session_->Begin());
  info_.exported = given_snapshot.empty();
  if (!info_.exported) SFB_RETURN_IF_ERROR(session_->ImportSnapshot(given_snapshot));
  // One statement: its snapshot is the transaction's (REPEATABLE READ takes it at the first statement),
  // and the LSN and clock are read right after it is taken.
  const std::string sql =
      std::string("SELECT ") + (info_.exported ? "pg_export_snapshot()" : "NULL") +
      ", pg_is_in_recovery(), "
      "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text, "
      "to_char(c.t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
      "floor(extract(epoch FROM c.t) * 1000)::bigint, " +
      (info_.server_version >= 130000 ? "pg_current_snapshot()::text" : "txid_current_snapshot()::text") +
      ", current_user, current_database() FROM (SELECT clock_timestamp() AS t) AS c";
  SFB_ASSIGN_OR_RETURN(pqxx::result r, session_->Exec(sql, "taking the snapshot"));
  const pqxx::row row = r[0];
  info_.id = info_.exported ? row[0].c_str() : given_snapshot;
  info_.in_recovery = std::string(row[1].c_str()) == "t";
  info_.lsn = row[2].is_null() ? "" : row[2].c_str();
  info_.time = row[3].c_str();
  info_.time_ms = row[4].as<int64_t>();
  info_.txid_snapshot = row[5].c_str();
  info_.user = row[6].c_str();
  info_.database = row[7].c_str();
  return Status::OK();
}

nlohmann::ordered_json PgSnapshot::InfoJson() const {
  nlohmann::ordered_json j;
  j["id"] = info_.id;
  j["exported"] = info_.exported;
  j["lsn"] = info_.lsn;
  if (info_.in_recovery) j["lsn_kind"] = "replay (the server is a standby)";
  j["time"] = info_.time;
  j["time_ms"] = info_.time_ms;
  j["txid_snapshot"] = info_.txid_snapshot;
  j["server_version"] = info_.server_version;
  return j;
}

Status PgSnapshot::WithSession(const std::function<Status(PgSession&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  return fn(*session_);
}

bool PgSnapshot::Alive() {
  std::lock_guard<std::mutex> lock(mu_);
  // Asked after a worker lost its connection: when the server is going away or terminating sessions,
  // the snapshot session's notice arrives within moments.
  return session_ && !session_->PeerClosed(/*wait_ms=*/250) &&
         session_->Exec("SELECT 1", "checking the snapshot's connection").ok();
}

}  // namespace sfb
