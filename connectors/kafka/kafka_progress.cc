#include "connectors/kafka/kafka_progress.h"

#include <unistd.h>

#include <cstdio>

namespace sfb {
namespace {

constexpr size_t kMaxTopicLines = 10;

std::string Thousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Clock(double seconds) {
  const uint64_t s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  }
  return buf;
}

}  // namespace

KafkaProgress::KafkaProgress(std::string source_name, const KafkaReadPlan& plan, int64_t interval_ms)
    : source_name_(std::move(source_name)), topics_(plan.topics), totals_(plan.topics.size(), 0),
      counters_(new Counter[plan.topics.size() + 1]), interval_(interval_ms) {
  for (const auto& p : plan.partitions) {
    for (size_t t = 0; t < topics_.size(); ++t) {
      if (topics_[t] == p.topic) totals_[t] += p.messages();
    }
  }
}

KafkaProgress::~KafkaProgress() { Stop(); }

void KafkaProgress::Start() {
  std::call_once(started_, [this] {
    start_ = std::chrono::steady_clock::now();
    if (interval_.count() > 0) thread_ = std::thread([this] { Loop(); });
  });
}

void KafkaProgress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> KafkaProgress::Lines(double elapsed) const {
  auto line = [&](const std::string& what, uint64_t messages, uint64_t offsets, uint64_t total) {
    const double rate = elapsed > 0 ? static_cast<double>(messages) / elapsed : 0;
    const double offset_rate = elapsed > 0 ? static_cast<double>(offsets) / elapsed : 0;
    const double pct = total > 0 ? 100.0 * static_cast<double>(offsets) / static_cast<double>(total) : 100.0;
    std::string eta = "done";
    if (offsets < total) {
      eta = offset_rate > 0 ? "ETA " + Clock(static_cast<double>(total - offsets) / offset_rate) : "ETA unknown";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "/s, %.1f%% of the captured range, ", pct);
    return "kafka " + source_name_ + ": " + what + " " + Thousands(messages) + " messages, " +
           Thousands(static_cast<uint64_t>(rate)) + buf + eta;
  };
  std::vector<std::string> out;
  uint64_t rest_messages = 0, rest_offsets = 0, rest_total = 0;
  for (size_t t = 0; t < topics_.size(); ++t) {
    const uint64_t messages = counters_[t].messages.load(std::memory_order_relaxed);
    const uint64_t offsets = counters_[t].offsets.load(std::memory_order_relaxed);
    if (t < kMaxTopicLines) {
      out.push_back(line("topic " + topics_[t], messages, offsets, totals_[t]));
    } else {
      rest_messages += messages;
      rest_offsets += offsets;
      rest_total += totals_[t];
    }
  }
  if (topics_.size() > kMaxTopicLines) {
    out.push_back(line(std::to_string(topics_.size() - kMaxTopicLines) + " more topics:", rest_messages, rest_offsets,
                       rest_total));
  }
  return out;
}

void KafkaProgress::Loop() {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto next = start_ + interval_;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string text;
    for (const auto& line : Lines(elapsed)) text += (tty ? "\r\033[K" : "") + line + "\n";
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
    printed_ = true;
    next += interval_;
  }
  if (printed_) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string text;
    for (const auto& line : Lines(elapsed)) text += (tty ? "\r\033[K" : "") + line + "\n";
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace sfb
