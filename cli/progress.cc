#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace sfb {

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

ProgressReporter::ProgressReporter(const RunCounters* counters, int parallelism, bool enabled)
    : counters_(counters), parallelism_(parallelism), tty_(::isatty(STDERR_FILENO) == 1) {
  if (enabled) thread_ = std::thread([this] { Loop(); });
}

ProgressReporter::~ProgressReporter() { Stop(); }

void ProgressReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drew_ && tty_) std::fprintf(stderr, "\r\033[K");
  drew_ = false;
}

std::string ProgressReporter::Line(double elapsed) const {
  const uint64_t read = counters_->records_read.load();
  const double rate = elapsed > 0 ? static_cast<double>(read) / elapsed : 0;
  char buf[256];
  switch (counters_->phase.load()) {
    case 1:
      std::snprintf(buf, sizeof buf, "reading: %s records (%s/s), %s routed | %.0f s", WithThousands(read).c_str(),
                    WithThousands(static_cast<uint64_t>(rate)).c_str(),
                    WithThousands(counters_->records_forwarded.load()).c_str(), elapsed);
      break;
    case 2:
      std::snprintf(buf, sizeof buf, "writing keyed state: %s/%d files, %s addresses | %.0f s",
                    WithThousands(counters_->subtasks_done.load()).c_str(), parallelism_,
                    WithThousands(counters_->addresses_written.load()).c_str(), elapsed);
      break;
    case 3:
      std::snprintf(buf, sizeof buf, "committing | %.0f s", elapsed);
      break;
    default:
      std::snprintf(buf, sizeof buf, "preparing | %.0f s", elapsed);
  }
  return buf;
}

void ProgressReporter::Loop() {
  const auto start = std::chrono::steady_clock::now();
  const auto period = tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
  auto next = start + std::chrono::seconds(2);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string line = Line(elapsed);
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    drew_ = true;
    next += period;
  }
}

}  // namespace sfb
