#include "connectors/postgres/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace sfb {

Result<std::unique_ptr<PgSession>> WorkerPool::Acquire(const std::atomic<bool>& cancel) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
      if (open_ < max_) break;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (cancel.load()) return Status::Cancelled("interrupted");
    }
    ++open_;
  }
  auto opened = [&]() -> Result<std::unique_ptr<PgSession>> {
    SFB_ASSIGN_OR_RETURN(auto s, PgSession::Open(endpoint_, "worker", lock_timeout_ms_));
    SFB_RETURN_IF_ERROR(s->Begin());
    SFB_RETURN_IF_ERROR(s->ImportSnapshot(snapshot_id_));
    return s;
  }();
  std::unique_lock<std::mutex> lock(mu_);
  if (opened.ok()) {
    ++ready_;
    return opened;
  }
  --open_;
  cv_.notify_one();
  const std::string& why = opened.status().message();
  const bool server_full = why.find("too many clients") != std::string::npos ||
                           why.find("too many connections for") != std::string::npos ||  // role, database
                           why.find("remaining connection slots are reserved") != std::string::npos;
  if (server_full && open_ > 0) {
    // The server has no connection to spare: go on with the sessions this source has (or is opening).
    max_ = std::max(ready_, 1);
    if (!warned_) {
      warned_ = true;
      const size_t fatal = why.find("FATAL:");
      std::string said = fatal == std::string::npos ? why : why.substr(fatal + 6);
      said.erase(0, said.find_first_not_of(' '));
      std::fprintf(stderr, "warning: the server at %s accepts no more connections (%s); reading with fewer "
                   "workers than the %d asked for\n", endpoint_.Label().c_str(), said.c_str(), requested_);
    }
    lock.unlock();
    return Acquire(cancel);
  }
  return opened;
}

void WorkerPool::Release(std::unique_ptr<PgSession> session) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(session));
  cv_.notify_one();
}

void WorkerPool::Discard(std::unique_ptr<PgSession> session) {
  session.reset();
  std::lock_guard<std::mutex> lock(mu_);
  --open_;
  --ready_;
  cv_.notify_one();
}

void WorkerPool::CloseAll() {
  std::vector<std::unique_ptr<PgSession>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
    ready_ -= static_cast<int>(closing.size());
  }
  closing.clear();
}

}  // namespace sfb
