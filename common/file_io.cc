#include "common/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sfb {
namespace {
constexpr size_t kSinkBuffer = 1 << 20;

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

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSink::Append(std::string_view data) {
  position_ += data.size();
  if (buffer_.size() + data.size() > kSinkBuffer) {
    SFB_RETURN_IF_ERROR(Flush());
    if (data.size() >= kSinkBuffer) {
      const int err = WriteAll(fd_, data);
      return err ? WriteFailed(err) : Status::OK();
    }
  }
  buffer_.append(data);
  return Status::OK();
}

Status FileSink::Flush() {
  const int err = WriteAll(fd_, buffer_);
  Status s = err ? WriteFailed(err) : Status::OK();
  buffer_.clear();
  return s;
}

Status FileSink::WriteFailed(int err) const {
  Status s = Status::FromErrno("cannot write", path_, err);
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) {
    // Say how far the file got, so the user can size the space they need.
    s = Status::IoError("cannot write " + path_ + ": " + std::strerror(err) + " after " +
                        std::to_string(position_ - buffer_.size()) + " bytes of this file")
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
