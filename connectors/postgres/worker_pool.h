// WorkerPool: the worker sessions of one source, each inside the shared snapshot.
//
// A reading thread takes a session for one chunk and gives it back, so a session (and its server
// backend) serves many chunks and at most `max` connections are open per source however many threads
// read. A session is opened lazily: connect, BEGIN REPEATABLE READ READ ONLY, SET TRANSACTION SNAPSHOT.
// A session that failed is discarded, never reused (its transaction state is unknown).

#ifndef SFB_CONNECTORS_POSTGRES_WORKER_POOL_H_
#define SFB_CONNECTORS_POSTGRES_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/postgres/pg_session.h"

namespace sfb {

class WorkerPool {
 public:
  WorkerPool(PgEndpoint endpoint, std::string snapshot_id, int64_t lock_timeout_ms, int max)
      : endpoint_(std::move(endpoint)), snapshot_id_(std::move(snapshot_id)), lock_timeout_ms_(lock_timeout_ms),
        requested_(max), max_(max) {}

  // An idle session, or a new one while fewer than `max` are open; otherwise waits for one (returning
  // Cancelled once `cancel` is set). When the server refuses a new connection for lack of slots while
  // the source has others, it goes on with those (with a warning) rather than failing.
  Result<std::unique_ptr<PgSession>> Acquire(const std::atomic<bool>& cancel);
  void Release(std::unique_ptr<PgSession> session);
  void Discard(std::unique_ptr<PgSession> session);
  // Ends every idle session's transaction and closes it.
  void CloseAll();

 private:
  const PgEndpoint endpoint_;
  const std::string snapshot_id_;
  const int64_t lock_timeout_ms_;
  const int requested_;
  int max_;  // lowered when the server runs out of connections
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgSession>> idle_;
  int open_ = 0;   // sessions open or being opened
  int ready_ = 0;  // sessions open
  bool warned_ = false;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_WORKER_POOL_H_
