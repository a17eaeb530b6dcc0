#include "pipeline/dead_letter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"
#include "common/java_string.h"
#include "savepoint/entry_json.h"

namespace sfb {

Result<std::unique_ptr<DeadLetterFile>> DeadLetterFile::Create(const DeadLetterOptions& options,
                                                               uint64_t resume_bytes, uint64_t resume_count) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume_bytes == 0 ? O_TRUNC : 0);
  const int fd = ::open(options.path.c_str(), flags, 0644);
  if (fd < 0) {
    return Status::FromErrno("cannot create", options.path, errno)
        .WithHint("errors.dead_letter must name a file in a writable directory");
  }
  if (resume_bytes > 0 && (::ftruncate(fd, static_cast<off_t>(resume_bytes)) != 0 ||
                           ::lseek(fd, static_cast<off_t>(resume_bytes), SEEK_SET) < 0)) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("cannot cut back", options.path, err);
  }
  return std::unique_ptr<DeadLetterFile>(new DeadLetterFile(options, fd, resume_bytes, resume_count));
}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status DeadLetterFile::Add(const std::string& source, const std::string& position, std::string_view stage,
                           const Status& reason, const nlohmann::ordered_json& content, std::string* pending) {
  nlohmann::ordered_json line;
  line["source"] = source;
  line["position"] = position;
  line["stage"] = stage;
  line["error"] = reason.ToString();
  if (!reason.hint().empty()) line["hint"] = reason.hint();
  line[stage == "parse" ? "raw" : "record"] = content;
  // Messages quote input, which may not be UTF-8: replace what cannot be printed (content keeps every byte).
  pending->append(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  pending->push_back('\n');

  std::lock_guard<std::mutex> lock(mu_);
  if (++count_ > options_.max_bad_records) {
    return Status::BadRecord("more than " + std::to_string(options_.max_bad_records) +
                             " bad records (errors.max_bad_records); the last one: " + reason.ToString())
        .WithHint("the bad records are in " + options_.path + ": fix the data or the routes, or raise max_bad_records");
  }
  return Status::OK();
}

Status DeadLetterFile::Commit(std::string_view lines, uint64_t* size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) return Status::Internal("the dead-letter file is closed");
  if (const int err = WriteAll(fd_, lines)) return Status::FromErrno("cannot write", options_.path, err);
  size_ += lines.size();
  if (!lines.empty() && ::fdatasync(fd_) != 0) return Status::FromErrno("cannot sync", options_.path, errno);
  if (size) *size = size_;
  return Status::OK();
}

Status DeadLetterFile::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) return Status::OK();
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("cannot sync", options_.path, err);
  }
  if (::close(fd) != 0) return Status::FromErrno("cannot close", options_.path, errno);
  return Status::OK();
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
