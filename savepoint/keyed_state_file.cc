#include "savepoint/keyed_state_file.h"

#include <cstring>

#include "common/byte_writer.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"
#include "savepoint/snappy_framed.h"

namespace sfb {

Status AppendKeyedStateHeader(std::string* out, const std::vector<StateDescriptor>& states) {
  if (states.size() > 32767) return Status::InvalidSpec("more than 32767 states in one savepoint");
  ByteWriter w(out);
  w.I32(kKeyedBackendProxyVersion);
  w.Bool(false);
  w.I32(2);  // top-level snapshot framing
  SFB_RETURN_IF_ERROR(AppendJavaUtf(out, snapshot_class::kString));
  w.I32(3);
  w.I16(static_cast<int16_t>(states.size()));
  for (const auto& s : states) SFB_RETURN_IF_ERROR(s.AppendMetaInfo(out));
  return Status::OK();
}

void AppendKeyValuePair(std::string* out, std::string_view key, std::string_view value, bool last_in_run) {
  // One append of the whole pair (i32 key length | key | i32 value length | value, big-endian): it runs
  // for every state of every address, where four appends cost more than the bytes they copy.
  char pair[256];
  const size_t size = 8 + key.size() + value.size();
  if (size > sizeof pair) {
    ByteWriter w(out);
    w.I32(static_cast<int32_t>(key.size()));
    const size_t first = out->size();
    w.Bytes(key);
    if (last_in_run && !key.empty()) (*out)[first] = static_cast<char>((*out)[first] | kMetaDataFollowsFlag);
    w.LengthPrefixed(value);
    return;
  }
  const uint32_t key_size = __builtin_bswap32(static_cast<uint32_t>(key.size()));
  const uint32_t value_size = __builtin_bswap32(static_cast<uint32_t>(value.size()));
  std::memcpy(pair, &key_size, 4);
  if (!key.empty()) std::memcpy(pair + 4, key.data(), key.size());
  if (last_in_run && !key.empty()) pair[4] = static_cast<char>(pair[4] | kMetaDataFollowsFlag);
  std::memcpy(pair + 4 + key.size(), &value_size, 4);
  if (!value.empty()) std::memcpy(pair + 8 + key.size(), value.data(), value.size());
  out->append(pair, size);
}

void AppendFunctionKey(std::string* out, int key_group, int prefix_bytes, std::u16string_view id) {
  AppendKeyGroupPrefix(out, key_group, prefix_bytes);
  AppendStringValue(out, id);
  out->push_back('\0');  // VoidNamespace
}

Status ReadKeyedStateHeader(ByteReader* in, KeyedStateHeader* h) {
  SFB_RETURN_IF_ERROR(in->I32("keyed state proxy version", &h->version));
  if (h->version < 6 || h->version > 6) {
    return Status::Corruption("keyed-state file version " + std::to_string(h->version) +
                              " is not supported (expected 6, written by Flink 1.13 to 1.18)");
  }
  h->compression_flag_offset = in->position();
  SFB_RETURN_IF_ERROR(in->Bool("key-group compression flag", &h->compressed));
  SFB_RETURN_IF_ERROR(ReadTopLevelSnapshotClass(in, &h->key_serializer_class).WithContext("key serializer"));
  h->states_offset = in->position();
  int16_t n;
  SFB_RETURN_IF_ERROR(in->I16("state count", &n));
  if (n < 0) return Status::Corruption("negative state count");
  h->states.resize(static_cast<size_t>(n));
  h->meta_info_spans.clear();
  for (auto& s : h->states) {
    const size_t begin = in->position();
    SFB_RETURN_IF_ERROR(ParseMetaInfo(in, h->version, &s));
    h->meta_info_spans.emplace_back(begin, in->position());
  }
  h->size = in->position();
  return Status::OK();
}

Status ReadKeyGroupSection(ByteReader* in, int prefix_bytes, size_t num_states,
                           const std::function<Status(const KeyedEntry&)>& on_entry) {
  uint16_t state_id;
  SFB_RETURN_IF_ERROR(in->U16("state id", &state_id));
  for (;;) {
    if (state_id >= num_states) {
      return Status::Corruption("state id " + std::to_string(state_id) + " at offset " +
                                std::to_string(in->absolute_position() - 2) + " but the header lists only " +
                                std::to_string(num_states) + " states");
    }
    KeyedEntry e;
    e.state_id = state_id;
    e.offset = in->absolute_position();
    std::string_view key;
    SFB_RETURN_IF_ERROR(in->LengthPrefixed("key", &key));
    if (key.size() < static_cast<size_t>(prefix_bytes)) return Status::Corruption("key shorter than its key-group prefix");
    const uint8_t first = static_cast<uint8_t>(key[0]);
    const bool last = (first & kMetaDataFollowsFlag) != 0;
    e.key_group = first & ~kMetaDataFollowsFlag;
    if (prefix_bytes == 2) e.key_group = (e.key_group << 8) | static_cast<uint8_t>(key[1]);
    e.key = key.substr(static_cast<size_t>(prefix_bytes));
    SFB_RETURN_IF_ERROR(in->LengthPrefixed("value", &e.value));
    SFB_RETURN_IF_ERROR(on_entry(e));
    if (last) {
      SFB_RETURN_IF_ERROR(in->U16("state id or end-of-key-group mark", &state_id));
      if (state_id == kEndOfKeyGroupMark) return Status::OK();
    }
  }
}

Status ReadKeyGroupSectionAt(std::string_view stream, size_t offset, int key_group, const KeyedStateHeader& header,
                             int prefix_bytes, std::string* scratch,
                             const std::function<Status(const KeyedEntry&)>& on_entry) {
  auto where = [&] {
    return StrCat(header.compressed ? "snappy-compressed " : "", "section of key group ", std::to_string(key_group),
                  " at offset ", std::to_string(offset));
  };
  if (!header.compressed) {
    ByteReader in(stream);
    in.Seek(offset);
    return ReadKeyGroupSection(&in, prefix_bytes, header.states.size(), on_entry).WithContext(where());
  }
  scratch->clear();
  SFB_RETURN_IF_ERROR(DecodeSnappyFramedStream(stream, offset, scratch).WithContext(where()));
  ByteReader in(*scratch);
  return ReadKeyGroupSection(&in, prefix_bytes, header.states.size(), on_entry)
      .WithContext(StrCat(where(), " (offsets within its decoded bytes)"));
}

Status ParseFunctionKey(std::string_view key, std::u16string* id) {
  ByteReader in(key);
  SFB_RETURN_IF_ERROR(ReadStringValue(&in, id));
  uint8_t ns;
  SFB_RETURN_IF_ERROR(in.U8("namespace", &ns));
  if (ns != 0 || !in.at_end()) return Status::Corruption("key does not end in a VoidNamespace byte");
  return Status::OK();
}

}  // namespace sfb
