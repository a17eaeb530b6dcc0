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
    : spill_dir_(std::move(o.spill_dir_)), limit_(o.limit_), memory_(std::move(o.memory_)),
      pending_key_(std::move(o.pending_key_)), pending_value_(std::move(o.pending_value_)),
      has_pending_(o.has_pending_), pairs_(o.pairs_), spill_fd_(o.spill_fd_), spilled_(o.spilled_) {
  o.spill_fd_ = -1;
}

Status RunBuffer::Append(std::string_view key, std::string_view value) {
  if (has_pending_) {
    AppendKeyValuePair(&memory_, pending_key_, pending_value_, /*last_in_run=*/false);
    if (memory_.size() > limit_) SFB_RETURN_IF_ERROR(Spill());
  }
  pending_key_.assign(key);
  pending_value_.assign(value);
  has_pending_ = true;
  ++pairs_;
  return Status::OK();
}

Status RunBuffer::Spill() {
  if (spill_fd_ < 0) {
    spill_fd_ = ::open(spill_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (spill_fd_ < 0) return Status::FromErrno("cannot create a spill file in", spill_dir_, errno);
  }
  std::string_view data = memory_;
  while (!data.empty()) {
    const ssize_t n = ::pwrite(spill_fd_, data.data(), data.size(), static_cast<off_t>(spilled_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot write a spill file in", spill_dir_, errno);
    }
    spilled_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  memory_.clear();
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
  if (has_pending_) AppendKeyValuePair(&memory_, pending_key_, pending_value_, /*last_in_run=*/true);
  SFB_RETURN_IF_ERROR(sink->Append(memory_));
  memory_.clear();
  has_pending_ = false;
  pairs_ = 0;
  return Status::OK();
}

}  // namespace sfb
