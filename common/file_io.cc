#include "common/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sfb {
namespace {
constexpr size_t kSinkBuffer = 1 << 20;
// Direct mode: chunk size and alignment (of the buffer, the file offset and the length). 4096 is the
// largest logical block size of common devices, so it satisfies every file system's O_DIRECT rule.
constexpr size_t kDirectChunk = 4 << 20;
constexpr size_t kDirectAlign = 4096;

// Turns O_DIRECT off for `fd`; false when it was not on (or cannot be turned off).
bool DropODirect(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_DIRECT) != 0 && ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0;
}

// Writes [p, p + n) at `offset`, retrying short and interrupted writes. A file system that accepted
// O_DIRECT at open but refuses a write of it (EINVAL) gets the rest through the page cache.
int PwriteAll(int fd, const char* p, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      const int err = errno;
      if (err == EINTR || (err == EINVAL && DropODirect(fd))) continue;
      return err;
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

}  // namespace

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot create", path, errno);
  return std::unique_ptr<FileSink>(new FileSink(path, fd));
}

Result<std::unique_ptr<FileSink>> FileSink::CreateDirect(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (fd < 0 && errno == EINVAL) return Create(path);  // the file system has no O_DIRECT
  if (fd < 0) return Status::FromErrno("cannot create", path, errno);
  std::unique_ptr<FileSink> sink(new FileSink(path, fd));
  sink->direct_ = true;
  for (auto& chunk : sink->chunks_) {
    chunk.reset(static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectChunk)));
    if (!chunk) return Status::IoError("cannot allocate a write buffer for " + path);
  }
  return sink;
}

void FileSink::FreeDeleter::operator()(char* p) const { std::free(p); }

FileSink::~FileSink() {
  WaitForChunk();  // the background write uses fd_ and a chunk
  if (fd_ >= 0) ::close(fd_);
}

int FileSink::WaitForChunk() { return pending_.valid() ? pending_.get() : 0; }

Status FileSink::DispatchChunk() {
  if (const int err = WaitForChunk()) return WriteFailed(err, dispatched_ - kDirectChunk);
  const char* chunk = chunks_[filling_].get();
  const size_t n = filled_;
  const uint64_t offset = dispatched_;
  const int fd = fd_;
  try {
    pending_ = std::async(std::launch::async, [=] { return PwriteAll(fd, chunk, n, offset); });
  } catch (const std::system_error&) {
    // No thread to be had: this chunk is written here instead.
    if (const int err = PwriteAll(fd, chunk, n, offset)) return WriteFailed(err, offset);
  }
  dispatched_ += n;
  filling_ ^= 1;
  filled_ = 0;
  return Status::OK();
}

Status FileSink::Append(std::string_view data) {
  position_ += data.size();
  if (direct_) {
    while (!data.empty()) {
      const size_t n = std::min(data.size(), kDirectChunk - filled_);
      std::memcpy(chunks_[filling_].get() + filled_, data.data(), n);
      filled_ += n;
      data.remove_prefix(n);
      if (filled_ == kDirectChunk) SFB_RETURN_IF_ERROR(DispatchChunk());
    }
    return Status::OK();
  }
  if (buffer_.size() + data.size() > kSinkBuffer) {
    SFB_RETURN_IF_ERROR(Flush());
    if (data.size() >= kSinkBuffer) {
      const int err = WriteAll(fd_, data);
      return err ? WriteFailed(err, position_ - data.size()) : Status::OK();
    }
  }
  buffer_.append(data);
  return Status::OK();
}

Status FileSink::Flush() {
  if (direct_) {
    if (const int err = WaitForChunk()) return WriteFailed(err, dispatched_ - kDirectChunk);
    if (filled_ == 0) return Status::OK();
    // The tail is shorter than a chunk, and O_DIRECT takes whole blocks: it goes through the page cache.
    DropODirect(fd_);
    if (const int err = PwriteAll(fd_, chunks_[filling_].get(), filled_, dispatched_)) {
      return WriteFailed(err, dispatched_);
    }
    dispatched_ += filled_;
    filled_ = 0;
    return Status::OK();
  }
  const int err = WriteAll(fd_, buffer_);
  Status s = err ? WriteFailed(err, position_ - buffer_.size()) : Status::OK();
  buffer_.clear();
  return s;
}

// `written`: how many bytes of the file were written before the failed write.
Status FileSink::WriteFailed(int err, uint64_t written) const {
  Status s = Status::FromErrno("cannot write", path_, err);
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) {
    // Say how far the file got, so the user can size the space they need.
    s = Status::IoError("cannot write " + path_ + ": " + std::strerror(err) + " after " +
                        std::to_string(written) + " bytes of this file")
            .WithHint(err == EFBIG ? "the file-size limit (ulimit -f) is too small for this savepoint: raise it"
                                   : "free space on the file system holding " + path_ +
                                         " (the savepoint needs roughly as much as the spill store used) or "
                                         "write it elsewhere with --output");
  }
  return s;
}

Status FileSink::Close() {
  if (fd_ < 0) return Status::OK();
  Status s = Flush();
  if (s.ok() && ::fsync(fd_) != 0) s = Status::FromErrno("cannot fsync", path_, errno);
  if (::close(fd_) != 0 && s.ok()) s = Status::FromErrno("cannot close", path_, errno);
  fd_ = -1;
  return s;
}

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IoError(path + " is not a regular file");
  }
  void* addr = nullptr;
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno("cannot map", path, err);
    }
  }
  ::close(fd);
  if (size > 0) ::madvise(addr, size, MADV_SEQUENTIAL);  // read-ahead; a hint, so its result does not matter
  return std::unique_ptr<MappedFile>(new MappedFile(addr, size));
}

void MappedFile::Release(size_t begin, size_t end) const {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  end = std::min(end, size_);
  const size_t first = (begin + page - 1) / page * page;  // whole pages inside the range only
  const size_t last = end / page * page;
  if (first < last) ::madvise(static_cast<char*>(addr_) + first, last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (size_ > 0) ::munmap(addr_, size_);
}

Status ReadFileToString(const std::string& path, std::string* out) {
  SFB_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  out->assign(file->data());
  return Status::OK();
}

Status WriteStringToFileSynced(const std::string& path, std::string_view data) {
  // Goes through FileSink so a full disk gets the same message everywhere.
  SFB_ASSIGN_OR_RETURN(auto sink, FileSink::Create(path));
  SFB_RETURN_IF_ERROR(sink->Append(data));
  return sink->Close();
}

Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open directory", dir, errno);
  Status s;
  if (::fsync(fd) != 0) s = Status::FromErrno("cannot fsync directory", dir, errno);
  ::close(fd);
  return s;
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::IoError("cannot remove " + path + ": " + ec.message());
  return Status::OK();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace sfb
