// Small file helpers with Status errors: an append-only sink that tracks its position and fsyncs on
// close, a read-only memory map, and directory operations used for atomic output.

#ifndef SFB_COMMON_FILE_IO_H_
#define SFB_COMMON_FILE_IO_H_

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

// FileSink writes through a 1 MB buffer and the page cache (Create), or, for a large file written once
// (a keyed-state file), around the page cache (CreateDirect): O_DIRECT writes of 4 MB aligned chunks,
// each written by a background thread while the caller fills the next, so the kernel neither copies the
// bytes into its cache nor has them all to write back at the fsync. Where the file system refuses
// O_DIRECT (tmpfs, some network and overlay file systems), CreateDirect's sink writes as Create's does.
// Either way the file holds exactly the bytes appended once Close() returns OK.
class FileSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  static Result<std::unique_ptr<FileSink>> CreateDirect(const std::string& path);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  Status Append(std::string_view data);
  // Bytes appended so far (the position the next byte will have in the file).
  uint64_t position() const { return position_; }
  // Flushes, fsyncs and closes. Must be called for the data to count as written.
  Status Close();
  const std::string& path() const { return path_; }

 private:
  struct FreeDeleter {
    void operator()(char* p) const;
  };
  FileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Flush();
  // Direct mode: hands the full chunk to a background write, after the previous one has finished.
  Status DispatchChunk();
  // Direct mode: waits for the background write, if any; returns its errno or 0.
  int WaitForChunk();
  Status WriteFailed(int err, uint64_t written) const;

  std::string path_;
  int fd_;
  std::string buffer_;  // buffered mode
  uint64_t position_ = 0;
  // Direct mode: two aligned chunks, one filled here while the other may be being written.
  bool direct_ = false;
  std::unique_ptr<char, FreeDeleter> chunks_[2];
  int filling_ = 0;         // the chunk Append fills
  size_t filled_ = 0;       // bytes in it
  uint64_t dispatched_ = 0;  // file offset where the filling chunk goes (bytes handed to writes before it)
  std::future<int> pending_;  // the background write of the other chunk: its errno, or 0
};

// A read-only view of a whole file (memory-mapped; empty files map to an empty view).
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }
  // Says data()[begin, end) will not be read again (soon): its whole pages leave this process's
  // resident set (they stay in the page cache, and a later read just maps them again). Keeps the memory
  // of reading a file larger than RAM flat.
  void Release(size_t begin, size_t end) const;

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  void* addr_;
  size_t size_;
};

// Writes all of `data` to `fd` (retrying short and interrupted writes); returns 0 or the failed write's errno.
int WriteAll(int fd, std::string_view data);

Status ReadFileToString(const std::string& path, std::string* out);
Status WriteStringToFileSynced(const std::string& path, std::string_view data);
Status FsyncDirectory(const std::string& dir);
// rm -rf; a missing path is not an error.
Status RemoveAll(const std::string& path);
bool PathExists(const std::string& path);

}  // namespace sfb

#endif  // SFB_COMMON_FILE_IO_H_
