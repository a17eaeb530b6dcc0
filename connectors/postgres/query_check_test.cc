#include "connectors/postgres/query_check.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

std::string Problem(std::string_view sql) {
  auto p = ReadOnlyProblem(sql);
  return p ? p->message + " @" + std::to_string(p->offset) : "";
}

TEST(ReadOnlyProblem, ReadingQueriesPass) {
  EXPECT_EQ(Problem("SELECT id FROM t"), "");
  EXPECT_EQ(Problem("  (select 1 AS a) UNION (SELECT 2)"), "");
  EXPECT_EQ(Problem("WITH x AS (SELECT 1 AS a), y AS MATERIALIZED (VALUES (2)) SELECT * FROM x, y;"), "");
  EXPECT_EQ(Problem("VALUES (1, 'a')"), "");
  EXPECT_EQ(Problem("TABLE public.t"), "");
  // Words inside strings, comments, quoted names and dollar bodies do not count.
  EXPECT_EQ(Problem("SELECT 'INSERT INTO x', $$ DELETE $$, $q$;INTO$q$, \"into\" -- ; DROP\n FROM t /* INTO /* x */ */"), "");
  EXPECT_EQ(Problem("SELECT E'it\\'s ; INTO', substring(s FROM 1 FOR 2) FROM t"), "");
  EXPECT_EQ(Problem("SELECT update, delete FROM t"), "");  // unreserved words as column names
}

TEST(ReadOnlyProblem, WritingQueriesAreRefusedWhereTheyWrite) {
  EXPECT_EQ(Problem("INSERT INTO t VALUES (1) RETURNING id"),
            "the query is an INSERT statement, not a read-only query @0");
  EXPECT_EQ(Problem("\n  update t SET a = 1"), "the query is an UPDATE statement, not a read-only query @3");
  EXPECT_EQ(Problem("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"),
            "the query's WITH holds a DELETE statement, so it is not a read-only query @14");
  EXPECT_EQ(Problem("SELECT * INTO copy FROM t"),
            "the query is a SELECT ... INTO, which creates a table, not a read-only query @9");
  EXPECT_EQ(Problem("SELECT * FROM t FOR NO KEY UPDATE"),
            "the query locks rows (FOR UPDATE/SHARE), which a read-only query cannot @16");
  EXPECT_EQ(Problem("SELECT 1; DROP TABLE t"),
            "the query holds more than one statement (a second one after ';') @10");
  EXPECT_EQ(Problem("-- nothing\n"), "the query is empty @0");
  EXPECT_EQ(Problem("EXPLAIN SELECT 1"), "the query is an EXPLAIN statement, not a read-only query @0");
  // A typo is the server's to report: its syntax error names the word.
  EXPECT_EQ(Problem("SELEC id FROM t"), "");
}

TEST(QueryPosition, LinesAndCharacterColumns) {
  const std::string sql = "SELECT 'ü', x\nFROM t\nWHERE y";
  auto p = PositionInQuery(sql, sql.find("WHERE"));
  EXPECT_EQ(p.line, 3);
  EXPECT_EQ(p.column, 1);
  EXPECT_EQ(p.line_text, "WHERE y");
  p = PositionInQuery(sql, sql.find(", x"));
  EXPECT_EQ(p.line, 1);
  EXPECT_EQ(p.column, 11);  // ü is one character of two bytes
  EXPECT_EQ(ByteOffsetOfCharacter(sql, 11), sql.find(", x"));
  EXPECT_EQ(ByteOffsetOfCharacter(sql, 1), 0u);
  EXPECT_EQ(ByteOffsetOfCharacter(sql, 1000), sql.size());
}

}  // namespace
}  // namespace sfb
