#include "connectors/file/file_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "api/dead_letter.h"
#include "common/text_preview.h"

namespace sfb {
namespace {

// A JSON parser's message quotes the token it stopped in, which can be a whole long string.
constexpr size_t kMaxParserMessage = 200;

bool IsBlankLine(std::string_view data, size_t pos) {
  return pos < data.size() && (data[pos] == '\n' || (data[pos] == '\r' && pos + 1 < data.size() && data[pos + 1] == '\n'));
}

size_t LineEnd(std::string_view data, size_t pos) {
  const size_t nl = data.find('\n', pos);
  return nl == std::string_view::npos ? data.size() : nl;
}

void Flatten(const nlohmann::json& obj, const std::string& prefix, std::vector<std::string>* names,
             std::vector<Value>* values) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
    const nlohmann::json& v = it.value();
    if (v.is_object()) {
      Flatten(v, name, names, values);
      continue;
    }
    names->push_back(name);
    if (v.is_null()) values->push_back(Value::Null());
    else if (v.is_boolean()) values->push_back(Value::Bool(v.get<bool>()));
    else if (v.is_number_integer() && !v.is_number_unsigned()) values->push_back(Value::Int(v.get<int64_t>()));
    else if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      values->push_back(u <= static_cast<uint64_t>(INT64_MAX) ? Value::Int(static_cast<int64_t>(u))
                                                             : Value::Text(std::to_string(u)));
    } else if (v.is_number_float()) values->push_back(Value::Double(v.get<double>()));
    else if (v.is_string()) values->push_back(Value::Text(v.get<std::string>()));
    else values->push_back(Value::Text(v.dump()));
  }
}

}  // namespace

Status FileSource::Prepare() {
  SFB_ASSIGN_OR_RETURN(file_, MappedFile::Open(config_.path));
  data_ = file_->data();
  size_t pos = 0;
  if (data_.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 byte order mark
  if (config_.format == FileSourceConfig::Format::kCsv) {
    std::vector<std::string> names = config_.columns;
    if (config_.header) {
      if (!names.empty()) {
        return Status::InvalidSpec("columns: is given but header is true for " + config_.path)
            .WithHint("set header: false when the file has no header line, or drop columns:");
      }
      if (pos >= data_.size()) {
        return Status::InvalidSpec(config_.path + " is empty: a CSV source needs a header line")
            .WithHint("add a header line naming the columns, or set header: false and list columns:");
      }
      std::vector<std::optional<std::string>> fields;
      CsvOptions o = config_.csv;
      Status s = ParseCsvRecord(data_, &pos, o, &fields);
      if (!s.ok()) return s.WithContext(config_.path + ":1 (header)");
      for (size_t i = 0; i < fields.size(); ++i) {
        if (!fields[i] || fields[i]->empty()) {
          return Status::InvalidSpec("column " + std::to_string(i + 1) + " of the header has no name")
              .WithContext(config_.path + ":1");
        }
        names.push_back(*fields[i]);
      }
    } else if (names.empty()) {
      return Status::InvalidSpec("header: false needs columns: to name the columns of " + config_.path);
    }
    std::unordered_set<std::string> seen;
    for (const auto& n : names) {
      if (!seen.insert(n).second) {
        return Status::InvalidSpec("column '" + n + "' appears twice in the header of " + config_.path)
            .WithHint("column names must be unique: rename one of them");
      }
    }
    csv_schema_ = std::make_shared<const Schema>(std::move(names));
  }
  data_start_ = pos;
  splits_.clear();
  const size_t split = static_cast<size_t>(std::max<uint64_t>(config_.split_bytes, 1));
  const bool single = config_.format == FileSourceConfig::Format::kCsv && config_.csv.allow_multiline;
  for (size_t b = data_start_; b < data_.size() || b == data_start_; b += split) {
    const size_t e = single ? data_.size() : std::min(data_.size(), b + split);
    splits_.emplace_back(b, e);
    if (single || e >= data_.size()) break;
  }
  return Status::OK();
}

std::string FileSource::DescribePosition(uint64_t position) const {
  const size_t end = std::min<size_t>(position, data_.size());
  const size_t line = 1 + static_cast<size_t>(std::count(data_.begin(), data_.begin() + static_cast<long>(end), '\n'));
  return config_.path + ":" + std::to_string(line);
}

nlohmann::ordered_json FileSource::ResumeState() const {
  struct stat st;
  if (::stat(config_.path.c_str(), &st) != 0) return nullptr;
  return {{"file", config_.path},
          {"bytes", static_cast<uint64_t>(st.st_size)},
          {"modified_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
          {"splits", splits_.size()}};
}

nlohmann::ordered_json FileSource::RawLine(size_t begin, size_t end) const {
  std::string_view line = data_.substr(begin, std::min(end, data_.size()) - begin);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return {{"line", JsonBytes(line)}};
}

Status FileSource::ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  auto [begin, end] = splits_[split];
  // A record belongs to the split its line starts in: skip the tail of a line begun in the previous split.
  if (begin > data_start_ && data_[begin - 1] != '\n') {
    begin = LineEnd(data_, begin);
    if (begin < data_.size()) ++begin;
  }
  Status s = config_.format == FileSourceConfig::Format::kCsv ? ReadCsv(begin, end, consumer, cancel)
                                                              : ReadJsonl(begin, end, consumer, cancel);
  // The split is read: its pages need not stay resident (for a file larger than RAM they could not).
  file_->Release(splits_[split].first, end);
  return s;
}

Status FileSource::ReadCsv(size_t begin, size_t end, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  std::vector<CsvField> fields;
  CsvScratch scratch;
  // One record, refilled line after line. Its schema is this split's own copy: reader threads sharing one
  // schema object would share (and fight over) its reference count on every record.
  Record record(std::make_shared<const Schema>(*csv_schema_), {});
  const size_t width = csv_schema_->size();
  uint64_t n = 0;
  for (size_t pos = begin; pos < end && pos < data_.size();) {
    if ((++n & 4095) == 0 && cancel.load(std::memory_order_relaxed)) return Status::Cancelled("interrupted");
    const size_t line_start = pos;
    if (IsBlankLine(data_, pos)) {
      pos = LineEnd(data_, pos) + 1;
      continue;
    }
    Status s = ParseCsvFields(data_, &pos, config_.csv, &fields, &scratch);
    if (s.ok() && fields.size() != width) {
      s = Status::BadRecord("the line has " + std::to_string(fields.size()) + " fields but the header has " +
                            std::to_string(width))
              .WithHint("check for an unquoted delimiter inside a value (quote the value) or a missing field");
    }
    if (!s.ok()) {  // the parser has moved pos past the malformed record
      s = consumer.Reject(line_start, std::move(s.WithContext(DescribePosition(line_start))),
                          RawLine(line_start, pos));
      if (!s.ok()) return s;
      continue;
    }
    // The record's values are refilled in place: a field's text is copied into the string the same
    // column held on the previous line.
    std::vector<Value>& values = record.mutable_values();
    values.resize(width);
    for (size_t i = 0; i < width; ++i) {
      if (fields[i].null) {
        values[i].AssignNull();
      } else {
        values[i].AssignText(fields[i].text);
      }
    }
    s = consumer.Consume(record, line_start);
    if (!s.ok()) {
      if (s.code() == Status::Code::kCancelled) return s;
      return s.WithContext(DescribePosition(line_start));
    }
  }
  return Status::OK();
}

Status FileSource::ReadJsonl(size_t begin, size_t end, RecordConsumer& consumer, const std::atomic<bool>& cancel) {
  std::map<std::string, std::shared_ptr<const Schema>> schemas;  // by joined field names
  std::vector<std::string> names;
  std::vector<Value> values;
  uint64_t n = 0;
  for (size_t pos = begin; pos < end && pos < data_.size();) {
    if ((++n & 4095) == 0 && cancel.load(std::memory_order_relaxed)) return Status::Cancelled("interrupted");
    const size_t line_start = pos;
    const size_t line_end = LineEnd(data_, pos);
    pos = line_end + 1;
    std::string_view line = data_.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      // Parse again with exceptions only on the error path, for the parser's own description.
      std::string why = "malformed JSON";
      try {
        const nlohmann::json discard = nlohmann::json::parse(line);
        (void)discard;
      } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for huge numbers
        why = e.what();
        const auto p = why.find("parse error");
        if (p != std::string::npos) why = why.substr(p);
        // The parser quotes what it last read byte for byte: show it as text, escaping what is not.
        why = PreviewText(why, kMaxParserMessage);
      }
      Status bad = consumer.Reject(line_start,
                                   Status::BadRecord(why).WithContext(DescribePosition(line_start))
                                       .WithHint("each line of a jsonl file must be one complete JSON object"),
                                   RawLine(line_start, pos));
      if (!bad.ok()) return bad;
      continue;
    }
    if (!doc.is_object()) {
      Status bad = consumer.Reject(
          line_start,
          Status::BadRecord("the line is a JSON " + std::string(doc.type_name()) + ", not an object")
              .WithContext(DescribePosition(line_start))
              .WithHint("each line of a jsonl file must be one JSON object: {\"field\": value, ...}"),
          RawLine(line_start, pos));
      if (!bad.ok()) return bad;
      continue;
    }
    names.clear();
    values.clear();
    Flatten(doc, "", &names, &values);
    std::string key;
    for (const auto& nm : names) {
      key += nm;
      key.push_back('\0');
    }
    auto it = schemas.find(key);
    if (it == schemas.end()) {
      if (schemas.size() > 1024) schemas.clear();  // bound the cache for files with ever-changing fields
      it = schemas.emplace(key, std::make_shared<const Schema>(names)).first;
    }
    Record record(it->second, std::move(values));
    Status s = consumer.Consume(record, line_start);
    values = std::move(record.mutable_values());
    if (!s.ok()) {
      if (s.code() == Status::Code::kCancelled) return s;
      return s.WithContext(DescribePosition(line_start));
    }
  }
  return Status::OK();
}

}  // namespace sfb
