#include "savepoint/metadata.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/java_string.h"
#include "common/murmur.h"
#include "common/str_cat.h"

namespace sfb {
namespace {

enum HandleType : uint8_t {
  kNullHandle = 0,
  kByteStreamHandle = 1,
  kFileStreamHandle = 2,
  kKeyGroupsHandle = 3,
  kPartitionableOperatorHandle = 4,
  kIncrementalKeyGroupsHandle = 5,
  kRelativeStreamHandle = 6,
  kSavepointKeyGroupsHandle = 7,
  kKeyGroupsHandleV2 = 12,
};

Status WriteStreamHandle(std::string* out, const StreamHandle& h) {
  ByteWriter w(out);
  switch (h.type) {
    case StreamHandle::Type::kInline:
      w.U8(kByteStreamHandle);
      SFB_RETURN_IF_ERROR(AppendJavaUtf(out, h.path));
      w.LengthPrefixed(h.inline_data);
      return Status::OK();
    case StreamHandle::Type::kAbsoluteFile:
      w.U8(kFileStreamHandle);
      w.I64(h.size);
      return AppendJavaUtf(out, h.path);
    case StreamHandle::Type::kRelativeFile:
      w.U8(kRelativeStreamHandle);
      SFB_RETURN_IF_ERROR(AppendJavaUtf(out, h.path));
      w.I64(h.size);
      return Status::OK();
  }
  return Status::Internal("unknown stream handle type");
}

// Reads a stream handle whose type byte was already read. A null handle leaves *present false.
Status ReadStreamHandleBody(ByteReader* in, uint8_t type, StreamHandle* h) {
  switch (type) {
    case kByteStreamHandle: {
      h->type = StreamHandle::Type::kInline;
      SFB_RETURN_IF_ERROR(in->Utf("inline handle name", &h->path));
      std::string_view data;
      SFB_RETURN_IF_ERROR(in->LengthPrefixed("inline handle data", &data));
      h->inline_data = std::string(data);
      h->size = static_cast<int64_t>(data.size());
      return Status::OK();
    }
    case kFileStreamHandle:
      h->type = StreamHandle::Type::kAbsoluteFile;
      SFB_RETURN_IF_ERROR(in->I64("file handle size", &h->size));
      return in->Utf("file handle path", &h->path);
    case kRelativeStreamHandle:
      h->type = StreamHandle::Type::kRelativeFile;
      SFB_RETURN_IF_ERROR(in->Utf("relative handle path", &h->path));
      return in->I64("relative handle size", &h->size);
    default:
      return Status::Corruption("unexpected stream handle type " + std::to_string(type) + " at offset " +
                                std::to_string(in->position() - 1));
  }
}

Status ReadOptionalStreamHandle(ByteReader* in, bool* present, StreamHandle* h) {
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("stream handle type", &type));
  *present = type != kNullHandle;
  return *present ? ReadStreamHandleBody(in, type, h) : Status::OK();
}

Status ReadStreamHandle(ByteReader* in, const char* what, StreamHandle* h) {
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("stream handle type", &type));
  if (type == kNullHandle) return Status::Corruption(StrCat(what, " without a stream"));
  return ReadStreamHandleBody(in, type, h);
}

// Reads the count and handle of a managed or raw operator state slot (a "singleton" collection).
Status ReadOperatorStateSlot(ByteReader* in, bool* present, OperatorStateHandle* h) {
  int32_t count;
  SFB_RETURN_IF_ERROR(in->I32("operator state count", &count));
  if (count != 0 && count != 1) {
    return Status::Corruption(StrCat("operator state slot holds ", std::to_string(count), " handles (expected 0 or 1) at offset ",
                                     std::to_string(in->position() - 4)));
  }
  *present = count == 1;
  if (!*present) return Status::OK();
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("operator state handle type", &type));
  if (type != kPartitionableOperatorHandle) {
    return Status::Corruption(StrCat("unexpected operator state handle type ", std::to_string(type), " at offset ",
                                     std::to_string(in->position() - 1)));
  }
  int32_t n;
  SFB_RETURN_IF_ERROR(in->I32("operator state partition count", &n));
  if (n < 0 || static_cast<size_t>(n) > in->remaining()) return Status::Corruption("implausible operator state count");
  h->partitions.resize(static_cast<size_t>(n));
  for (auto& part : h->partitions) {
    int32_t n_offsets;
    SFB_RETURN_IF_ERROR(in->Utf("operator state name", &part.name));
    SFB_RETURN_IF_ERROR(in->U8("distribution mode", &part.distribution_mode));
    SFB_RETURN_IF_ERROR(in->I32("offset count", &n_offsets));
    if (n_offsets < 0 || static_cast<size_t>(n_offsets) > in->remaining() / 8) {
      return Status::Corruption(StrCat("implausible offset count in operator state ", part.name));
    }
    part.offsets.resize(static_cast<size_t>(n_offsets));
    for (auto& o : part.offsets) SFB_RETURN_IF_ERROR(in->I64("operator state offset", &o));
  }
  return ReadStreamHandle(in, "operator state handle", &h->stream);
}

Status ReadKeyedHandle(ByteReader* in, bool* present, KeyedStateHandle* h) {
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("keyed state handle type", &type));
  *present = false;
  if (type == kNullHandle) return Status::OK();
  if (type != kSavepointKeyGroupsHandle && type != kKeyGroupsHandle && type != kKeyGroupsHandleV2) {
    const bool incremental = type == kIncrementalKeyGroupsHandle || type == 11;
    return Status::Corruption(StrCat("keyed state handle type ", std::to_string(type), " at offset ",
                                     std::to_string(in->position() - 1), " is ",
                                     incremental ? "RocksDB incremental or native-format state"
                                                 : "not a canonical savepoint handle (a changelog checkpoint?)"))
        .WithHint("take a savepoint in the canonical format: flink savepoint --type canonical JOB_ID DIR, or "
                  "flink stop --type canonical --savepointPath DIR JOB_ID");
  }
  h->kind = static_cast<KeyedStateHandle::Kind>(type);
  int32_t count;
  SFB_RETURN_IF_ERROR(in->I32("first key group", &h->start_key_group));
  SFB_RETURN_IF_ERROR(in->I32("key group count", &count));
  if (h->start_key_group < 0 || count < 0 || count > 32768 || static_cast<size_t>(count) > in->remaining() / 8) {
    return Status::Corruption("implausible key-group range " + std::to_string(h->start_key_group) + "+" +
                              std::to_string(count));
  }
  h->offsets.resize(static_cast<size_t>(count));
  for (auto& o : h->offsets) SFB_RETURN_IF_ERROR(in->I64("key-group offset", &o));
  SFB_RETURN_IF_ERROR(ReadStreamHandle(in, "keyed state handle", &h->stream));
  if (type == kKeyGroupsHandleV2) SFB_RETURN_IF_ERROR(in->Utf("state handle id", &h->handle_id));
  *present = true;
  return Status::OK();
}

Status WriteOperatorStateSlot(std::string* out, bool present, const OperatorStateHandle& h) {
  ByteWriter w(out);
  w.I32(present ? 1 : 0);
  if (!present) return Status::OK();
  w.U8(kPartitionableOperatorHandle);
  w.I32(static_cast<int32_t>(h.partitions.size()));
  for (const auto& part : h.partitions) {
    SFB_RETURN_IF_ERROR(AppendJavaUtf(out, part.name));
    w.U8(part.distribution_mode);
    w.I32(static_cast<int32_t>(part.offsets.size()));
    for (int64_t o : part.offsets) w.I64(o);
  }
  return WriteStreamHandle(out, h.stream);
}

Status WriteKeyedHandle(std::string* out, bool present, const KeyedStateHandle& h) {
  ByteWriter w(out);
  if (!present) {
    w.U8(kNullHandle);
    return Status::OK();
  }
  w.U8(static_cast<uint8_t>(h.kind));
  w.I32(h.start_key_group);
  w.I32(static_cast<int32_t>(h.offsets.size()));
  for (int64_t o : h.offsets) w.I64(o);
  SFB_RETURN_IF_ERROR(WriteStreamHandle(out, h.stream));
  if (h.kind == KeyedStateHandle::Kind::kKeyGroupsWithId) SFB_RETURN_IF_ERROR(AppendJavaUtf(out, h.handle_id));
  return Status::OK();
}

// Name and version from a master state's body: i32 version, utf name, i32 length, bytes.
Status ParseMasterStateBody(MasterState* ms) {
  ByteReader in(ms->body);
  SFB_RETURN_IF_ERROR(in.I32("master state version", &ms->version));
  SFB_RETURN_IF_ERROR(in.Utf("master state name", &ms->name));
  std::string_view data;
  SFB_RETURN_IF_ERROR(in.LengthPrefixed("master state data", &data));
  if (!in.at_end()) return Status::Corruption(StrCat("master state ", ms->name, " has trailing bytes"));
  return Status::OK();
}

}  // namespace

OperatorId OperatorIdFromUid(const std::string& uid) { return Murmur3_128(uid, 0); }

std::string OperatorIdHex(const OperatorId& id) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::vector<const StreamHandle*> StreamHandlesOf(const OperatorStateMeta& op) {
  std::vector<const StreamHandle*> out;
  for (StreamHandle* h : MutableStreamHandlesOf(const_cast<OperatorStateMeta*>(&op))) out.push_back(h);
  return out;
}

std::vector<StreamHandle*> MutableStreamHandlesOf(OperatorStateMeta* op) {
  std::vector<StreamHandle*> out;
  if (op->has_coordinator_state) out.push_back(&op->coordinator);
  for (auto& st : op->subtasks) {
    if (st.has_managed_operator_state) out.push_back(&st.managed_operator.stream);
    if (st.has_raw_operator_state) out.push_back(&st.raw_operator.stream);
    if (st.has_keyed_state) out.push_back(&st.keyed.stream);
    if (st.has_raw_keyed_state) out.push_back(&st.raw_keyed.stream);
  }
  return out;
}

Result<std::string> SerializeMetadata(const SavepointMetadata& m) {
  std::string out;
  ByteWriter w(&out);
  w.U32(kMetadataMagic);
  w.I32(3);
  w.I64(m.checkpoint_id);
  w.I32(static_cast<int32_t>(m.master_states.size()));
  for (const auto& ms : m.master_states) {
    w.U32(kMasterStateMagic);
    w.LengthPrefixed(ms.body);
  }
  w.I32(static_cast<int32_t>(m.operators.size()));
  for (const auto& op : m.operators) {
    w.Bytes(std::string_view(reinterpret_cast<const char*>(op.id.data()), op.id.size()));
    w.I32(op.parallelism);
    w.I32(op.max_parallelism);
    if (op.has_coordinator_state) {
      SFB_RETURN_IF_ERROR(WriteStreamHandle(&out, op.coordinator));
    } else {
      w.U8(kNullHandle);
    }
    if (op.finished) {
      w.I32(-1);
      continue;
    }
    w.I32(static_cast<int32_t>(op.subtasks.size()));
    for (const auto& st : op.subtasks) {
      if (st.index >= op.parallelism || st.index < -op.parallelism) {
        return Status::Internal("subtask index " + std::to_string(st.index) + " outside parallelism");
      }
      w.I32(st.index);
      if (st.index < 0) continue;  // finished subtask: no body
      SFB_RETURN_IF_ERROR(WriteOperatorStateSlot(&out, st.has_managed_operator_state, st.managed_operator));
      SFB_RETURN_IF_ERROR(WriteOperatorStateSlot(&out, st.has_raw_operator_state, st.raw_operator));
      SFB_RETURN_IF_ERROR(WriteKeyedHandle(&out, st.has_keyed_state, st.keyed));
      SFB_RETURN_IF_ERROR(WriteKeyedHandle(&out, st.has_raw_keyed_state, st.raw_keyed));
      w.I32(0);  // input channel state
      w.I32(0);  // result subpartition state
    }
  }
  return out;
}

Status ParseMetadata(std::string_view bytes, SavepointMetadata* m) {
  ByteReader in(bytes);
  int32_t magic;
  SFB_RETURN_IF_ERROR(in.I32("magic number", &magic));
  if (static_cast<uint32_t>(magic) != kMetadataMagic) {
    return Status::Corruption("not a Flink savepoint metadata file (bad magic number)")
        .WithHint("pass the savepoint directory, or its _metadata file");
  }
  SFB_RETURN_IF_ERROR(in.I32("metadata version", &m->version));
  if (m->version != 3 && m->version != 4) {
    return Status::Corruption("metadata version " + std::to_string(m->version) +
                              " is not supported (Flink 1.16 writes 3 and 4)");
  }
  SFB_RETURN_IF_ERROR(in.I64("checkpoint id", &m->checkpoint_id));
  if (m->checkpoint_id < 0) return Status::Corruption(StrCat("negative checkpoint id ", std::to_string(m->checkpoint_id)));
  int32_t n_master;
  SFB_RETURN_IF_ERROR(in.I32("master state count", &n_master));
  if (n_master < 0 || static_cast<size_t>(n_master) > in.remaining()) {
    return Status::Corruption("implausible master state count");
  }
  m->master_states.resize(static_cast<size_t>(n_master));
  for (auto& ms : m->master_states) {
    int32_t master_magic;
    SFB_RETURN_IF_ERROR(in.I32("master state magic", &master_magic));
    if (static_cast<uint32_t>(master_magic) != kMasterStateMagic) {
      return Status::Corruption(StrCat("bad master state magic number at offset ", std::to_string(in.position() - 4)));
    }
    std::string_view body;
    SFB_RETURN_IF_ERROR(in.LengthPrefixed("master state", &body));
    ms.body = std::string(body);
    SFB_RETURN_IF_ERROR(ParseMasterStateBody(&ms));
  }
  int32_t n_ops;
  SFB_RETURN_IF_ERROR(in.I32("operator count", &n_ops));
  if (n_ops < 0 || static_cast<size_t>(n_ops) > in.remaining()) return Status::Corruption("implausible operator count");
  m->operators.resize(static_cast<size_t>(n_ops));
  for (auto& op : m->operators) {
    std::string_view id;
    SFB_RETURN_IF_ERROR(in.Bytes("operator id", 16, &id));
    std::copy(id.begin(), id.end(), op.id.begin());
    SFB_RETURN_IF_ERROR(in.I32("parallelism", &op.parallelism));
    SFB_RETURN_IF_ERROR(in.I32("max parallelism", &op.max_parallelism));
    if (op.max_parallelism < 1 || op.max_parallelism > 32768 || op.parallelism < 1 ||
        op.parallelism > op.max_parallelism) {
      return Status::Corruption("operator " + OperatorIdHex(op.id) + " has parallelism " +
                                std::to_string(op.parallelism) + " and max parallelism " +
                                std::to_string(op.max_parallelism));
    }
    SFB_RETURN_IF_ERROR(ReadOptionalStreamHandle(&in, &op.has_coordinator_state, &op.coordinator));
    int32_t n_sub;
    SFB_RETURN_IF_ERROR(in.I32("subtask count", &n_sub));
    if (n_sub < 0) {  // fully finished operator
      op.finished = true;
      continue;
    }
    if (n_sub > op.parallelism) return Status::Corruption("more subtask states than the parallelism");
    op.subtasks.resize(static_cast<size_t>(n_sub));
    for (auto& st : op.subtasks) {
      SFB_RETURN_IF_ERROR(in.I32("subtask index", &st.index));
      if (st.index < -op.parallelism || st.index >= op.parallelism) {
        return Status::Corruption(StrCat("subtask index ", std::to_string(st.index), " of operator ", OperatorIdHex(op.id),
                                         " is outside its parallelism ", std::to_string(op.parallelism)));
      }
      if (st.index < 0) continue;  // finished subtask, no body
      const std::string where = StrCat("operator ", OperatorIdHex(op.id), " subtask ", std::to_string(st.index));
      SFB_RETURN_IF_ERROR(ReadOperatorStateSlot(&in, &st.has_managed_operator_state, &st.managed_operator)
                              .WithContext(StrCat(where, " managed operator state")));
      SFB_RETURN_IF_ERROR(ReadOperatorStateSlot(&in, &st.has_raw_operator_state, &st.raw_operator)
                              .WithContext(StrCat(where, " raw operator state")));
      SFB_RETURN_IF_ERROR(
          ReadKeyedHandle(&in, &st.has_keyed_state, &st.keyed).WithContext(StrCat(where, " managed keyed state")));
      SFB_RETURN_IF_ERROR(ReadKeyedHandle(&in, &st.has_raw_keyed_state, &st.raw_keyed)
                              .WithContext(StrCat(where, " raw keyed state")));
      for (int k = 0; k < 2; ++k) {
        int32_t n_channel;
        SFB_RETURN_IF_ERROR(in.I32("channel state count", &n_channel));
        if (n_channel != 0) {
          return Status::Corruption(StrCat(where, " has unaligned checkpoint channel state, which a savepoint "
                                                  "cannot have"));
        }
      }
    }
  }
  if (m->version == 4) {
    m->v4_trailer = std::string(bytes.substr(in.position()));
  } else if (!in.at_end()) {
    return Status::Corruption(StrCat(std::to_string(in.remaining()), " bytes after the last operator of a version 3 _metadata"));
  }
  return Status::OK();
}

}  // namespace sfb
