// RunJournal: what a run has finished so far, so `run --resume` can continue a run that was killed.
//
// A run writes its spill store (writer/shard_store.h) inside its staging directory. When the process is
// killed (SIGKILL, out of memory, a reboot), the staging directory stays behind; the journal beside it
// says which of the run's splits are completely in the store, so a resumed run reads only the others.
// The store has no write-ahead log: a split counts as done only after the store was flushed to its
// files, and the journal line is written (and fsynced) after that. Records of splits that were not
// done may also be in the store; reading those splits again writes the very same keys (a key holds the
// record's source position), which replaces them, so nothing is counted twice.
//
// Format: JSON lines in resume.jsonl.
//   {"journal":2,"fingerprint":"...","ttl_timestamp":...,"spill_dir":"","sources":[...]}    first line
//   {"schema":3,"names":["id","name"]}          a record schema id used in the store (before its split)
//   {"done":[0,5],"read":..,"forwarded":..,"dead_lettered":..,"dead_letter_bytes":..}   a finished split
// A line cut short by the crash is ignored. When a source cannot resume (its resume state is null) the
// run writes only the header, so --resume can say why it refuses, and spends no flushes on "done" lines.
// "fingerprint" identifies the job (spec, layout); "sources" holds each source's Source::ResumeState(),
// which a resumed run must reproduce; "spill_dir" is empty when the store lives inside the staging
// directory, else its absolute path (--tmp-dir).

#ifndef SFB_WRITER_RUN_JOURNAL_H_
#define SFB_WRITER_RUN_JOURNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sfb {

inline constexpr char kRunJournalFile[] = "resume.jsonl";
// Changes whenever the spill store's entries change form (2: compact record values, common/record.cc),
// so a run resumes only a store its own version wrote.
inline constexpr int kJournalVersion = 2;

struct SplitCounts {
  uint64_t read = 0;
  uint64_t forwarded = 0;
  uint64_t dead_lettered = 0;
};

class RunJournal {
 public:
  struct Header {
    std::string fingerprint;
    int64_t ttl_timestamp = 0;
    std::string spill_dir;
    nlohmann::ordered_json sources = nlohmann::ordered_json::array();
  };

  // Starts a journal at `path` (replacing any).
  static Result<std::unique_ptr<RunJournal>> Create(const std::string& path, const Header& header);
  // Reads the journal an interrupted run left at `path` and continues it.
  static Result<std::unique_ptr<RunJournal>> Resume(const std::string& path);
  ~RunJournal();

  const Header& header() const { return header_; }
  // Of a resumed journal: the schemas and finished splits of the earlier run(s).
  const std::vector<std::pair<uint32_t, std::vector<std::string>>>& schemas() const { return schemas_; }
  const std::map<std::pair<uint16_t, uint64_t>, SplitCounts>& done() const { return done_; }
  uint64_t dead_letter_bytes() const { return dead_letter_bytes_; }

  // Thread-safe. AddSchema is written without fsync: the next SplitDone syncs it with its own line, and
  // reports its error if it could not be written.
  void AddSchema(uint32_t id, const std::vector<std::string>& names);
  // Call only after the split's records are flushed to the store's files.
  Status SplitDone(uint16_t input, uint64_t split, const SplitCounts& counts, uint64_t dead_letter_bytes);

 private:
  RunJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status AppendLine(const nlohmann::ordered_json& line, bool sync);

  std::string path_;
  int fd_;
  std::mutex mu_;
  Header header_;
  std::vector<std::pair<uint32_t, std::vector<std::string>>> schemas_;
  std::map<std::pair<uint16_t, uint64_t>, SplitCounts> done_;
  uint64_t dead_letter_bytes_ = 0;
  Status schema_error_;
};

}  // namespace sfb

#endif  // SFB_WRITER_RUN_JOURNAL_H_
