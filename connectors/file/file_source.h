// FileSource: CSV (with a header line) and JSON Lines files, read in parallel byte ranges.
//
// The file is memory-mapped and cut into splits of `split_bytes`; a record belongs to the split in
// which its line starts, so each split skips the partial line at its start and finishes the line that
// crosses its end. A record's position is the byte offset of its line, which is unique, follows file
// order, and is turned back into "path:line" only when an error needs it.
//
// CSV: the first line names the columns (or `columns:` names them and every line is data). Cells are
// text; an unquoted empty cell is NULL (csv_parser.h). A line with more or fewer cells than columns is
// a bad record.
//
// JSONL: one JSON object per line. Top-level fields become record fields with their JSON types
// (string -> text, integer -> int, other numbers -> double, bool, null); nested objects are flattened
// to dotted names ("address.city"); arrays stay as JSON text. Blank lines are skipped in both formats.

#ifndef SFB_CONNECTORS_FILE_FILE_SOURCE_H_
#define SFB_CONNECTORS_FILE_FILE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "api/source.h"
#include "common/file_io.h"
#include "connectors/file/csv_parser.h"

namespace sfb {

struct FileSourceConfig {
  enum class Format { kCsv, kJsonl };
  std::string path;
  Format format = Format::kCsv;
  CsvOptions csv;
  bool header = true;                // CSV: first line holds column names
  std::vector<std::string> columns;  // CSV without header
  uint64_t split_bytes = 32 << 20;
};

class FileSource : public Source {
 public:
  explicit FileSource(FileSourceConfig config) : config_(std::move(config)) {}

  Status Prepare() override;
  size_t num_splits() const override { return splits_.size(); }
  Status ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) override;
  std::string DescribePosition(uint64_t position) const override;
  uint64_t estimated_size() const override { return data_.size(); }
  // The file's path, size and modification time, and the split count.
  nlohmann::ordered_json ResumeState() const override;
  // CSV: the header's columns; null for JSONL, whose fields vary by line.
  const Schema* fixed_schema() const override { return csv_schema_.get(); }

 private:
  Status ReadCsv(size_t begin, size_t end, RecordConsumer& consumer, const std::atomic<bool>& cancel);
  Status ReadJsonl(size_t begin, size_t end, RecordConsumer& consumer, const std::atomic<bool>& cancel);
  // data_[begin, end) without its line break, for a dead letter.
  nlohmann::ordered_json RawLine(size_t begin, size_t end) const;

  FileSourceConfig config_;
  std::unique_ptr<MappedFile> file_;
  std::string_view data_;
  size_t data_start_ = 0;  // after a BOM and the header line
  std::vector<std::pair<size_t, size_t>> splits_;
  std::shared_ptr<const Schema> csv_schema_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_FILE_FILE_SOURCE_H_
