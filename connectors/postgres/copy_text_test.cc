#include "connectors/postgres/copy_text.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(CopyText, SplitsOnTabsAndSeesNulls) {
  std::vector<CopyField> f;
  ASSERT_TRUE(SplitCopyLine("1\t\\N\tabc\t\n", 4, &f));
  EXPECT_EQ(f[0].raw, "1");
  EXPECT_TRUE(f[1].null);
  EXPECT_FALSE(f[2].null);
  EXPECT_EQ(f[2].raw, "abc");
  EXPECT_EQ(f[3].raw, "");  // an empty string is not NULL
  EXPECT_FALSE(f[3].null);
}

TEST(CopyText, RejectsTheWrongFieldCount) {
  std::vector<CopyField> f;
  EXPECT_FALSE(SplitCopyLine("1\t2\n", 3, &f));
  EXPECT_FALSE(SplitCopyLine("1\t2\t3\t4\n", 3, &f));
  EXPECT_TRUE(SplitCopyLine("x\n", 1, &f));
}

TEST(CopyText, UnescapesOnlyWhatNeedsIt) {
  std::string scratch;
  const std::string_view plain = "no escapes here";
  EXPECT_EQ(UnescapeCopyField(plain, &scratch).data(), plain.data());  // no copy
  EXPECT_EQ(UnescapeCopyField("a\\tb\\nc\\\\d\\re", &scratch), "a\tb\nc\\d\re");
  EXPECT_EQ(UnescapeCopyField("\\b\\f\\v", &scratch), "\b\f\v");
  EXPECT_EQ(UnescapeCopyField("\\101\\x42\\7", &scratch), std::string("AB\x07"));
  EXPECT_EQ(UnescapeCopyField("\\\\x00ff", &scratch), "\\x00ff");  // bytea hex as COPY sends it
  EXPECT_EQ(UnescapeCopyField("\\N", &scratch), "N");             // only a whole field \N is NULL
}

TEST(CopyText, KeepsUtf8) {
  std::string scratch;
  std::vector<CopyField> f;
  ASSERT_TRUE(SplitCopyLine("zoë\t李雷\\t🚀\n", 2, &f));
  EXPECT_EQ(f[0].raw, "zoë");
  EXPECT_EQ(UnescapeCopyField(f[1].raw, &scratch), "李雷\t🚀");
}

}  // namespace
}  // namespace sfb
