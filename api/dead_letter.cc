#include "api/dead_letter.h"

#include "common/java_string.h"
#include "savepoint/entry_json.h"

namespace sfb {

Result<std::unique_ptr<DeadLetterFile>> DeadLetterFile::Create(const DeadLetterOptions& options) {
  auto sink = FileSink::Create(options.path);
  if (!sink.ok()) {
    return Status(sink.status()).WithHint("errors.dead_letter must name a file in a writable directory");
  }
  return std::unique_ptr<DeadLetterFile>(new DeadLetterFile(options, std::move(sink).value()));
}

Status DeadLetterFile::Add(const std::string& source, const std::string& position, std::string_view stage,
                           const Status& reason, const nlohmann::ordered_json& content) {
  nlohmann::ordered_json line;
  line["source"] = source;
  line["position"] = position;
  line["stage"] = stage;
  line["error"] = reason.ToString();
  if (!reason.hint().empty()) line["hint"] = reason.hint();
  line[stage == "parse" ? "raw" : "record"] = content;
  // Messages quote input, which may not be UTF-8: replace what cannot be printed (content keeps every byte).
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text.push_back('\n');

  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
  if (write_error_.ok()) write_error_ = sink_->Append(text);
  if (!write_error_.ok()) return write_error_;
  if (count_ > options_.max_bad_records) {
    return Status::BadRecord("more than " + std::to_string(options_.max_bad_records) +
                             " bad records (errors.max_bad_records); the last one: " + reason.ToString())
        .WithHint("the bad records are in " + options_.path + ": fix the data or the routes, or raise max_bad_records");
  }
  return Status::OK();
}

Status DeadLetterFile::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sink_) return write_error_;
  Status s = sink_->Close();
  sink_.reset();
  if (!write_error_.ok()) return write_error_;
  return s;
}

uint64_t DeadLetterFile::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

nlohmann::ordered_json JsonBytes(std::string_view bytes) {
  if (IsValidUtf8(bytes)) return std::string(bytes);
  return {{"base64", Base64Encode(bytes)}};
}

}  // namespace sfb
