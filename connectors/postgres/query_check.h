// QueryCheck: a `query:` source's SQL, checked as the user wrote it, before and after the server sees it.
//
// ReadOnlyProblem() refuses, without a server, what is not one read-only query: a statement that starts
// with another command (INSERT, CREATE, COPY, ...; a typo is left to the server's syntax error), a WITH
// whose query is an INSERT, UPDATE, DELETE or MERGE, SELECT ... INTO (it creates a table), FOR
// UPDATE/SHARE (row locks), and a second statement after a ';'. It tokenizes the text as PostgreSQL
// does (comments, nested /* */, '...' and E'...' strings, "identifiers", $tag$ bodies) so that words
// inside them never count. Functions the query calls may still try to write: the READ ONLY transaction
// refuses that on the server.
//
// QueryPosition() turns a byte offset in the query into its line and column (characters, 1-based),
// and ByteOffsetOfCharacter() a server error position (PostgreSQL counts characters, from 1) into a
// byte offset, so errors point at the user's text rather than at a statement wrapped around it.

#ifndef SFB_CONNECTORS_POSTGRES_QUERY_CHECK_H_
#define SFB_CONNECTORS_POSTGRES_QUERY_CHECK_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sfb {

struct QueryProblem {
  size_t offset;        // byte offset of the offending word in the query
  std::string message;  // "the query is an INSERT, not a read-only query"
};
std::optional<QueryProblem> ReadOnlyProblem(std::string_view sql);

struct QueryPosition {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters
  std::string line_text;  // the line, without its newline
};
QueryPosition PositionInQuery(std::string_view sql, size_t offset);

// The byte offset of the character at 1-based `position` of UTF-8 `text` (its size when past the end).
size_t ByteOffsetOfCharacter(std::string_view text, int position);

// Where a query is in the job file: the value as written (the query is it trimmed), the value's place
// ("job.yaml:12:10"), and where each of its lines starts ({line, column}: SpecContext::ValueLines).
struct QueryOrigin {
  std::string as_written;
  std::string where;
  std::vector<std::pair<int, int>> lines;
};
// "at line 2, column 7 of the query (job.yaml:15:13): <that line of the query>" for byte `offset` of
// `query`; without the column when only the line is known.
std::string DescribeQueryPlace(std::string_view query, const QueryOrigin& origin, size_t offset,
                               bool with_column = true);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_QUERY_CHECK_H_
