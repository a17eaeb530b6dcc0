// The savepoint's `_metadata` file (Flink checkpoint metadata, versions 3 and 4).
//
//   u32 0x4960672D magic, i32 version (we write 3; we read 3 and 4)
//   i64 checkpoint id, i32 master-state count, then per master state:
//     u32 0xC96B1696, i32 n, n bytes = { i32 version, utf name, i32 length, bytes }  (kept whole)
//   i32 operator count, then per operator:
//     i64 OperatorID lower, i64 upper   (= the 16 bytes of murmur3_128(uid), in hash order)
//     i32 parallelism, i32 max parallelism
//     coordinator state: a stream handle, 00 = none
//     i32 subtask count (-1 = finished operator, nothing follows), then per subtask: i32 index
//     (-(i+1) = subtask i finished, no body) and a body:
//       i32 managed operator state count (0|1), [operator state handle]; i32 raw count (0|1), [handle]
//       managed keyed state handle; raw keyed state handle     (00 = none)
//       i32 input-channel handle count, handles; i32 result-subpartition handle count, handles
//   V4 only: a Java-serialized CheckpointProperties follows (AC ED 00 05 70 when null); we keep its
//   bytes for tests but never write it (we write V3, as the spec allows).
//
// Operator state handles (type 4): i32 n, n x { utf name, u8 distribution mode, i32 k, k x i64 offset },
// then the stream handle. These belong to sources (e.g. Kafka offsets), the feedback and router operators.
//
// Keyed state handles are type 7 (SAVEPOINT_KEY_GROUPS_HANDLE), 3 (KEY_GROUPS_HANDLE) or 12 (type 3 plus
// a trailing utf handle id): i32 first key group, i32 count, count x i64 offsets into the stream (0 =
// empty group), then the stream handle:
//   1 = inline bytes (utf name, i32 length, bytes), 2 = absolute file (i64 size, utf path),
//   6 = file relative to the savepoint directory (utf name, i64 size).
// The heap backend only takes its canonical restore path for type 7, so that is what we write for
// managed keyed state, with relative files, so a savepoint directory can be moved or copied as a whole.
// Types 3 and 12 are what the heap backend writes for a native-format snapshot, and what operators write
// as raw keyed state (legacy timers) even in a canonical savepoint. Types 5 and 11 (RocksDB incremental
// or native-format) and 8-10, 13, 14 (changelog) are refused: they point at files this format cannot
// carry (see base_savepoint.h for what to run instead).
//
// Parsing keeps every field, so a parsed operator serializes back to the same bytes (V3 body).

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
  enum class Kind : uint8_t { kKeyGroups = 3, kSavepointKeyGroups = 7, kKeyGroupsWithId = 12 };
  Kind kind = Kind::kSavepointKeyGroups;
  int32_t start_key_group = 0;
  std::vector<int64_t> offsets;  // one per key group from start_key_group
  StreamHandle stream;
  std::string handle_id;  // kKeyGroupsWithId only
};

struct OperatorStateHandle {
  struct Partition {
    std::string name;
    uint8_t distribution_mode = 0;  // SPLIT_DISTRIBUTE, UNION, BROADCAST (Flink's ordinal)
    std::vector<int64_t> offsets;
  };
  std::vector<Partition> partitions;
  StreamHandle stream;
};

struct SubtaskState {
  int32_t index = 0;  // negative: -(i+1) for finished subtask i, which has no state
  bool has_managed_operator_state = false;
  OperatorStateHandle managed_operator;
  bool has_raw_operator_state = false;
  OperatorStateHandle raw_operator;
  bool has_keyed_state = false;  // managed keyed state
  KeyedStateHandle keyed;
  bool has_raw_keyed_state = false;
  KeyedStateHandle raw_keyed;
  // Operator or raw state, which only the base carry-over interprets.
  bool has_other_state() const {
    return has_managed_operator_state || has_raw_operator_state || has_raw_keyed_state;
  }
};

struct OperatorStateMeta {
  OperatorId id{};
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  bool has_coordinator_state = false;
  StreamHandle coordinator;  // inline (type 1) in Flink 1.16
  bool finished = false;     // subtask count -1: a fully finished operator, no subtasks
  std::vector<SubtaskState> subtasks;
};

struct MasterState {
  std::string name;     // from the body, for display
  int32_t version = 0;  // from the body
  std::string body;     // the n bytes after the magic and length, written back as they are
};

struct SavepointMetadata {
  int32_t version = 3;
  int64_t checkpoint_id = 0;
  std::vector<MasterState> master_states;
  std::vector<OperatorStateMeta> operators;
  std::string v4_trailer;  // V4 only: the serialized CheckpointProperties, as read; never written
};

// Every stream handle of an operator (coordinator, operator, keyed, raw), in serialization order.
std::vector<const StreamHandle*> StreamHandlesOf(const OperatorStateMeta& op);
std::vector<StreamHandle*> MutableStreamHandlesOf(OperatorStateMeta* op);

inline constexpr uint32_t kMasterStateMagic = 0xC96B1696;

// Serializes as version 3. Fails on inconsistent input (offsets count, subtask index >= parallelism).
Result<std::string> SerializeMetadata(const SavepointMetadata& metadata);
// Parses versions 3 and 4; every count and length is checked against the bytes that remain.
Status ParseMetadata(std::string_view bytes, SavepointMetadata* metadata);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_METADATA_H_
