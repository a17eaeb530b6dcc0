// Tests of RunParallel and FirstError: every task runs once on at most `threads` workers, and after a
// failing task no other starts; the first error is the one kept.

#include "pipeline/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <vector>

namespace sfb {
namespace {

TEST(RunParallelTest, EveryTaskRunsOnceOnAtMostThreadsWorkers) {
  for (int threads : {1, 2, 4}) {
    std::vector<std::atomic<int>> runs(100);
    std::mutex mu;
    std::set<size_t> workers;
    FirstError error;
    RunParallel(runs.size(), threads, &error, [&](size_t task, size_t worker) -> Status {
      runs[task].fetch_add(1);
      std::lock_guard<std::mutex> lock(mu);
      workers.insert(worker);
      return Status::OK();
    });
    EXPECT_TRUE(error.Get().ok());
    EXPECT_FALSE(error.stop().load());
    for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i << ", threads " << threads;
    EXPECT_LE(workers.size(), static_cast<size_t>(threads));
    for (size_t w : workers) EXPECT_LT(w, static_cast<size_t>(threads));
  }
}

TEST(RunParallelTest, NoTasksRunNothing) {
  FirstError error;
  int calls = 0;
  RunParallel(0, 4, &error, [&](size_t, size_t) -> Status {
    ++calls;
    return Status::OK();
  });
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(error.Get().ok());
}

TEST(RunParallelTest, AFailingTaskStopsTheRestAndItsErrorIsKept) {
  FirstError error;
  std::vector<size_t> ran;
  RunParallel(10, 1, &error, [&](size_t task, size_t) -> Status {
    ran.push_back(task);
    if (task == 3) return Status::IoError("task 3 failed");
    return Status::OK();
  });
  EXPECT_EQ(ran, (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(error.stop().load());
  EXPECT_EQ(error.Get().code(), Status::Code::kIoError);
  EXPECT_EQ(error.Get().message(), "task 3 failed");
}

TEST(FirstErrorTest, KeepsTheFirstOfSeveral) {
  FirstError error;
  error.Set(Status::BadRecord("first"));
  error.Set(Status::IoError("second"));
  EXPECT_EQ(error.Get().message(), "first");
  EXPECT_TRUE(error.stop().load());
}

}  // namespace
}  // namespace sfb
