// PostgresSource: a table or a query of a PostgreSQL database, read from one consistent snapshot by
// several workers in parallel (connectors/postgres/README.md is the user's reference).
//
// Prepare() connects, joins the job's snapshot (pg_snapshot.h), checks that the table and columns
// exist, that their types can be read (pg_types.h) and that the role may read them, takes an ACCESS
// SHARE lock on the table, estimates the rows, and plans the chunks (read_plan.h) — all without
// reading a row. `validate --connect` stops there and shows the plan.
//
// ReadSplit(i) streams chunk i with COPY (SELECT ...) TO STDOUT in text form on a worker session
// (worker_pool.h), one row at a time, so memory per worker stays constant. Positions come from the
// data (read_plan.h), so the savepoint is the same for any number of workers or threads.
//
// When a worker's connection is lost mid-chunk (pg_terminate_backend, a network cut) while the
// snapshot's own connection is alive, the chunk is read again on a new session that imports the same
// snapshot, skipping the rows already delivered (the re-read returns the same rows in the same
// order: same snapshot, same plan; the position of the last delivered row is checked). A warning says
// so. When the snapshot's connection is gone as well (the server stopped), or retries run out, the
// chunk fails with a message that says which, and the run writes no savepoint.
//
// When the stop flag a chunk is read with is set (Ctrl-C, SIGTERM, another split failed), the server is
// asked to cancel the chunk's statement at once (libpq's cancel request), so a slow query ends on the
// server too and the read returns within moments instead of when the query would have finished.

#ifndef SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_H_
#define SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/source.h"
#include "connectors/postgres/pg_endpoint.h"
#include "connectors/postgres/pg_snapshot.h"
#include "connectors/postgres/pg_types.h"
#include "connectors/postgres/query_check.h"
#include "connectors/postgres/read_plan.h"
#include "connectors/postgres/sql_text.h"
#include "connectors/postgres/worker_pool.h"

namespace sfb {

struct PostgresSourceConfig {
  enum class Split { kAuto, kCtid, kKey, kNone };

  std::string name;  // the source's name in the job, for warnings and progress lines
  PgEndpoint endpoint;
  std::optional<QualifiedName> table;  // a table source ...
  std::vector<std::string> columns;    //   ... reading these columns (empty: all, in table order)
  std::string query;                   // ... or a query source
  QueryOrigin query_origin;            //   where it is in the job file, so errors point at it
  Split split = Split::kAuto;
  int workers = 4;
  uint64_t chunk_rows = 500000;
  TimestampMode timestamps = TimestampMode::kIso;
  // in_json_objects: embed (numeric, json, jsonb and array columns go into codec: json objects as JSON)
  // or text (as strings holding their text).
  bool embed_json_text = true;
  int64_t lock_timeout_ms = 60000;
  int retries = 2;
  std::string snapshot;     // import this exported snapshot instead of exporting one
  int64_t progress_ms = 0;  // > 0: a progress line on stderr this often
};

// What Prepare() decided, for the plan `validate --connect` prints (the definition shows it).
struct PostgresPlanReport {
  std::mutex mu;
  nlohmann::ordered_json plan;  // null until a source was prepared
};

class PostgresSource : public Source {
 public:
  PostgresSource(PostgresSourceConfig config, std::shared_ptr<PostgresPlanReport> report);
  ~PostgresSource() override;

  Status Prepare() override;
  size_t num_splits() const override { return plan_.chunks.size(); }
  Status ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) override;
  std::string DescribePosition(uint64_t position) const override;
  // Estimated rows (the planner's estimate), for progress.
  uint64_t estimated_size() const override { return estimated_rows_; }
  const Schema* fixed_schema() const override { return schema_.get(); }
  std::vector<std::string> json_text_fields() const override;
  // The snapshot (id, WAL LSN, time) the data was read at, the table or query, rows read.
  nlohmann::ordered_json Provenance() const override;
  // Refuses: the snapshot the interrupted run exported ended with it, and the rest read from another
  // snapshot would mix two points in time.
  Status PrepareToResume(const nlohmann::ordered_json& state) override;

 private:
  struct ChunkProgress {
    uint64_t delivered = 0;  // rows of the chunk handed to the consumer
    uint64_t last_position = 0;
  };
  class ProgressPrinter;
  class StatementCanceller;

  Status PrepareTable(PgSession& s);
  Status PrepareQuery(PgSession& s);
  // EXPLAINs the statements ReadSplit will run (without running them), so that a privilege they need
  // and the role lacks fails `validate --connect` and Prepare, not the read.
  Status CheckChunkStatements(PgSession& s);
  Status ResolveTypes(PgSession& s, const std::vector<uint32_t>& oids, const std::vector<std::string>& names,
                      const std::vector<std::string>& type_names);
  Status ReadSplitWithRetries(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel);
  Status ReadChunkOnce(PgSession& s, size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel,
                       ChunkProgress* progress, PgError* error);
  std::string ObjectName() const;
  std::string ChunkName(size_t split) const;
  void ChunkDone();

  PostgresSourceConfig config_;
  std::shared_ptr<PostgresPlanReport> report_;
  std::shared_ptr<PgSnapshot> snapshot_;
  PgSnapshot::Info snapshot_info_;
  std::unique_ptr<WorkerPool> pool_;
  ReadPlan plan_;
  std::string split_name_;     // "ctid", "key", "none"
  std::string position_name_;  // what orders the records, for the plan
  std::string split_note_;     // why a table that would be cut into chunks is read in one piece
  std::vector<std::string> text_form_columns_;  // "location (point)": read as their text form
  std::string key_column_;     // the integer primary key (positions)
  std::vector<PgType> types_;
  std::shared_ptr<const Schema> schema_;
  uint64_t estimated_rows_ = 0;
  std::atomic<uint64_t> rows_read_{0};
  std::atomic<size_t> chunks_done_{0};
  std::unique_ptr<ProgressPrinter> progress_;
  std::once_flag progress_once_;
  std::unique_ptr<StatementCanceller> canceller_;
  std::once_flag canceller_once_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_POSTGRES_SOURCE_H_
