// FirstError and RunParallel: the worker pool every stage runs on.
//
// RunParallel(n, threads, error, fn) runs fn(task, worker) for tasks 0..n-1 on min(n, threads) workers
// (the calling thread is worker 0), each worker taking the next task as it finishes one, so tasks may
// finish in any order: a stage whose output must not depend on --threads keys what it produces by the
// task, never by the worker or the time. The first failing task's status is kept in `error`; its stop
// flag is raised at once and no task starts after it (tasks already running see the flag only if
// they poll it). Returns when every worker has returned.

#ifndef SFB_PIPELINE_PARALLEL_H_
#define SFB_PIPELINE_PARALLEL_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>

#include "common/status.h"

namespace sfb {

// Collects the first error of many threads and tells all of them to stop.
class FirstError {
 public:
  void Set(Status s);
  Status Get();
  std::atomic<bool>& stop() { return stop_; }

 private:
  std::mutex mu_;
  Status status_;
  std::atomic<bool> stop_{false};
};

void RunParallel(size_t n, int threads, FirstError* error, const std::function<Status(size_t, size_t)>& fn);

}  // namespace sfb

#endif  // SFB_PIPELINE_PARALLEL_H_
