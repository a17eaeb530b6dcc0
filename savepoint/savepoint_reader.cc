#include "savepoint/savepoint_reader.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/java_string.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"

namespace sfb {

Result<std::unique_ptr<SavepointReader>> SavepointReader::Open(const std::string& path) {
  auto reader = std::unique_ptr<SavepointReader>(new SavepointReader());
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("savepoint " + path + " does not exist")
        .WithHint("pass the directory that holds _metadata");
  }
  std::string metadata_path;
  if (S_ISDIR(st.st_mode)) {
    reader->dir_ = path;
    metadata_path = path + "/" + kMetadataFileName;
  } else {
    const auto slash = path.rfind('/');
    reader->dir_ = slash == std::string::npos ? "." : path.substr(0, slash);
    metadata_path = path;
  }
  if (!PathExists(metadata_path)) {
    return Status::NotFound(reader->dir_ + " has no _metadata file, so it is not a (finished) savepoint")
        .WithHint("pass the directory that holds _metadata");
  }
  std::string bytes;
  SFB_RETURN_IF_ERROR(ReadFileToString(metadata_path, &bytes));
  SFB_RETURN_IF_ERROR(ParseMetadata(bytes, &reader->metadata_).WithContext(metadata_path));
  SFB_RETURN_IF_ERROR(reader->FindFunctionsOperator());
  return reader;
}

Result<std::unique_ptr<SavepointReader>> SavepointReader::FromMemory(std::string_view metadata,
                                                                     std::map<std::string, std::string> files) {
  auto reader = std::unique_ptr<SavepointReader>(new SavepointReader());
  reader->dir_ = "(memory)";
  reader->in_memory_ = true;
  reader->files_ = std::move(files);
  SFB_RETURN_IF_ERROR(ParseMetadata(metadata, &reader->metadata_).WithContext("_metadata"));
  SFB_RETURN_IF_ERROR(reader->FindFunctionsOperator());
  return reader;
}

Status SavepointReader::FindFunctionsOperator() {
  const OperatorId functions_id = OperatorIdFromUid(kFunctionsOperatorUid);
  for (const auto& op : metadata_.operators) {
    if (op.id != functions_id) continue;
    if (functions_) return Status::Corruption("the functions operator appears twice in _metadata");
    functions_ = &op;
  }
  return Status::OK();
}

Status SavepointReader::OpenStreams(std::vector<Stream>* streams) const {
  streams->clear();
  if (!functions_) return Status::OK();
  for (const auto& st : functions_->subtasks) {
    if (!st.has_keyed_state) continue;
    Stream s;
    s.subtask = st.index;
    s.handle = &st.keyed;
    const StreamHandle& h = st.keyed.stream;
    s.name = h.path;
    if (h.type == StreamHandle::Type::kInline) {
      s.bytes = h.inline_data;
    } else {
      std::string file_path = h.path;
      if (h.type == StreamHandle::Type::kRelativeFile) {
        // A relative handle names a file in the savepoint directory; anything else could escape it.
        if (h.path.empty() || h.path == "." || h.path == ".." || h.path.find('/') != std::string::npos ||
            h.path.find('\\') != std::string::npos) {
          return Status::Corruption("keyed-state file name '" + h.path + "' of subtask " +
                                    std::to_string(st.index) + " is not a plain file name inside the savepoint")
              .WithContext(dir_ + "/_metadata");
        }
        file_path = dir_ + "/" + h.path;
      } else {
        // An absolute handle must still name a file directly inside this savepoint's directory: a
        // crafted _metadata must not make us open files elsewhere.
        std::string path = h.path.rfind("file:", 0) == 0 ? h.path.substr(5) : h.path;
        while (path.rfind("//", 0) == 0) path.erase(0, 1);
        std::error_code ec;
        const auto dir = std::filesystem::weakly_canonical(dir_, ec);
        const auto parent = std::filesystem::weakly_canonical(std::filesystem::path(path), ec).parent_path();
        if (in_memory_ || ec || path.find("..") != std::string::npos || parent != dir) {
          return Status::Corruption("keyed-state file '" + h.path + "' of subtask " + std::to_string(st.index) +
                                    " lies outside the savepoint directory; refusing to read it")
              .WithContext(dir_ + "/_metadata")
              .WithHint("a savepoint whose files were moved: copy the whole directory, or re-take it");
        }
        file_path = path;
      }
      if (in_memory_) {
        auto it = files_.find(h.path);
        if (it == files_.end()) return Status::NotFound("no file " + h.path + " in the in-memory savepoint");
        s.bytes = it->second;
      } else {
        SFB_ASSIGN_OR_RETURN(s.file, MappedFile::Open(file_path));
        s.bytes = s.file->data();
      }
      s.name = file_path;
    }
    ByteReader in(s.bytes);
    SFB_RETURN_IF_ERROR(ReadKeyedStateHeader(&in, &s.header).WithContext(s.name));
    if (s.header.key_serializer_class != snapshot_class::kString) {
      return Status::Corruption("keys are serialized with " + s.header.key_serializer_class +
                                ", not StringSerializer: this is not a statefun functions operator")
          .WithContext(s.name);
    }
    const KeyGroupRange own = KeyGroupRangeForSubtask(functions_->max_parallelism, functions_->parallelism, st.index);
    const int first = st.keyed.start_key_group;
    const int last = first + static_cast<int>(st.keyed.offsets.size()) - 1;
    if (!st.keyed.offsets.empty() && (first < own.start || last > own.end)) {
      return Status::Corruption("subtask " + std::to_string(st.index) + " holds key groups " + std::to_string(first) +
                                ".." + std::to_string(last) + " outside its range " + std::to_string(own.start) +
                                ".." + std::to_string(own.end))
          .WithContext(dir_ + "/_metadata");
    }
    streams->push_back(std::move(s));
  }
  return Status::OK();
}

bool SavepointReader::Stream::HoldsKeyGroup(int kg) const {
  const int64_t i = static_cast<int64_t>(kg) - handle->start_key_group;
  return i >= 0 && i < static_cast<int64_t>(handle->offsets.size());
}

Result<size_t> SavepointReader::Stream::SectionOffset(int kg) const {
  if (!HoldsKeyGroup(kg)) return size_t{0};
  const int64_t offset = handle->offsets[static_cast<size_t>(kg - handle->start_key_group)];
  if (offset == 0) return size_t{0};
  if (offset < static_cast<int64_t>(header.size) || static_cast<uint64_t>(offset) >= bytes.size()) {
    return Status::Corruption(StrCat("key group ", std::to_string(kg), " starts at offset ", std::to_string(offset),
                                     ", outside the data of a ", std::to_string(bytes.size()), "-byte stream"))
        .WithContext(name);
  }
  return static_cast<size_t>(offset);
}

Status SavepointReader::ForEachEntry(const Stream& s, const std::function<Status(const Entry&)>& fn) const {
  const int max_p = functions_->max_parallelism;
  const int prefix = KeyGroupPrefixBytes(max_p);
  std::string scratch;  // a compressed key group's decoded bytes
  for (size_t i = 0; i < s.handle->offsets.size(); ++i) {
    const int kg = s.handle->start_key_group + static_cast<int>(i);
    SFB_ASSIGN_OR_RETURN(const size_t offset, s.SectionOffset(kg));
    if (offset == 0) continue;
    Status st = ReadKeyGroupSectionAt(s.bytes, offset, kg, s.header, prefix, &scratch,
                                      [&](const KeyedEntry& e) -> Status {
      if (e.key_group != kg) {
        return Status::Corruption("entry at offset " + std::to_string(e.offset) + " has key group " +
                                  std::to_string(e.key_group) + " inside the section of key group " + std::to_string(kg));
      }
      const ParsedStateMeta& meta = s.header.states[e.state_id];
      Entry entry{&meta, kg, {}, e.value};
      if (meta.supported) {
        Status ks = ParseFunctionKey(e.key, &entry.id);
        if (!ks.ok()) return ks.WithContext("entry at offset " + std::to_string(e.offset));
        const int expected = KeyGroupForId(entry.id, max_p);
        if (expected != kg) {
          return Status::Corruption("id '" + Utf16ToUtf8(entry.id) + "' is stored in key group " + std::to_string(kg) +
                                    " but Flink would look for it in key group " + std::to_string(expected));
        }
      }
      return fn(entry);
    });
    if (!st.ok()) {
      return st.WithContext(StrCat("keyed-state handle of subtask ", std::to_string(s.subtask), ": ", s.name));
    }
  }
  return Status::OK();
}

}  // namespace sfb
