// StagedDirectory: builds a directory under a temporary sibling name and moves it into place whole.
//
// The savepoint is written into "<parent>/.<name>.inprogress-<pid>-<n>" on the same file system as the
// target. Commit() fsyncs the staging directory, then renames it onto the target (atomically swapping
// with an existing one under --overwrite, via renameat2 RENAME_EXCHANGE, then removing the old one) and
// fsyncs the parent. Until Commit() succeeds the target path is untouched; a failed or interrupted run
// removes the staging directory in the destructor, and a crashed one leaves only a hidden
// ".inprogress" sibling, never a half-written savepoint at the target.

#ifndef SFB_WRITER_STAGED_DIRECTORY_H_
#define SFB_WRITER_STAGED_DIRECTORY_H_

#include <memory>
#include <string>

#include "common/exit_cleanup.h"
#include "common/status.h"

namespace sfb {

class StagedDirectory {
 public:
  // Fails with AlreadyExists if `target` exists and !overwrite. Creates missing parent directories.
  static Result<std::unique_ptr<StagedDirectory>> Create(const std::string& target, bool overwrite);
  // Takes over the staging directory that a run killed earlier (its process is gone) left for `target`,
  // holding `marker` (its journal); the newest if there are several. NotFound when there is none.
  static Result<std::unique_ptr<StagedDirectory>> Resume(const std::string& target, bool overwrite,
                                                         const std::string& marker);
  ~StagedDirectory();

  const std::string& path() const { return staging_; }
  const std::string& target() const { return target_; }
  Status Commit();
  // Keeps the staging directory when this object goes away uncommitted (a resumed run that fails keeps
  // the interrupted run's work for another --resume).
  void KeepOnFailure() {
    keep_on_failure_ = true;
    UnregisterDirectoryForExitCleanup(staging_);
  }

 private:
  // Registered for exit cleanup (common/exit_cleanup.h) until committed or kept: a second Ctrl-C removes
  // it too.
  StagedDirectory(std::string target, std::string staging, bool overwrite)
      : target_(std::move(target)), staging_(std::move(staging)), overwrite_(overwrite) {
    RegisterDirectoryForExitCleanup(staging_);
  }
  std::string target_;
  std::string staging_;
  bool overwrite_;
  bool committed_ = false;
  bool keep_on_failure_ = false;
};

// Checks, without creating anything, that `target` may be written (for dry runs and early failure).
Status CheckOutputPath(const std::string& target, bool overwrite);

// Removes the directories in `parent` named `prefix` + PID + "-..." whose process no longer exists: what
// runs killed with SIGKILL left behind (staging directories, spill directories elsewhere). A directory
// of a live process, or of a PID the system reused, is left alone. Says on stderr what it removed.
void RemoveDirectoriesOfDeadRuns(const std::string& parent, const std::string& prefix);

}  // namespace sfb

#endif  // SFB_WRITER_STAGED_DIRECTORY_H_
