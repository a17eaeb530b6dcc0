#include "writer/memory_budget.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace sfb {

bool MemoryBudget::TryReserve(uint64_t bytes) {
  uint64_t now = reserved_.load(std::memory_order_relaxed);
  do {
    if (now + bytes > limit_) return false;
  } while (!reserved_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  uint64_t peak = peak_.load(std::memory_order_relaxed);
  while (now + bytes > peak && !peak_.compare_exchange_weak(peak, now + bytes, std::memory_order_relaxed)) {
  }
  return true;
}

void MemoryBudget::Reserve(uint64_t bytes) {
  const uint64_t now = reserved_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  uint64_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void MemoryBudget::Release(uint64_t bytes) { reserved_.fetch_sub(bytes, std::memory_order_relaxed); }

namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file holding one number (cgroup limits and usage); nullopt for "max", absent or unreadable files.
std::optional<uint64_t> ReadNumberFile(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end == text->data()) return std::nullopt;
  return v;
}

// "MemAvailable:   12345 kB" in /proc/meminfo.
std::optional<uint64_t> MeminfoBytes(const std::string& meminfo, std::string_view field) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) != 0 || line.size() <= field.size() || line[field.size()] != ':') continue;
    const size_t digits = line.find_first_of("0123456789");
    if (digits == std::string::npos) return std::nullopt;
    uint64_t kb = 0;
    std::from_chars(line.data() + digits, line.data() + line.size(), kb);
    return kb << 10;
  }
  return std::nullopt;
}

// The process's cgroup path for a hierarchy, from /proc/self/cgroup: "0::/path" (v2) or
// "4:memory:/path" (v1). Inside a container it is usually "/", and the limit sits at the mount's root.
std::string CgroupPath(const std::string& cgroups, bool v2) {
  std::istringstream in(cgroups);
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    bool match = v2 ? controllers.empty() : false;
    if (!v2) {
      std::istringstream list(controllers);
      std::string c;
      while (std::getline(list, c, ',')) match |= c == "memory";
    }
    if (match) return line.substr(b + 1);
  }
  return "";
}

// What is left under the cgroup's limit, or nullopt without one. The limit of the process's own cgroup
// if it is visible there, else the one at the mount's root (a container sees its own cgroup as root).
std::optional<uint64_t> CgroupHeadroom(const std::string& root, std::string* source) {
  const std::string cgroups = ReadSmallFile(root + "/proc/self/cgroup").value_or("");
  struct Layout {
    bool v2;
    const char* mount;
    const char* limit;
    const char* usage;
  };
  for (const Layout& l : {Layout{true, "/sys/fs/cgroup", "memory.max", "memory.current"},
                          Layout{false, "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"}}) {
    const std::string own = CgroupPath(cgroups, l.v2);
    for (const std::string& dir : {std::string(l.mount) + (own == "/" ? "" : own), std::string(l.mount)}) {
      const auto limit = ReadNumberFile(root + dir + "/" + l.limit);
      // cgroup v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages).
      if (!limit || *limit >= (1ull << 62)) continue;
      const uint64_t usage = ReadNumberFile(root + dir + "/" + l.usage).value_or(0);
      *source = std::string("cgroup ") + l.limit + " " + std::to_string(*limit >> 20) + " MB less its use";
      return *limit > usage ? *limit - usage : 0;
    }
  }
  return std::nullopt;
}

}  // namespace

AvailableMemory ReadAvailableMemory(const std::string& root) {
  AvailableMemory out;
  const std::string meminfo = ReadSmallFile(root + "/proc/meminfo").value_or("");
  if (auto v = MeminfoBytes(meminfo, "MemAvailable")) {
    out = AvailableMemory{*v, "MemAvailable"};
  } else if (auto total = MeminfoBytes(meminfo, "MemTotal")) {
    out = AvailableMemory{*total, "MemTotal"};
  }
  std::string cgroup_source;
  if (auto headroom = CgroupHeadroom(root, &cgroup_source)) {
    if (out.bytes == 0 || *headroom < out.bytes) out = AvailableMemory{*headroom, cgroup_source};
  }
  return out;
}

uint64_t DefaultMemoryBudget(const AvailableMemory& available) {
  if (available.bytes == 0) return 1ull << 30;
  return std::clamp(available.bytes / 2, kMinDefaultMemoryBudget, kMaxDefaultMemoryBudget);
}

}  // namespace sfb
