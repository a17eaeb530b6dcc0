#include "common/text_preview.h"

#include <gtest/gtest.h>

#include "common/java_string.h"

namespace sfb {
namespace {

TEST(PreviewText, ShowsWellFormedUtf8AsItIs) {
  EXPECT_EQ(PreviewText("Zoë", 40), "Zoë");
  EXPECT_EQ(PreviewText("{\"name\": \"中文 名字\"}", 40), "{\"name\": \"中文 名字\"}");
  EXPECT_EQ(PreviewText("hello, Ana é 🚀", 40), "hello, Ana é 🚀");
  EXPECT_EQ(PreviewText("", 40), "");
  // Backslashes are the input's own: a JSON escape reads as written.
  EXPECT_EQ(PreviewText(R"({"a": "x\"y"})", 40), R"({"a": "x\"y"})");
}

TEST(PreviewText, EscapesControlCharacters) {
  EXPECT_EQ(PreviewText("a\nb\r\nc\td", 40), "a\\nb\\r\\nc\\td");
  EXPECT_EQ(PreviewText(std::string("x\0y", 3), 40), "x\\x00y");
  EXPECT_EQ(PreviewText("bell\x07 esc\x1b del\x7f", 40), "bell\\x07 esc\\x1b del\\x7f");
  EXPECT_EQ(PreviewText("next line\xc2\x85.", 40), "next line\\u0085.");  // U+0085, a C1 control
  EXPECT_EQ(PreviewText("nbsp\xc2\xa0.", 40), "nbsp\xc2\xa0.");              // U+00A0 is not a control
}

TEST(PreviewText, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(PreviewText("\xff\xfe", 40), "\\xff\\xfe");
  EXPECT_EQ(PreviewText("Zo\xeb", 40), "Zo\\xeb");             // Latin-1 ë
  EXPECT_EQ(PreviewText("\xc0\xaf", 40), "\\xc0\\xaf");         // an overlong '/'
  EXPECT_EQ(PreviewText("\xed\xa0\x80", 40), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  EXPECT_EQ(PreviewText("Zo\xc3", 40), "Zo\\xc3");             // the input itself ends inside a character
  EXPECT_EQ(PreviewText("a\xc3" "b", 40), "a\\xc3b");           // a lead byte without its continuation
  for (const char* s : {"\xff\xfe", "Zo\xc3", "\x01\xc2\x85"}) EXPECT_TRUE(IsValidUtf8(PreviewText(s, 40))) << s;
}

TEST(PreviewText, CutsAtACharacterBoundaryAndSaysSo) {
  EXPECT_EQ(PreviewText("abcdef", 4), "abcd...");
  EXPECT_EQ(PreviewText("abcd", 4), "abcd");
  // "Zoë" is 4 bytes: a cut after 3 would split the ë, so it comes before it.
  EXPECT_EQ(PreviewText("Zoë!", 3), "Zo...");
  EXPECT_EQ(PreviewText("Zoë!", 4), "Zoë...");
  EXPECT_EQ(PreviewText("🚀🚀", 5), "🚀...");
  EXPECT_EQ(PreviewText("🚀", 3), "...");
  // An escaped byte counts as the one input byte it is.
  EXPECT_EQ(PreviewText("\xff\xff\xff", 2), "\\xff\\xff...");
  EXPECT_TRUE(IsValidUtf8(PreviewText("Zoë!", 3)));
}

TEST(FirstCharacter, IsOneWholeCharacter) {
  EXPECT_EQ(FirstCharacter("ëx"), "ë");
  EXPECT_EQ(FirstCharacter("🚀x"), "🚀");
  EXPECT_EQ(FirstCharacter("x"), "x");
  EXPECT_EQ(FirstCharacter("\xffx"), "\xff");
  EXPECT_EQ(FirstCharacter("\xc3"), "\xc3");
  EXPECT_EQ(FirstCharacter(""), "");
}

}  // namespace
}  // namespace sfb
