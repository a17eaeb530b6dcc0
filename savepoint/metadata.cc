#include "savepoint/metadata.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/java_string.h"
#include "common/murmur.h"

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

Status ReadOperatorStateHandle(ByteReader* in) {
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("operator state handle type", &type));
  if (type == kNullHandle) return Status::OK();
  if (type != kPartitionableOperatorHandle) {
    return Status::Corruption("unexpected operator state handle type " + std::to_string(type));
  }
  int32_t n;
  SFB_RETURN_IF_ERROR(in->I32("operator state count", &n));
  if (n < 0 || static_cast<size_t>(n) > in->remaining()) return Status::Corruption("implausible operator state count");
  for (int i = 0; i < n; ++i) {
    std::string name;
    uint8_t mode;
    int32_t n_offsets;
    SFB_RETURN_IF_ERROR(in->Utf("operator state name", &name));
    SFB_RETURN_IF_ERROR(in->U8("distribution mode", &mode));
    SFB_RETURN_IF_ERROR(in->I32("offset count", &n_offsets));
    if (n_offsets < 0 || static_cast<size_t>(n_offsets) > in->remaining() / 8) {
      return Status::Corruption("implausible offset count in operator state " + name);
    }
    std::string_view skip;
    SFB_RETURN_IF_ERROR(in->Bytes("operator state offsets", static_cast<size_t>(n_offsets) * 8, &skip));
  }
  bool present;
  StreamHandle h;
  return ReadOptionalStreamHandle(in, &present, &h);
}

Status ReadKeyedHandle(ByteReader* in, bool* present, KeyedStateHandle* h) {
  uint8_t type;
  SFB_RETURN_IF_ERROR(in->U8("keyed state handle type", &type));
  *present = false;
  if (type == kNullHandle) return Status::OK();
  if (type != kSavepointKeyGroupsHandle && type != kKeyGroupsHandle && type != kKeyGroupsHandleV2) {
    return Status::Corruption("keyed state handle type " + std::to_string(type) +
                              " is not a canonical savepoint handle (an incremental or changelog checkpoint?)")
        .WithHint("read a savepoint taken in the canonical format (the default for flink savepoint)");
  }
  int32_t count;
  SFB_RETURN_IF_ERROR(in->I32("first key group", &h->start_key_group));
  SFB_RETURN_IF_ERROR(in->I32("key group count", &count));
  if (h->start_key_group < 0 || count < 0 || count > 32768 || static_cast<size_t>(count) > in->remaining() / 8) {
    return Status::Corruption("implausible key-group range " + std::to_string(h->start_key_group) + "+" +
                              std::to_string(count));
  }
  h->offsets.resize(static_cast<size_t>(count));
  for (auto& o : h->offsets) SFB_RETURN_IF_ERROR(in->I64("key-group offset", &o));
  uint8_t stream_type;
  SFB_RETURN_IF_ERROR(in->U8("stream handle type", &stream_type));
  if (stream_type == kNullHandle) return Status::Corruption("keyed state handle without a stream");
  SFB_RETURN_IF_ERROR(ReadStreamHandleBody(in, stream_type, &h->stream));
  if (type == kKeyGroupsHandleV2) {
    std::string id;
    SFB_RETURN_IF_ERROR(in->Utf("state handle id", &id));
  }
  *present = true;
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

Result<std::string> SerializeMetadata(const SavepointMetadata& m) {
  std::string out;
  ByteWriter w(&out);
  w.U32(kMetadataMagic);
  w.I32(3);
  w.I64(m.checkpoint_id);
  w.I32(0);  // master states
  w.I32(static_cast<int32_t>(m.operators.size()));
  for (const auto& op : m.operators) {
    w.Bytes(std::string_view(reinterpret_cast<const char*>(op.id.data()), op.id.size()));
    w.I32(op.parallelism);
    w.I32(op.max_parallelism);
    w.U8(kNullHandle);  // coordinator state
    w.I32(static_cast<int32_t>(op.subtasks.size()));
    for (const auto& st : op.subtasks) {
      if (st.index < 0 || st.index >= op.parallelism) {
        return Status::Internal("subtask index " + std::to_string(st.index) + " outside parallelism");
      }
      w.I32(st.index);
      w.I32(0);  // no managed operator state
      w.I32(0);  // no raw operator state
      if (st.has_keyed_state) {
        w.U8(kSavepointKeyGroupsHandle);
        w.I32(st.keyed.start_key_group);
        w.I32(static_cast<int32_t>(st.keyed.offsets.size()));
        for (int64_t o : st.keyed.offsets) w.I64(o);
        SFB_RETURN_IF_ERROR(WriteStreamHandle(&out, st.keyed.stream));
      } else {
        w.U8(kNullHandle);
      }
      w.U8(kNullHandle);  // raw keyed state
      w.I32(0);           // input channel state
      w.I32(0);           // result subpartition state
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
  SFB_RETURN_IF_ERROR(in.I32("master state count", &m->master_states));
  if (m->master_states < 0 || static_cast<size_t>(m->master_states) > in.remaining()) {
    return Status::Corruption("implausible master state count");
  }
  for (int i = 0; i < m->master_states; ++i) {
    int32_t master_magic, n;
    SFB_RETURN_IF_ERROR(in.I32("master state magic", &master_magic));
    SFB_RETURN_IF_ERROR(in.I32("master state length", &n));
    if (n < 0) return Status::Corruption("negative master state length");
    std::string_view skip;
    SFB_RETURN_IF_ERROR(in.Bytes("master state", static_cast<size_t>(n), &skip));
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
    StreamHandle coordinator;
    SFB_RETURN_IF_ERROR(ReadOptionalStreamHandle(&in, &op.has_coordinator_state, &coordinator));
    int32_t n_sub;
    SFB_RETURN_IF_ERROR(in.I32("subtask count", &n_sub));
    if (n_sub < 0) continue;  // fully finished operator
    if (n_sub > op.parallelism) return Status::Corruption("more subtask states than the parallelism");
    op.subtasks.resize(static_cast<size_t>(n_sub));
    for (auto& st : op.subtasks) {
      SFB_RETURN_IF_ERROR(in.I32("subtask index", &st.index));
      if (st.index < 0) continue;  // finished subtask, no body
      if (st.index >= op.parallelism) return Status::Corruption("subtask index beyond the parallelism");
      for (int k = 0; k < 2; ++k) {  // managed, raw operator state
        int32_t present;
        SFB_RETURN_IF_ERROR(in.I32("operator state flag", &present));
        if (present != 0) {
          st.has_other_state = true;
          SFB_RETURN_IF_ERROR(ReadOperatorStateHandle(&in));
        }
      }
      SFB_RETURN_IF_ERROR(ReadKeyedHandle(&in, &st.has_keyed_state, &st.keyed));
      bool raw_present;
      KeyedStateHandle raw;
      SFB_RETURN_IF_ERROR(ReadKeyedHandle(&in, &raw_present, &raw));
      st.has_other_state |= raw_present;
      for (int k = 0; k < 2; ++k) {
        int32_t n_channel;
        SFB_RETURN_IF_ERROR(in.I32("channel state count", &n_channel));
        if (n_channel != 0) {
          return Status::Corruption("unaligned checkpoint channel state is not supported in a savepoint");
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace sfb
