// The keyed-state stream of a canonical (backend-independent) Flink savepoint: one file per subtask.
//
// Layout (Flink 1.16 FullSnapshotAsyncWriter / FullSnapshotRestoreOperation):
//
//   header (KeyedBackendSerializationProxy, version 6):
//     i32 6                  proxy version
//     bool c                 key-group compression: 1 when Flink's snapshot compression was on
//     top-level snapshot     of the key serializer: StringSerializer (statefun keys are function ids)
//     i16 n                  number of states; state id = position in this list
//     n x StateMetaInfoSnapshot   (see state_descriptor.h)
//
//   then one section per non-empty key group, found only through the offsets kept in _metadata
//   (absolute positions in this stream; 0 = empty group). A section is a sequence of runs, one per state:
//     i16 state id
//     pairs: i32 key length, key, i32 value length, value
//            key = key-group prefix (1 or 2 bytes) ++ StringValue(id) ++ 00 (VoidNamespace)
//     the LAST pair of a run has bit 0x80 set in its first key byte ("meta data follows"), after which
//     comes either the next run's i16 state id or FF FF (end of key group).
//   A run has at least one pair; an empty key group has no section at all.
//   With c = 1 (a base Flink wrote with execution.checkpointing.snapshot-compression: true) each section,
//   FF FF included, is written through snappy's framing format, a stream of its own per key group
//   (savepoint/snappy_framed.h); its offset in _metadata is where that stream's identifier starts.
//   ReadKeyGroupSectionAt() reads both forms. We always write c = 0: a base's compressed sections are
//   decoded and rewritten uncompressed (writer/base_carry_over.h), which Flink restores, since it reads the
//   flag of each file.
//
// We write ascending key groups, runs in ascending state id, and keys in a deterministic order, so the
// same input always gives the same bytes.

#ifndef SFB_SAVEPOINT_KEYED_STATE_FILE_H_
#define SFB_SAVEPOINT_KEYED_STATE_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/byte_reader.h"
#include "common/status.h"
#include "savepoint/state_descriptor.h"

namespace sfb {

inline constexpr int32_t kKeyedBackendProxyVersion = 6;
inline constexpr uint16_t kEndOfKeyGroupMark = 0xFFFF;
inline constexpr uint8_t kMetaDataFollowsFlag = 0x80;

Status AppendKeyedStateHeader(std::string* out, const std::vector<StateDescriptor>& states);

// Appends one key/value pair; `last_in_run` sets the 0x80 flag on the key's first byte.
void AppendKeyValuePair(std::string* out, std::string_view key, std::string_view value, bool last_in_run);

// The function-state key after the key-group prefix: StringValue(id) ++ VoidNamespace.
void AppendFunctionKey(std::string* out, int key_group, int prefix_bytes, std::u16string_view id);

struct KeyedStateHeader {
  int32_t version = 0;
  bool compressed = false;  // key-group sections are snappy-framed
  size_t compression_flag_offset = 0;
  std::string key_serializer_class;
  std::vector<ParsedStateMeta> states;
  size_t size = 0;  // bytes; the first key-group section cannot start before this
  // Where the key serializer snapshot ends (= where the i16 state count starts), and each state's
  // StateMetaInfoSnapshot as [begin, end) offsets in the stream: what a carry-over copies verbatim.
  size_t states_offset = 0;
  std::vector<std::pair<size_t, size_t>> meta_info_spans;
};
Status ReadKeyedStateHeader(ByteReader* in, KeyedStateHeader* header);

// One entry of a key-group section, as read.
struct KeyedEntry {
  uint16_t state_id;
  int key_group;               // from the key's prefix
  std::string_view key;        // after the prefix: serialized key ++ namespace
  std::string_view value;
  size_t offset;               // of the pair in the stream, for error messages
};
// Reads the section starting at in->position() until the end-of-key-group mark.
Status ReadKeyGroupSection(ByteReader* in, int prefix_bytes, size_t num_states,
                           const std::function<Status(const KeyedEntry&)>& on_entry);

// Reads the section of key group `key_group` at `offset` of `stream` (whose parsed header is `header`):
// in place, or, when the header says sections are snappy-compressed, from its decoded bytes, which are
// kept in `*scratch`; the entries' views point into `stream` or `*scratch` until `*scratch` is reused.
// Errors name the key group and its offset (the caller adds the stream's name). In a compressed section
// an entry's `offset` is a position in the decoded bytes.
Status ReadKeyGroupSectionAt(std::string_view stream, size_t offset, int key_group, const KeyedStateHeader& header,
                             int prefix_bytes, std::string* scratch,
                             const std::function<Status(const KeyedEntry&)>& on_entry);

// Splits a function-state key (after the prefix) into the id; checks the VoidNamespace byte.
Status ParseFunctionKey(std::string_view key, std::u16string* id);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_KEYED_STATE_FILE_H_
