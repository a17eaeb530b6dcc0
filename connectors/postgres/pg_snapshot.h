// PgSnapshot: the one consistent view of the database that every reader of a job shares.
//
// As `pg_dump -j` does: one session (the coordinator) opens a REPEATABLE READ, READ ONLY transaction
// and exports its snapshot with pg_export_snapshot(); every worker session imports it (SET TRANSACTION
// SNAPSHOT) before reading, so all chunks of all tables see the database as of one instant, whatever
// other sessions insert, update or delete meanwhile. An exported snapshot can be imported only while
// the exporting transaction is open, so the coordinator lives as long as a source still needs it
// (shared ownership) and ends its transaction when the last one lets go.
//
// With `snapshot:` in the spec the coordinator imports a snapshot someone else exported (for example
// by CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT on a replication connection, whose consistent point is
// the exact LSN a CDC reader should start from) instead of exporting its own.
//
// Sources of one job with the same connection settings share one snapshot (Acquire), so tables read
// together are consistent with each other. The coordinator also records where the snapshot sits in the
// WAL (the LSN), the server time and the txid snapshot, for the savepoint's provenance; and it runs
// the sources' catalog queries and holds their ACCESS SHARE table locks (so no ALTER, DROP or TRUNCATE
// can run under the read), one source at a time.

#ifndef SFB_CONNECTORS_POSTGRES_PG_SNAPSHOT_H_
#define SFB_CONNECTORS_POSTGRES_PG_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/postgres/pg_session.h"

namespace sfb {

class PgSnapshot {
 public:
  struct Info {
    std::string id;             // "00000003-0000001B-1"
    bool exported = true;       // false: imported from `snapshot:`
    std::string lsn;            // WAL position when the snapshot was taken ("0/16B3748")
    bool in_recovery = false;   // a standby: lsn is the replay position
    std::string time;           // "2024-05-01T12:00:00.123456Z"
    int64_t time_ms = 0;
    std::string txid_snapshot;  // "xmin:xmax:xip,..."
    int server_version = 0;     // 150004
    std::string user;           // current_user
    std::string database;       // current_database()
  };

  // The snapshot for `endpoint`: the one already open in this process for the same settings, or a new
  // one. `given_snapshot` non-empty: import that snapshot instead of exporting one.
  static Result<std::shared_ptr<PgSnapshot>> Acquire(const PgEndpoint& endpoint, const std::string& given_snapshot,
                                                     int64_t lock_timeout_ms);
  ~PgSnapshot();

  const Info& info() const { return info_; }
  nlohmann::ordered_json InfoJson() const;
  // Runs `fn` on the coordinator session, one caller at a time.
  Status WithSession(const std::function<Status(PgSession&)>& fn);
  // True while the coordinator's connection answers, i.e. while workers can still import the snapshot.
  bool Alive();

 private:
  PgSnapshot() = default;
  Status Open(const PgEndpoint& endpoint, const std::string& given_snapshot, int64_t lock_timeout_ms);

  std::mutex mu_;
  std::unique_ptr<PgSession> session_;
  Info info_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_PG_SNAPSHOT_H_
