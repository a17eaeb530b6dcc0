#include "savepoint/keyed_state_file.h"

#include <string>

#include <gtest/gtest.h>

#include "common/byte_writer.h"

namespace sfb {
namespace {

// The pair as the format defines it, written field by field: i32 key length | key | i32 value length |
// value, big-endian, with kMetaDataFollowsFlag on the key's first byte for the last pair of a run.
std::string PairByFields(const std::string& key, const std::string& value, bool last_in_run) {
  std::string out;
  ByteWriter w(&out);
  w.I32(static_cast<int32_t>(key.size()));
  std::string k = key;
  if (last_in_run && !k.empty()) k[0] = static_cast<char>(k[0] | kMetaDataFollowsFlag);
  w.Bytes(k);
  w.LengthPrefixed(value);
  return out;
}

TEST(KeyedStateFileTest, AKeyValuePairIsItsFieldsWhateverItsSize) {
  // Pairs below and above the size that is assembled on the stack, empty keys and values, the flag.
  for (const size_t key_size : {0, 1, 13, 200, 247, 248, 249, 300}) {
    for (const size_t value_size : {0, 1, 8, 40, 1000}) {
      for (const bool last : {false, true}) {
        std::string key(key_size, '\0'), value(value_size, '\0');
        for (size_t i = 0; i < key_size; ++i) key[i] = static_cast<char>(i * 7 + 1);
        for (size_t i = 0; i < value_size; ++i) value[i] = static_cast<char>(255 - i);
        std::string out = "prefix";
        AppendKeyValuePair(&out, key, value, last);
        EXPECT_EQ(out, "prefix" + PairByFields(key, value, last))
            << "key " << key_size << " value " << value_size << " last " << last;
      }
    }
  }
}

}  // namespace
}  // namespace sfb
