// The savepoint's `_metadata` file (Flink checkpoint metadata, versions 3 and 4).
//
//   u32 0x4960672D magic, i32 version (we write 3; we read 3 and 4)
//   i64 checkpoint id (0), i32 master-state count (0; read and skipped if present)
//   i32 operator count, then per operator:
//     i64 OperatorID lower, i64 upper   (= the 16 bytes of murmur3_128(uid), in hash order)
//     i32 parallelism, i32 max parallelism
//     coordinator state: a stream handle, 00 = none
//     i32 subtask count (-1 = finished operator), then per subtask: i32 index and a body:
//       i32 has-managed-operator-state, [handle]; i32 has-raw-operator-state, [handle]
//       managed keyed state handle; raw keyed state handle     (00 = none)
//       i32 input-channel handle count, handles; i32 result-subpartition handle count, handles
//   V4 only: a Java-serialized CheckpointProperties follows (AC ED 00 05 70 when null); we skip it.
//
// Keyed state handles are type 7 (SAVEPOINT_KEY_GROUPS_HANDLE): i32 first key group, i32 count,
// count x i64 offsets into the stream (0 = empty group), then the stream handle:
//   1 = inline bytes (utf name, i32 length, bytes), 2 = absolute file (i64 size, utf path),
//   6 = file relative to the savepoint directory (utf name, i64 size).
// The heap backend only takes its canonical restore path for type 7, so that is what we write, with
// relative files, so a savepoint directory can be moved or copied as a whole.

#ifndef SFB_SAVEPOINT_METADATA_H_
#define SFB_SAVEPOINT_METADATA_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sfb {

inline constexpr uint32_t kMetadataMagic = 0x4960672D;
inline constexpr char kMetadataFileName[] = "_metadata";
inline constexpr char kFunctionsOperatorUid[] = "functions_uid1";

using OperatorId = std::array<uint8_t, 16>;
OperatorId OperatorIdFromUid(const std::string& uid);
std::string OperatorIdHex(const OperatorId& id);

struct StreamHandle {
  enum class Type { kInline = 1, kAbsoluteFile = 2, kRelativeFile = 6 };
  Type type = Type::kRelativeFile;
  std::string path;        // relative name, absolute path, or the inline handle's name
  int64_t size = 0;        // file size (informational in Flink), or inline length
  std::string inline_data;  // kInline only
};

struct KeyedStateHandle {
  int32_t start_key_group = 0;
  std::vector<int64_t> offsets;  // one per key group from start_key_group
  StreamHandle stream;
};

struct SubtaskState {
  int32_t index = 0;
  bool has_keyed_state = false;
  KeyedStateHandle keyed;
  bool has_other_state = false;  // operator, raw or channel state we do not interpret
};

struct OperatorStateMeta {
  OperatorId id{};
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  bool has_coordinator_state = false;
  std::vector<SubtaskState> subtasks;
};

struct SavepointMetadata {
  int32_t version = 3;
  int64_t checkpoint_id = 0;
  int32_t master_states = 0;
  std::vector<OperatorStateMeta> operators;
};

// Serializes as version 3. Fails on inconsistent input (offsets count, subtask index >= parallelism).
Result<std::string> SerializeMetadata(const SavepointMetadata& metadata);
// Parses versions 3 and 4; every count and length is checked against the bytes that remain.
Status ParseMetadata(std::string_view bytes, SavepointMetadata* metadata);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_METADATA_H_
