// Source: where bootstrap records come from (connectors/ implements it for files, PostgreSQL, Kafka).
//
// A source is read in splits (file byte ranges, table key ranges, topic partitions) by several threads.
// Each record carries a position: a number unique within the source whose order is the source's
// natural order (file offset, key, partition+offset). Positions, not thread timing, decide the order in
// which an address sees its records, which is what makes output independent of --threads.

#ifndef SFB_PIPELINE_SOURCE_H_
#define SFB_PIPELINE_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/record.h"
#include "common/status.h"

namespace sfb {

class RecordConsumer {
 public:
  virtual ~RecordConsumer() = default;
  // Takes one record. A non-OK status stops the split (and the run).
  virtual Status Consume(const Record& record, uint64_t position) = 0;
  // Takes what the source read at `position` but could not turn into a record (a malformed line, an
  // undecodable message): `reason` says why and where, `raw` is the input as read (see pipeline/dead_letter.h).
  // Returns OK when the run set the record aside (the source then goes on with the next one), else the
  // status to stop the split with. The default stops at the first.
  virtual Status Reject(uint64_t position, Status reason, const nlohmann::ordered_json& raw) {
    (void)position;
    (void)raw;
    return reason;
  }
};

class Source {
 public:
  virtual ~Source() = default;
  // Opens the source, checks it (files exist, columns are there) and plans splits. Reads no records
  // beyond what planning needs (a CSV header). A source whose preparation can wait (for a lock, on a
  // server) stops soon after interrupt() is set, returning an error (Cancelled).
  virtual Status Prepare() = 0;
  // The run's interrupt flag (Ctrl-C), given before Prepare(); by default a flag nobody sets.
  void set_interrupt(const std::atomic<bool>* flag) { interrupt_ = flag ? flag : &kNeverInterrupted; }
  const std::atomic<bool>& interrupt() const { return *interrupt_; }
  virtual size_t num_splits() const = 0;
  // Reads split `split` (0 <= split < num_splits()), calling consumer for every record. Stops early,
  // returning Cancelled, once `cancel` is set.
  virtual Status ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) = 0;
  // "data/users.csv:17" for a position: used in error messages, so it may be slow.
  virtual std::string DescribePosition(uint64_t position) const = 0;
  // Total input size for progress (bytes or rows; 0 when unknown).
  virtual uint64_t estimated_size() const { return 0; }
  // The fields every record has, when known before reading (a CSV header, a table's columns), so
  // routes can be checked before any record is read; null when fields vary per record.
  virtual const Schema* fixed_schema() const { return nullptr; }
  // Fields of fixed_schema() whose text is JSON (a PostgreSQL numeric, json, jsonb or array column): a
  // codec: json object embeds such a field, written alone as a leaf, as the JSON it holds (a number, an
  // object, an array) rather than as a string. Known after Prepare().
  virtual std::vector<std::string> json_text_fields() const { return {}; }
  // Every field name that whatever reads this source's records can look up (the job's routes'
  // templates), given before Prepare() when that set is known: a source may then leave out fields
  // outside it that cost it to produce. Never called (the default) means any field may be read.
  virtual void set_fields_read(const std::vector<std::string>& fields) { (void)fields; }
  // Of those fields, the ones every reader only compares with NULL (`{value} == null`, a Kafka
  // source's default delete_when), given after set_fields_read(): a source may give any non-NULL value
  // in place of such a field's non-NULL value, rather than what it costs to produce.
  virtual void set_fields_only_null_tested(const std::vector<std::string>& fields) { (void)fields; }
  // Memory the source may hold in read-ahead buffers (a Kafka client's prefetch queues), offered out of
  // the run's memory budget after Prepare() and before any split is read. Returns what it takes, at
  // most `offered`; the run's routed entries then have that much less. The default takes nothing.
  virtual uint64_t ReserveReadAhead(uint64_t offered) {
    (void)offered;
    return 0;
  }
  // Where the data was read up to, for whoever continues from the savepoint (a PostgreSQL snapshot's
  // LSN, Kafka end offsets); written to the savepoint's provenance file. Null when there is nothing to say.
  virtual nlohmann::ordered_json Provenance() const { return nullptr; }
  // Files to write into the savepoint directory beside the provenance file, as (file name, contents):
  // what the live application needs to continue from the savepoint (the Kafka source's module.yaml
  // ingress snippet). Plain file names; written with the savepoint, so they exist only if it does.
  virtual std::vector<std::pair<std::string, std::string>> HandoffFiles() const { return {}; }

  // For `run --resume`: a killed run is continued only if every split still means the same records.
  // ResumeState() (after Prepare) is what makes that so: a file's size and modification time, Kafka's
  // captured offset ranges. Null (the default) means the source cannot be resumed (a PostgreSQL
  // snapshot ends with the session that exported it).
  virtual nlohmann::ordered_json ResumeState() const { return nullptr; }
  // Prepares the source to read the splits of the run that recorded `state` (instead of Prepare()).
  // The default prepares afresh and accepts only an identical state.
  virtual Status PrepareToResume(const nlohmann::ordered_json& state) {
    if (state.is_null()) return Status::InvalidSpec("this source cannot continue an interrupted run");
    Status s = Prepare();
    if (!s.ok()) return s;
    if (ResumeState() != state) {
      return Status::InvalidSpec("the source changed since the interrupted run (was " + state.dump() + ", is " +
                                 ResumeState().dump() + ")");
    }
    return Status::OK();
  }

 private:
  inline static const std::atomic<bool> kNeverInterrupted{false};
  const std::atomic<bool>* interrupt_ = &kNeverInterrupted;
};

}  // namespace sfb

#endif  // SFB_PIPELINE_SOURCE_H_
