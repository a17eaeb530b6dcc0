#include "writer/spill_buffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "savepoint/keyed_state_file.h"

namespace sfb {

RunBuffer::~RunBuffer() {
  if (spill_fd_ >= 0) ::close(spill_fd_);
}

RunBuffer::RunBuffer(RunBuffer&& o) noexcept
    : spill_dir_(std::move(o.spill_dir_)), limit_(o.limit_), memory_(std::move(o.memory_)), last_(o.last_),
      last_key_empty_(o.last_key_empty_), pairs_(o.pairs_), spill_fd_(o.spill_fd_), spilled_(o.spilled_) {
  o.spill_fd_ = -1;
}

Status RunBuffer::Append(std::string_view key, std::string_view value) {
  if (pairs_ > 0 && memory_.size() > limit_) SFB_RETURN_IF_ERROR(Spill());
  last_ = memory_.size();
  last_key_empty_ = key.empty();
  AppendKeyValuePair(&memory_, key, value, /*last_in_run=*/false);
  ++pairs_;
  return Status::OK();
}

Status RunBuffer::Spill() {
  if (spill_fd_ < 0) {
    spill_fd_ = ::open(spill_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (spill_fd_ < 0) return Status::FromErrno("cannot create a spill file in", spill_dir_, errno);
  }
  std::string_view data = std::string_view(memory_).substr(0, last_);  // the newest pair stays
  while (!data.empty()) {
    const ssize_t n = ::pwrite(spill_fd_, data.data(), data.size(), static_cast<off_t>(spilled_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot write a spill file in", spill_dir_, errno);
    }
    spilled_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  memory_.erase(0, last_);
  last_ = 0;
  return Status::OK();
}

Status RunBuffer::WriteTo(FileSink* sink) {
  if (spilled_ > 0) {
    std::string chunk(1 << 20, '\0');
    for (uint64_t off = 0; off < spilled_;) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), spilled_ - off));
      const ssize_t n = ::pread(spill_fd_, chunk.data(), want, static_cast<off_t>(off));
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return Status::FromErrno("cannot read back a spill file in", spill_dir_, n < 0 ? errno : EIO);
      }
      SFB_RETURN_IF_ERROR(sink->Append(std::string_view(chunk.data(), static_cast<size_t>(n))));
      off += static_cast<uint64_t>(n);
    }
    if (::ftruncate(spill_fd_, 0) != 0) return Status::FromErrno("cannot truncate a spill file in", spill_dir_, errno);
    spilled_ = 0;
  }
  // The last pair's flag, as AppendKeyValuePair(..., last_in_run=true) sets it: on the key's first byte,
  // after its 4-byte length.
  if (pairs_ > 0 && !last_key_empty_) memory_[last_ + 4] = static_cast<char>(memory_[last_ + 4] | kMetaDataFollowsFlag);
  SFB_RETURN_IF_ERROR(sink->Append(memory_));
  memory_.clear();
  last_ = 0;
  pairs_ = 0;
  return Status::OK();
}

}  // namespace sfb
