#include "savepoint/base_savepoint.h"

#include <sys/stat.h>

#include <set>

#include "common/str_cat.h"

namespace sfb {
namespace {

const char kCanonicalHint[] =
    "take a canonical savepoint of the running job and pass that: flink stop --type canonical "
    "--savepointPath DIR JOB_ID (or flink savepoint --type canonical JOB_ID DIR to keep it running)";

Status StatFile(const std::string& path, int64_t* size, int64_t* mtime_ns) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot stat", path, errno);
  *size = static_cast<int64_t>(st.st_size);
  *mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return Status::OK();
}

std::string SubtaskName(const OperatorStateMeta& op, const SubtaskState& st) {
  return StrCat("operator ", OperatorIdHex(op.id), " subtask ", std::to_string(st.index));
}

bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos;
}

}  // namespace

Result<std::unique_ptr<BaseSavepoint>> BaseSavepoint::Open(const std::string& path) {
  auto base = std::unique_ptr<BaseSavepoint>(new BaseSavepoint());
  auto reader = SavepointReader::Open(path);
  if (!reader.ok()) {
    Status s = reader.status();
    return s.WithContext(StrCat("base savepoint ", path));
  }
  base->reader_ = std::move(*reader);
  SFB_RETURN_IF_ERROR(StatFile(StrCat(base->directory(), "/", kMetadataFileName), &base->metadata_size_,
                               &base->metadata_mtime_ns_));
  SFB_RETURN_IF_ERROR(base->CheckHandles().WithContext(StrCat("base savepoint ", base->directory())));
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(
      base->reader_->OpenStreams(&streams).WithContext(StrCat("base savepoint ", base->directory())));
  return base;
}

std::vector<const OperatorStateMeta*> BaseSavepoint::other_operators() const {
  std::vector<const OperatorStateMeta*> out;
  for (const auto& op : metadata().operators) {
    if (&op != functions_operator()) out.push_back(&op);
  }
  return out;
}

Status BaseSavepoint::CheckHandles() {
  std::set<std::string> seen;
  for (const auto& op : metadata().operators) {
    const bool functions = &op == functions_operator();
    for (const auto& st : op.subtasks) {
      if (st.has_keyed_state && st.keyed.kind != KeyedStateHandle::Kind::kSavepointKeyGroups) {
        return Status::InvalidSpec(StrCat(SubtaskName(op, st),
                                          " holds keyed state in a native-format snapshot (handle type ",
                                          std::to_string(static_cast<int>(st.keyed.kind)),
                                          "): a native savepoint or a retained checkpoint cannot be a base"))
            .WithHint(kCanonicalHint);
      }
    }
    for (const StreamHandle* h : StreamHandlesOf(op)) {
      if (h->type == StreamHandle::Type::kInline) continue;
      if (h->type == StreamHandle::Type::kAbsoluteFile) {
        return Status::InvalidSpec(StrCat("operator ", OperatorIdHex(op.id), " names the absolute file ", h->path,
                                          ": a retained checkpoint, or a savepoint not in the canonical "
                                          "relocatable layout, cannot be a base"))
            .WithHint(kCanonicalHint);
      }
      if (!IsPlainFileName(h->path)) {
        return Status::Corruption(StrCat("operator ", OperatorIdHex(op.id), " names the file '", h->path,
                                         "', which is not a plain file name inside the savepoint"));
      }
      if (!seen.insert(h->path).second) continue;
      File f;
      f.name = h->path;
      f.of_functions_operator = functions;
      const std::string full = StrCat(directory(), "/", h->path);
      Status s = StatFile(full, &f.size, &f.mtime_ns);
      if (!s.ok()) {
        return Status::Corruption(StrCat("file ", h->path, " of operator ", OperatorIdHex(op.id),
                                         " is missing from the savepoint (", s.message(), ")"))
            .WithHint("copy the whole savepoint directory, or take the savepoint again");
      }
      if (f.size != h->size) {
        return Status::Corruption(StrCat("file ", h->path, " of operator ", OperatorIdHex(op.id), " has ",
                                         std::to_string(f.size), " bytes but its handle records ",
                                         std::to_string(h->size), ": it is truncated or was replaced"))
            .WithHint("copy the whole savepoint directory, or take the savepoint again");
      }
      files_.push_back(std::move(f));
    }
  }
  return Status::OK();
}

Status BaseSavepoint::CheckUnchanged() const {
  int64_t size, mtime;
  const std::string metadata_path = StrCat(directory(), "/", kMetadataFileName);
  SFB_RETURN_IF_ERROR(StatFile(metadata_path, &size, &mtime));
  if (size != metadata_size_ || mtime != metadata_mtime_ns_) {
    return Status::Corruption(StrCat("the base savepoint's ", metadata_path, " changed during the run"))
        .WithHint("do not write into the base savepoint while a run reads it; run again");
  }
  for (const auto& f : files_) {
    const std::string full = StrCat(directory(), "/", f.name);
    Status s = StatFile(full, &size, &mtime);
    if (!s.ok() || size != f.size || mtime != f.mtime_ns) {
      return Status::Corruption(StrCat("file ", full, " of the base savepoint changed during the run"))
          .WithHint("do not write into the base savepoint while a run reads it; run again");
    }
  }
  return Status::OK();
}

}  // namespace sfb
