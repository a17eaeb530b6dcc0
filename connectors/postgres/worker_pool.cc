#include "connectors/postgres/worker_pool.h"

#include <chrono>

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
  if (!opened.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
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
  cv_.notify_one();
}

void WorkerPool::CloseAll() {
  std::vector<std::unique_ptr<PgSession>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
  }
  closing.clear();
}

}  // namespace sfb
