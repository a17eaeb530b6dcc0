// Fuzzes the record parsers: CSV records (single-line and multiline modes) and JSON Lines through
// FileSource, which also exercises split boundaries, position -> line mapping and JSON flattening.

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "connectors/file/csv_parser.h"
#include "connectors/file/file_source.h"

namespace {

class CountingConsumer : public sfb::RecordConsumer {
 public:
  sfb::Status Consume(const sfb::Record& record, uint64_t) override {
    for (size_t i = 0; i < record.size(); ++i) (void)record.value(i).ToText();
    return sfb::Status::OK();
  }
};

void ReadAll(const std::string& path, sfb::FileSourceConfig::Format format, bool multiline) {
  sfb::FileSourceConfig config;
  config.path = path;
  config.format = format;
  config.csv.allow_multiline = multiline;
  config.split_bytes = 7;  // many tiny splits: every boundary case
  sfb::FileSource source(config);
  if (!source.Prepare().ok()) return;
  std::atomic<bool> cancel{false};
  CountingConsumer consumer;
  for (size_t i = 0; i < source.num_splits(); ++i) {
    sfb::Status s = source.ReadSplit(i, consumer, cancel);
    if (!s.ok()) (void)source.DescribePosition(0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::optional<std::string>> fields;
  for (bool multiline : {false, true}) {
    sfb::CsvOptions o;
    o.allow_multiline = multiline;
    for (size_t pos = 0; pos < input.size();) {
      const size_t before = pos;
      (void)sfb::ParseCsvRecord(input, &pos, o, &fields);
      if (pos <= before) __builtin_trap();  // the parser must always make progress
    }
  }
  static const std::string path = "/tmp/sfb-record-fuzz-" + std::to_string(::getpid());
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    ReadAll(path, sfb::FileSourceConfig::Format::kCsv, false);
    ReadAll(path, sfb::FileSourceConfig::Format::kCsv, true);
    ReadAll(path, sfb::FileSourceConfig::Format::kJsonl, false);
  }
  return 0;
}
