#include "savepoint/entry_json.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(ExactJsonText, KeepsNumbersADoubleWouldChange) {
  EXPECT_EQ(ExactJsonText(R"({"total": 12345678901234567890.123456789, "n": [1, 2]})"),
            R"({"total":12345678901234567890.123456789,"n":[1,2]})");
  EXPECT_EQ(ExactJsonText("12345678901234567890"), "12345678901234567890");  // beyond 64 bits
  EXPECT_EQ(ExactJsonText("1e400"), "1e400");
  // Blanks inside strings stay; so do escapes.
  EXPECT_EQ(ExactJsonText("[ \"a b\\\" c\" , 0.1234567890123456789 ]"), "[\"a b\\\" c\",0.1234567890123456789]");
}

TEST(ExactJsonText, EmptyWhenADoublePrintsTheSameNumber) {
  EXPECT_EQ(ExactJsonText(R"({"a": 4998.17, "b": -0.001, "c": 123456789012345, "d": "99999999999999999999"})"), "");
  EXPECT_EQ(ExactJsonText("1.5e300"), "");
}

}  // namespace
}  // namespace sfb
