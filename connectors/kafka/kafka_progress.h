// KafkaProgress: per-topic progress of a kafka source, printed to stderr while it is read.
//
//   kafka visits: topic clicks 1,234,567 messages, 412,000/s, 61.2% of the captured range, ETA 0:03
//
// Readers add what they read (a few relaxed atomic adds per batch); a background thread prints one
// line per topic every `interval` (spec key progress:, 0 turns it off), the first after one interval,
// so short runs print nothing. The percentage and ETA count offsets, not messages: compacted topics
// and transaction markers leave gaps in offsets, and the range is all the connector knows up front.
// On a terminal each line first clears the command line's own redrawn progress line.

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_PROGRESS_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_plan.h"

namespace sfb {

class KafkaProgress {
 public:
  KafkaProgress(std::string source_name, const KafkaReadPlan& plan, int64_t interval_ms);
  ~KafkaProgress();

  // Starts the clock and the printing thread (once; later calls do nothing).
  void Start();
  // Stops printing; prints a final line per topic when progress lines were printed.
  void Stop();
  // A reader read `messages` messages and advanced `offsets` offsets in topic number `topic`.
  void Add(size_t topic, uint64_t messages, uint64_t offsets) {
    counters_[topic].messages.fetch_add(messages, std::memory_order_relaxed);
    counters_[topic].offsets.fetch_add(offsets, std::memory_order_relaxed);
  }
  // The current lines (one per topic, at most 10 plus a summary), for `elapsed` seconds since Start.
  std::vector<std::string> Lines(double elapsed) const;

 private:
  struct Counter {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> offsets{0};
  };
  void Loop();

  std::string source_name_;
  std::vector<std::string> topics_;
  std::vector<uint64_t> totals_;  // offsets to read per topic
  std::unique_ptr<Counter[]> counters_;
  std::chrono::milliseconds interval_;
  std::once_flag started_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool printed_ = false;
  std::thread thread_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_PROGRESS_H_
