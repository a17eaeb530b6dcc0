#include "connectors/postgres/read_plan.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(ReadPlan, ChunkCount) {
  EXPECT_EQ(ChunkCount(0, 1000, 100), 1u);
  EXPECT_EQ(ChunkCount(-1, 1000, 100), 1u);
  EXPECT_EQ(ChunkCount(999, 1000, 100), 1u);
  EXPECT_EQ(ChunkCount(1001, 1000, 100), 2u);
  EXPECT_EQ(ChunkCount(1e15, 1000, 100), 100u);
}

TEST(ReadPlan, CtidRangesCoverEveryPageOnce) {
  const auto chunks = CtidChunks(10, 3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].where, "ctid < '(4,0)'::tid");
  EXPECT_EQ(chunks[1].where, "ctid >= '(4,0)'::tid AND ctid < '(8,0)'::tid");
  EXPECT_EQ(chunks[2].where, "ctid >= '(8,0)'::tid");  // open-ended
  EXPECT_EQ(chunks[0].label, "pages 0-3");
  EXPECT_EQ(chunks[2].label, "pages 8-end");
  EXPECT_EQ(CtidChunks(0, 5).size(), 1u);
  EXPECT_EQ(CtidChunks(2, 5).size(), 2u);
  EXPECT_EQ(CtidChunks(100, 1)[0].where, "");
}

TEST(ReadPlan, IntegerKeyRanges) {
  const auto chunks = IntKeyChunks("\"id\"", "id", 1, 100, 4);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].where, "\"id\" < 26");
  EXPECT_EQ(chunks[1].where, "\"id\" >= 26 AND \"id\" < 51");
  EXPECT_EQ(chunks[3].where, "\"id\" >= 76");
  EXPECT_EQ(chunks[1].label, "26 <= id < 51");
  // Fewer keys than chunks; the whole int64 range; an empty table.
  EXPECT_EQ(IntKeyChunks("k", "k", 5, 6, 10).size(), 2u);
  const auto wide = IntKeyChunks("k", "k", INT64_MIN, INT64_MAX, 4);
  ASSERT_EQ(wide.size(), 4u);
  EXPECT_EQ(wide[1].where, "k >= -4611686018427387904 AND k < 0");
  EXPECT_EQ(wide[3].where, "k >= 4611686018427387904");
  EXPECT_EQ(IntKeyChunks("k", "k", 7, 7, 4)[0].where, "");
}

TEST(ReadPlan, UuidRanges) {
  const auto chunks = UuidKeyChunks("\"u\"", "u", 4);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].where, "\"u\" < '3fffffff-ffff-ffff-0000-000000000000'::uuid");
  EXPECT_EQ(chunks[3].where, "\"u\" >= 'bfffffff-ffff-fffd-0000-000000000000'::uuid");
}

TEST(ReadPlan, ChunkSql) {
  ReadPlan p;
  p.relation = "\"public\".\"t\"";
  p.columns = {"\"a\"", "\"b c\""};
  p.position_column = "ctid";
  p.chunks = CtidChunks(10, 2);
  EXPECT_EQ(p.ChunkSql(0), "SELECT \"a\", \"b c\", ctid FROM \"public\".\"t\" WHERE ctid < '(5,0)'::tid");
  p.order_by = "\"a\"";
  p.chunks = {Chunk{"", "all rows"}};
  EXPECT_EQ(p.ChunkSql(0), "SELECT \"a\", \"b c\", ctid FROM \"public\".\"t\" ORDER BY \"a\"");
  ReadPlan q;
  q.query = "SELECT 1 AS x";
  q.chunks = {Chunk{"", "all rows"}};
  EXPECT_EQ(q.ChunkSql(0), "SELECT 1 AS x");
}

TEST(ReadPlan, PositionsFollowTheData) {
  EXPECT_LT(IntKeyPosition(-5), IntKeyPosition(-4));
  EXPECT_LT(IntKeyPosition(-1), IntKeyPosition(0));
  EXPECT_LT(IntKeyPosition(INT64_MIN), IntKeyPosition(INT64_MAX));
  EXPECT_EQ(IntKeyFromPosition(IntKeyPosition(-42)), -42);
  uint64_t a, b;
  ASSERT_TRUE(ParseCtid("(12,5)", &a));
  ASSERT_TRUE(ParseCtid("(12,10)", &b));
  EXPECT_LT(a, b);
  EXPECT_EQ(a, (12u << 16) | 5);
  EXPECT_EQ(CtidText(a), "(12,5)");
  ASSERT_TRUE(ParseCtid("(4294967295,65535)", &a));
  EXPECT_FALSE(ParseCtid("(4294967296,1)", &a));
  EXPECT_FALSE(ParseCtid("(1,65536)", &a));
  EXPECT_FALSE(ParseCtid("(1,)", &a));
  EXPECT_FALSE(ParseCtid("1,2", &a));
}

}  // namespace
}  // namespace sfb
