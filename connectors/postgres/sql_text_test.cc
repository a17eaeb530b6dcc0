#include "connectors/postgres/sql_text.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(SqlText, QuotesIdentifiersAndLiterals) {
  EXPECT_EQ(QuoteIdentifier("orders"), "\"orders\"");
  EXPECT_EQ(QuoteIdentifier("a\"; DROP TABLE t; --"), "\"a\"\"; DROP TABLE t; --\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral("back\\slash"), "'back\\slash'");  // standard_conforming_strings is on
}

TEST(SqlText, ParsesQualifiedNames) {
  auto n = ParseQualifiedName("public.orders", "x");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->schema, "public");
  EXPECT_EQ(n->name, "orders");
  n = ParseQualifiedName("Orders", "public");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->schema, "public");
  EXPECT_EQ(n->name, "Orders");  // taken exactly as written
  n = ParseQualifiedName("\"my.schema\".\"say \"\"hi\"\"; --\"", "public");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->schema, "my.schema");
  EXPECT_EQ(n->name, "say \"hi\"; --");
  EXPECT_EQ(n->Quoted(), "\"my.schema\".\"say \"\"hi\"\"; --\"");
  EXPECT_EQ(n->Display(), "\"my.schema\".\"say \"\"hi\"\"; --\"");
  EXPECT_EQ((QualifiedName{"public", "orders"}).Display(), "public.orders");
  EXPECT_FALSE(ParseQualifiedName("a.b.c", "public").ok());
  EXPECT_FALSE(ParseQualifiedName("a.", "public").ok());
  EXPECT_FALSE(ParseQualifiedName("\"unclosed", "public").ok());
  EXPECT_FALSE(ParseQualifiedName("a\"b", "public").ok());
  EXPECT_FALSE(ParseQualifiedName("\"a\"b", "public").ok());
}

}  // namespace
}  // namespace sfb
