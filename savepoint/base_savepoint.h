// BaseSavepoint: an existing canonical savepoint of a running statefun application, which a run builds on
// (`run JOB.yaml --base SAVEPOINT`, `savepoint.base:` in the spec). The base is only ever read.
//
// Open() reads `_metadata` completely (every operator, master state, operator/keyed/raw handle) and checks,
// before any input is read, that the base can be carried over as it is:
//   - every managed keyed state handle is a canonical savepoint handle (type 7). A native-format savepoint
//     or a retained checkpoint (heap types 3/12, RocksDB incremental/native types 5/11, changelog) is
//     refused with the command that takes a canonical savepoint instead;
//   - no stream is an absolute file (a retained checkpoint's files, which a copy could not carry);
//   - every relative file is a plain name inside the savepoint directory, exists, and has the size its
//     handle records. A damaged base fails naming the file, the operator and the subtask;
//   - the keyed-state streams of `functions_uid1` open and their headers parse (SavepointReader).
// It records each file's size and modification time, so CheckUnchanged() can fail a run whose base was
// changed while it was being read.

#ifndef SFB_SAVEPOINT_BASE_SAVEPOINT_H_
#define SFB_SAVEPOINT_BASE_SAVEPOINT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "savepoint/metadata.h"
#include "savepoint/savepoint_reader.h"

namespace sfb {

class BaseSavepoint {
 public:
  // `path` is the savepoint directory or its _metadata file.
  static Result<std::unique_ptr<BaseSavepoint>> Open(const std::string& path);

  const std::string& directory() const { return reader_->directory(); }
  const SavepointMetadata& metadata() const { return reader_->metadata(); }
  // The functions operator (`functions_uid1`), or null when the base has none.
  const OperatorStateMeta* functions_operator() const { return reader_->functions_operator(); }
  // The keyed state of the functions operator.
  const SavepointReader& reader() const { return *reader_; }
  // Every operator but the functions operator, in _metadata order.
  std::vector<const OperatorStateMeta*> other_operators() const;

  // A file of the savepoint directory that a handle names.
  struct File {
    std::string name;  // relative to the directory
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool of_functions_operator = false;
  };
  const std::vector<File>& files() const { return files_; }

  // Fails when _metadata or a referenced file changed (size or modification time) since Open().
  Status CheckUnchanged() const;

 private:
  BaseSavepoint() = default;
  Status CheckHandles();

  std::unique_ptr<SavepointReader> reader_;
  int64_t metadata_size_ = 0;
  int64_t metadata_mtime_ns_ = 0;
  std::vector<File> files_;
};

}  // namespace sfb

#endif  // SFB_SAVEPOINT_BASE_SAVEPOINT_H_
