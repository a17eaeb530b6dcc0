#include "common/java_string.h"

#include <gtest/gtest.h>

#include <string>

namespace sfb {
namespace {

// IsValidUtf8 skips ASCII eight bytes at a time: a bad or multi-byte sequence must be found at every
// offset within and across those words, and at the tail shorter than a word.
TEST(IsValidUtf8, FindsABadSequenceAtEveryOffset) {
  for (size_t len = 0; len < 40; ++len) {
    const std::string ascii(len, 'a');
    EXPECT_TRUE(IsValidUtf8(ascii)) << len;
    for (size_t at = 0; at <= len; ++at) {
      std::string good = ascii;
      good.insert(at, "\xc3\xab");  // ë
      EXPECT_TRUE(IsValidUtf8(good)) << len << " " << at;
      std::string emoji = ascii;
      emoji.insert(at, "\xf0\x9f\x9a\x80");  // 🚀
      EXPECT_TRUE(IsValidUtf8(emoji)) << len << " " << at;
      for (const char* bad : {"\xff", "\xc3", "\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"}) {
        std::string s = ascii;
        s.insert(at, bad);
        EXPECT_FALSE(IsValidUtf8(s)) << len << " " << at << " " << bad;
      }
    }
  }
}

TEST(IsValidUtf8, AgreesWithTheUtf16Conversion) {
  std::u16string scratch;
  for (const std::string& s : {std::string("plain ascii text of some length"), std::string("Zo\xc3\xab and more text"),
                              std::string("abcdefg\xc3"), std::string("abcdefgh\xe2\x82"), std::string(1, '\0') + "x"}) {
    EXPECT_EQ(IsValidUtf8(s), Utf8ToUtf16(s, &scratch)) << s;
  }
}

}  // namespace
}  // namespace sfb
