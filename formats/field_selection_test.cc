#include "formats/field_selection.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(FieldSelection, NamesAndThePathsAboveThem) {
  const FieldSelection s({"value.address.city", "offset", "value.id", "offset", "key"});
  EXPECT_EQ(s.names(), (std::vector<std::string>{"key", "offset", "value.address.city", "value.id"}));
  for (const char* p : {"key", "offset", "value.address.city", "value.id"}) EXPECT_TRUE(s.Selects(p)) << p;
  for (const char* p : {"value", "value.address", "value.address.cit", "value.i", "", "topic", "value.address.city.x"}) {
    EXPECT_FALSE(s.Selects(p)) << p;
  }
  for (const char* p : {"value", "value.address"}) EXPECT_TRUE(s.SelectsBeneath(p)) << p;
  // Beneath means a whole dotted step: "value.add" is not a parent of "value.address.city".
  for (const char* p : {"value.add", "value.address.city", "key", "valu", "", "value.id"}) {
    EXPECT_FALSE(s.SelectsBeneath(p)) << p;
  }
  EXPECT_TRUE(s.Touches("value"));
  EXPECT_TRUE(s.Touches("key"));
  EXPECT_FALSE(s.Touches("value.name"));
}

TEST(FieldSelection, OnlyNullTestedNamesAreSelectedOnes) {
  const FieldSelection s({"value", "value.id"}, {"value", "key", "value"});
  EXPECT_TRUE(s.OnlyNullTested("value"));
  EXPECT_FALSE(s.OnlyNullTested("key"));  // not selected: not marked either
  EXPECT_FALSE(s.OnlyNullTested("value.id"));
  EXPECT_FALSE(FieldSelection({"value"}).OnlyNullTested("value"));
}

TEST(FieldSelection, EmptyTouchesNothing) {
  const FieldSelection s({});
  EXPECT_FALSE(s.Touches("value"));
  EXPECT_FALSE(s.Touches(""));
}

}  // namespace
}  // namespace sfb
