#include "pipeline/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace sfb {

void FirstError::Set(Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.ok()) status_ = std::move(s);
  stop_.store(true);
}

Status FirstError::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void RunParallel(size_t n, int threads, FirstError* error, const std::function<Status(size_t, size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&](size_t worker_index) {
    for (;;) {
      if (error->stop().load()) return;
      const size_t task = next.fetch_add(1);
      if (task >= n) return;
      Status s = fn(task, worker_index);
      if (!s.ok()) error->Set(std::move(s));
    }
  };
  std::vector<std::thread> pool;
  const size_t count = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  for (size_t i = 1; i < count; ++i) pool.emplace_back(worker, i);
  if (count > 0) worker(0);
  for (auto& t : pool) t.join();
}

}  // namespace sfb
