#include "writer/staged_directory.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "common/file_io.h"
#include "common/str_cat.h"

namespace sfb {
namespace {

std::string ParentOf(const std::string& path) {
  std::filesystem::path p(path);
  auto parent = p.parent_path();
  return parent.empty() ? "." : parent.string();
}

std::string TrimTrailingSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

Status CheckOutputPath(const std::string& raw_target, bool overwrite) {
  const std::string target = TrimTrailingSlashes(raw_target);
  if (target.empty()) return Status::InvalidSpec("the savepoint path is empty").WithHint("set savepoint.path or pass --output");
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!overwrite) {
      return Status::AlreadyExists("savepoint path " + target + " already exists")
          .WithHint("choose another --output, remove it, or pass --overwrite to replace it");
    }
    if (!S_ISDIR(st.st_mode)) {
      return Status::AlreadyExists(target + " exists and is not a directory; --overwrite only replaces directories");
    }
    if (!PathExists(target + "/_metadata")) {
      return Status::AlreadyExists(target + " exists and is not a savepoint (no _metadata); refusing to replace it")
          .WithHint("remove it yourself if it really should go, or choose another --output");
    }
  }
  return Status::OK();
}

// Calls fn(path, pid) for each entry of `parent` named `prefix` + PID + ... whose process is gone.
static void ForEachDirectoryOfDeadRun(const std::string& parent, const std::string& prefix,
                                      const std::function<void(const std::filesystem::path&, long)>& fn) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(file.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    fn(entry.path(), pid);
  }
}

// ".<name>.inprogress-": how the staging directories of a run writing TARGET begin (then "<pid>-<n>").
static std::string StagingPrefix(const std::string& target) {
  return StrCat(".", std::filesystem::path(target).filename().string(), ".inprogress-");
}

// Removes ".<name>.inprogress-<pid>-<n>" siblings whose process is gone: what a crashed (SIGKILL,
// power loss) run leaves behind. Directories of live processes, including concurrent runs, are kept.
void RemoveDirectoriesOfDeadRuns(const std::string& parent, const std::string& prefix) {
  ForEachDirectoryOfDeadRun(parent, prefix, [](const std::filesystem::path& path, long pid) {
    if (RemoveAll(path.string()).ok()) {
      std::fprintf(stderr, "note: removed %s, left by an earlier run (pid %ld) that did not finish\n",
                   path.c_str(), pid);
    }
  });
}

Result<std::unique_ptr<StagedDirectory>> StagedDirectory::Create(const std::string& raw_target, bool overwrite) {
  const std::string target = TrimTrailingSlashes(raw_target);
  SFB_RETURN_IF_ERROR(CheckOutputPath(target, overwrite));
  const std::string parent = ParentOf(target);
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return Status::IoError("cannot create directory " + parent + ": " + ec.message());
  const std::string prefix = StagingPrefix(target);
  RemoveDirectoriesOfDeadRuns(parent, prefix);
  static std::atomic<int> counter{0};
  const std::string staging = parent + "/" + prefix + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  SFB_RETURN_IF_ERROR(RemoveAll(staging));
  if (::mkdir(staging.c_str(), 0755) != 0) return Status::FromErrno("cannot create directory", staging, errno);
  return std::unique_ptr<StagedDirectory>(new StagedDirectory(target, staging, overwrite));
}

Result<std::unique_ptr<StagedDirectory>> StagedDirectory::Resume(const std::string& raw_target, bool overwrite,
                                                                  const std::string& marker) {
  const std::string target = TrimTrailingSlashes(raw_target);
  SFB_RETURN_IF_ERROR(CheckOutputPath(target, overwrite));
  const std::string parent = ParentOf(target);
  const std::string prefix = StagingPrefix(target);
  std::string newest;
  std::filesystem::file_time_type newest_time;
  ForEachDirectoryOfDeadRun(parent, prefix, [&](const std::filesystem::path& path, long) {
    std::error_code e;
    const auto t = std::filesystem::last_write_time(path / marker, e);
    if (!e && (newest.empty() || t > newest_time)) {
      newest = path.string();
      newest_time = t;
    }
  });
  if (newest.empty()) {
    return Status::NotFound("there is no interrupted run of " + target + " to resume (no " + prefix +
                            "* directory of a process that is gone, with its journal)")
        .WithHint("run without --resume; --resume continues a run that was killed (not one that failed or was "
                  "stopped with Ctrl-C: those clean up after themselves)");
  }
  static std::atomic<int> counter{0};
  const std::string staging = parent + "/" + prefix + std::to_string(::getpid()) + "-r" + std::to_string(counter++);
  if (::rename(newest.c_str(), staging.c_str()) != 0) return Status::FromErrno("cannot take over", newest, errno);
  std::fprintf(stderr, "note: resuming the interrupted run in %s\n", newest.c_str());
  RemoveDirectoriesOfDeadRuns(parent, prefix);
  return std::unique_ptr<StagedDirectory>(new StagedDirectory(target, staging, overwrite));
}

StagedDirectory::~StagedDirectory() {
  if (!committed_ && !keep_on_failure_) RemoveAll(staging_);
  UnregisterDirectoryForExitCleanup(staging_);
}

Status StagedDirectory::Commit() {
  SFB_RETURN_IF_ERROR(FsyncDirectory(staging_));
  UnregisterDirectoryForExitCleanup(staging_);  // from here on it becomes the savepoint
  if (PathExists(target_)) {
    if (!overwrite_) return Status::AlreadyExists("savepoint path " + target_ + " appeared while writing");
    if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) != 0) {
      return Status::FromErrno("cannot swap the new savepoint into place at", target_, errno);
    }
    committed_ = true;
    // The old savepoint now sits at the staging name.
    SFB_RETURN_IF_ERROR(RemoveAll(staging_));
  } else {
    if (::rename(staging_.c_str(), target_.c_str()) != 0) {
      return Status::FromErrno("cannot move the new savepoint into place at", target_, errno);
    }
    committed_ = true;
  }
  return FsyncDirectory(ParentOf(target_));
}

}  // namespace sfb
