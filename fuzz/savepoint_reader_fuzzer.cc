// Fuzzes everything `inspect`, `dump` and `get` do with a savepoint's bytes: _metadata parsing, every
// subtask's keyed-state header, key-group sections, keys and values, and the JSON rendering.
//
// Input: u16 metadata length, the _metadata bytes, then the bytes of one keyed-state file that every
// relative handle resolves to. Any input must give a Status, never a crash, a hang or an unbounded
// allocation (lengths are checked against the bytes that remain before anything is allocated).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "common/java_string.h"
#include "savepoint/entry_json.h"
#include "savepoint/savepoint_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t meta_len = std::min<size_t>(size - 2, (static_cast<size_t>(data[0]) << 8) | data[1]);
  const std::string_view metadata(reinterpret_cast<const char*>(data) + 2, meta_len);
  const std::string file(reinterpret_cast<const char*>(data) + 2 + meta_len, size - 2 - meta_len);
  auto reader = sfb::SavepointReader::FromMemory(metadata, {});
  if (!reader.ok()) return 0;
  // Every relative handle gets the same file bytes.
  std::map<std::string, std::string> files;
  if (const auto* op = (*reader)->functions_operator()) {
    for (const auto& st : op->subtasks) files[st.keyed.stream.path] = file;
  }
  reader = sfb::SavepointReader::FromMemory(metadata, std::move(files));
  if (!reader.ok()) return 0;
  std::vector<sfb::SavepointReader::Stream> streams;
  if (!(*reader)->OpenStreams(&streams).ok()) return 0;
  for (const auto& s : streams) {
    (void)(*reader)->ForEachEntry(s, [](const sfb::SavepointReader::Entry& e) -> sfb::Status {
      if (!e.state->supported) return sfb::Status::OK();
      sfb::StateValue v;
      int64_t ts;
      SFB_RETURN_IF_ERROR(e.state->descriptor.DecodeValue(e.value, &v, &ts));
      nlohmann::json j;
      sfb::PutValueJson(e.state->descriptor, v, &j);
      (void)sfb::Utf16ToUtf8(e.id);
      return sfb::Status::OK();
    });
  }
  return 0;
}
