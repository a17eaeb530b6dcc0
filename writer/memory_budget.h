// MemoryBudget: how much memory a run may hold its routed entries in before it spills them to disk.
//
// Reader threads keep what they route in memory (writer/entry_buffer.h) and reserve that memory here
// in steps, before they use it. A reservation that would take the total past the limit is refused; the
// thread then spills what it holds to the store (writer/shard_store.h) and gives its reservation back.
// So the entries in memory never exceed the limit by more than what a thread adds between two checks
// (one record's entries and one arena block). Sources' read-ahead buffers (Kafka's prefetch queues) come
// out of the run's budget before reading starts (Source::ReserveReadAhead, a quarter offered), so the
// limit here is what is left. The rest of a run (readers' input buffers, the builders' runs, RocksDB)
// is not counted: it is small and bounded on its own.
//
// The default limit (DefaultMemoryBudget) is half of the memory available to the process, at least
// 64 MB and at most 8 GB: "available" is the smaller of what the kernel can give without swapping
// (MemAvailable in /proc/meminfo, else MemTotal) and, inside a container or Kubernetes pod, what is
// left under its cgroup limit (cgroup v2 memory.max - memory.current, or cgroup v1
// memory.limit_in_bytes - memory.usage_in_bytes). Half leaves room for the rest of the run and for
// whatever else runs beside it; the cap keeps a large machine's default from holding more than a job
// of ~100M addresses needs, so spilling starts where it costs little.
//
// Thread-safe.

#ifndef SFB_WRITER_MEMORY_BUDGET_H_
#define SFB_WRITER_MEMORY_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace sfb {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit_bytes) : limit_(limit_bytes) {}

  // Reserves `bytes` if the total stays within the limit; false (and nothing reserved) otherwise.
  bool TryReserve(uint64_t bytes);
  // Reserves `bytes` even past the limit: memory a thread already holds and cannot give back yet (a
  // resumable run's partials of the split being read, writer/partial_combiner.h).
  void Reserve(uint64_t bytes);
  void Release(uint64_t bytes);

  uint64_t limit() const { return limit_; }
  uint64_t reserved() const { return reserved_.load(std::memory_order_relaxed); }
  // The most that was reserved at once.
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> reserved_{0};
  std::atomic<uint64_t> peak_{0};
};

// The memory this process can use without swapping or meeting its cgroup's limit, and where that
// figure came from ("cgroup memory.max", "MemAvailable", ...). `root` prefixes /proc and /sys (tests).
struct AvailableMemory {
  uint64_t bytes = 0;  // 0 when nothing could be read
  std::string source;
};
AvailableMemory ReadAvailableMemory(const std::string& root = "");

// The least a run may be given (--memory, savepoint.memory): below it a budget buys nothing.
inline constexpr uint64_t kMinMemoryBudget = 1ull << 20;
inline constexpr uint64_t kMinDefaultMemoryBudget = 64ull << 20;
inline constexpr uint64_t kMaxDefaultMemoryBudget = 8ull << 30;
// Half of `available`, within [kMinDefaultMemoryBudget, kMaxDefaultMemoryBudget]; 1 GB when unknown.
uint64_t DefaultMemoryBudget(const AvailableMemory& available);

}  // namespace sfb

#endif  // SFB_WRITER_MEMORY_BUDGET_H_
