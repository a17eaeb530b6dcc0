// Tests of MemoryBudget and of the default budget's reading of /proc and /sys (on a fake root).

#include "writer/memory_budget.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace sfb {
namespace {

class FakeRoot {
 public:
  FakeRoot() : dir_(std::filesystem::temp_directory_path() / ("sfb-memory-root-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
  }
  ~FakeRoot() { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + path).parent_path());
    std::ofstream(dir_ + path) << text;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

constexpr char kMeminfo[] = "MemTotal:       24000000 kB\nMemFree:        100 kB\nMemAvailable:   16000000 kB\n";

TEST(MemoryBudgetTest, ReservesWithinTheLimitOnly) {
  MemoryBudget budget(1000);
  EXPECT_TRUE(budget.TryReserve(600));
  EXPECT_FALSE(budget.TryReserve(401));
  EXPECT_TRUE(budget.TryReserve(400));
  EXPECT_EQ(budget.reserved(), 1000u);
  budget.Release(700);
  EXPECT_EQ(budget.reserved(), 300u);
  EXPECT_EQ(budget.peak(), 1000u);
}

TEST(MemoryBudgetTest, ThreadsNeverReserveMoreThanTheLimitTogether) {
  MemoryBudget budget(1 << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&budget] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.TryReserve(1000)) budget.Release(1000);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget.reserved(), 0u);
  EXPECT_LE(budget.peak(), 1u << 20);
}

TEST(MemoryBudgetTest, AvailableMemoryOfAMachineWithoutCgroupLimit) {
  FakeRoot root;
  root.Write("/proc/meminfo", kMeminfo);
  root.Write("/proc/self/cgroup", "0::/user.slice\n");
  root.Write("/sys/fs/cgroup/user.slice/memory.max", "max\n");
  const AvailableMemory m = ReadAvailableMemory(root.dir());
  EXPECT_EQ(m.bytes, 16000000ull << 10);
  EXPECT_EQ(m.source, "MemAvailable");
  EXPECT_EQ(DefaultMemoryBudget(m), 8000000ull << 10);  // half
}

TEST(MemoryBudgetTest, ACgroupV2LimitInAContainerWins) {
  FakeRoot root;
  root.Write("/proc/meminfo", kMeminfo);
  root.Write("/proc/self/cgroup", "0::/\n");
  root.Write("/sys/fs/cgroup/memory.max", "2147483648\n");
  root.Write("/sys/fs/cgroup/memory.current", "536870912\n");
  const AvailableMemory m = ReadAvailableMemory(root.dir());
  EXPECT_EQ(m.bytes, 1536ull << 20);
  EXPECT_NE(m.source.find("memory.max"), std::string::npos) << m.source;
  EXPECT_EQ(DefaultMemoryBudget(m), 768ull << 20);
}

TEST(MemoryBudgetTest, TheProcessesOwnCgroupV2IsFound) {
  FakeRoot root;
  root.Write("/proc/meminfo", kMeminfo);
  root.Write("/proc/self/cgroup", "0::/kubepods/pod1/c1\n");
  root.Write("/sys/fs/cgroup/kubepods/pod1/c1/memory.max", "1073741824\n");
  root.Write("/sys/fs/cgroup/kubepods/pod1/c1/memory.current", "0\n");
  EXPECT_EQ(ReadAvailableMemory(root.dir()).bytes, 1ull << 30);
}

TEST(MemoryBudgetTest, ACgroupV1Limit) {
  FakeRoot root;
  root.Write("/proc/meminfo", kMeminfo);
  root.Write("/proc/self/cgroup", "5:memory:/docker/abc\n1:cpu:/docker/abc\n");
  root.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "4294967296\n");
  root.Write("/sys/fs/cgroup/memory/memory.usage_in_bytes", "0\n");
  const AvailableMemory m = ReadAvailableMemory(root.dir());
  EXPECT_EQ(m.bytes, 4ull << 30);
  EXPECT_NE(m.source.find("memory.limit_in_bytes"), std::string::npos) << m.source;
}

TEST(MemoryBudgetTest, AnUnlimitedCgroupV1SaysSoWithAHugeNumber) {
  FakeRoot root;
  root.Write("/proc/meminfo", kMeminfo);
  root.Write("/proc/self/cgroup", "5:memory:/\n");
  root.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(ReadAvailableMemory(root.dir()).source, "MemAvailable");
}

TEST(MemoryBudgetTest, TheDefaultIsBoundedAndHasAFallback) {
  EXPECT_EQ(DefaultMemoryBudget(AvailableMemory{64ull << 30, "MemAvailable"}), kMaxDefaultMemoryBudget);
  EXPECT_EQ(DefaultMemoryBudget(AvailableMemory{20ull << 20, "MemAvailable"}), kMinDefaultMemoryBudget);
  EXPECT_EQ(DefaultMemoryBudget(AvailableMemory{}), 1ull << 30);
  FakeRoot root;  // nothing readable
  EXPECT_EQ(ReadAvailableMemory(root.dir()).bytes, 0u);
}

}  // namespace
}  // namespace sfb
