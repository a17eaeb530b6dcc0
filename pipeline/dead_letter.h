// DeadLetterFile: where a run sets aside the records it cannot use, and how many it may set aside.
//
// By default a run has none, and the first bad record (a malformed line, an undecodable message, a
// value of the wrong type, a missing id) fails it, naming the source, the position and the reason. A job
// with `errors: { dead_letter: PATH, max_bad_records: N }` instead writes each bad record as one JSON
// line to PATH and goes on; the run fails as soon as more than N records were set aside, so a wrong spec
// cannot quietly turn a whole table into dead letters. Nothing is dropped silently: every record read
// either reaches the router's addresses or is a line here (the run's summary counts both).
//
// Format, one object per line (UTF-8 JSON); "error" is the message the run would have failed with:
//   {"source":"users","position":"data/users.csv:17","stage":"parse",
//    "error":"data/users.csv:17: the line has 2 fields but the header has 3","hint":"...",
//    "raw":{"line":"u17,Ann"}}
//   {"source":"users","position":"data/users.csv:18","stage":"route",
//    "error":"route #1 (users -> example/user) state visits: value 'x' (text) is not an int","hint":"...",
//    "record":{"id":"u18","name":"Bo","visits":"x"}}
// stage "parse": the source could not turn the input into a record; "raw" holds what it read (a file
// line; a Kafka message's topic, partition, offset, key and value; a table row's columns as text).
// stage "route": the record was read but the routes reject it; "record" holds its fields.
// Byte strings that are not UTF-8 appear as {"base64": "..."}. Lines from different reader threads
// interleave in no particular order; each names its position.
//
// The file is truncated when a run starts and written (and fsynced) whether the run succeeds or fails,
// so the records that made a run fail can be looked at. Each reader thread collects the lines of the
// split it reads and commits them when the split ends, so a resumed run (run --resume) can cut the file
// back to the splits that were finished. Thread-safe.

#ifndef SFB_PIPELINE_DEAD_LETTER_H_
#define SFB_PIPELINE_DEAD_LETTER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sfb {

struct DeadLetterOptions {
  std::string path;  // empty: no dead-letter file; the first bad record fails the run
  uint64_t max_bad_records = 0;
};

class DeadLetterFile {
 public:
  // Starts the file (truncating it), or, to continue an interrupted run, keeps its first
  // `resume_bytes` bytes holding `resume_count` records.
  static Result<std::unique_ptr<DeadLetterFile>> Create(const DeadLetterOptions& options, uint64_t resume_bytes = 0,
                                                        uint64_t resume_count = 0);
  ~DeadLetterFile();

  // Counts one rejected record and appends its line to `pending` (written by Commit). `reason` says why
  // (its location should name the position); `content` is the raw input ("parse") or the record's
  // fields ("route"). Returns OK while at most max_bad_records records were set aside, and an error
  // saying so once there are more.
  Status Add(const std::string& source, const std::string& position, std::string_view stage, const Status& reason,
             const nlohmann::ordered_json& content, std::string* pending);
  // Appends lines from Add and syncs them to disk; *size is then the file's size.
  Status Commit(std::string_view lines, uint64_t* size = nullptr);
  Status Close();

  uint64_t count() const;
  const std::string& path() const { return options_.path; }

 private:
  DeadLetterFile(DeadLetterOptions options, int fd, uint64_t size, uint64_t count)
      : options_(std::move(options)), fd_(fd), size_(size), count_(count) {}

  const DeadLetterOptions options_;
  mutable std::mutex mu_;
  int fd_;
  uint64_t size_;
  uint64_t count_;
};

// `bytes` as a JSON string when it is UTF-8 text, else as {"base64": "..."}: dead letters keep every byte.
nlohmann::ordered_json JsonBytes(std::string_view bytes);

}  // namespace sfb

#endif  // SFB_PIPELINE_DEAD_LETTER_H_
