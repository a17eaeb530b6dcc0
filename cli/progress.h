// ProgressReporter: a background thread that prints a progress line for runs longer than ~2 seconds.
//
// On a terminal the line is redrawn in place every half second; otherwise (CI logs, files) a full line
// is printed every 10 seconds. It reads only the creator's atomic counters, never blocking the run.

#ifndef SFB_CLI_PROGRESS_H_
#define SFB_CLI_PROGRESS_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "api/savepoint_creator.h"

namespace sfb {

class ProgressReporter {
 public:
  ProgressReporter(const RunCounters* counters, int parallelism, bool enabled);
  ~ProgressReporter();  // stops the thread and clears the line
  void Stop();

 private:
  void Loop();
  std::string Line(double elapsed) const;

  const RunCounters* counters_;
  int parallelism_;
  bool tty_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drew_ = false;
  std::thread thread_;
};

// "1,234,567"
std::string WithThousands(uint64_t n);
// "12.3 MB"
std::string HumanBytes(uint64_t n);

}  // namespace sfb

#endif  // SFB_CLI_PROGRESS_H_
