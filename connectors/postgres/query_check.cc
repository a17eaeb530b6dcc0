#include "connectors/postgres/query_check.h"

#include <cctype>
#include <vector>

#include "common/str_cat.h"

namespace sfb {
namespace {

struct Token {
  enum Kind { kWord, kOther } kind;
  std::string upper;  // words: upper-cased; others: the character
  size_t offset;
};

bool IsWordStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

// Words and punctuation outside comments, strings, quoted identifiers and dollar-quoted bodies.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;
      do {
        if (s.compare(i, 2, "/*") == 0) ++depth, i += 2;
        else if (s.compare(i, 2, "*/") == 0) --depth, i += 2;
        else ++i;
      } while (i < s.size() && depth > 0);
    } else if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < s.size() && s[i + 1] == '\'')) {
      const bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      while (i < s.size()) {
        if (escapes && s[i] == '\\') {
          i += 2;
        } else if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') i += 2;
          else break;
        } else {
          ++i;
        }
      }
      ++i;
      out.push_back(Token{Token::kOther, "'", i});
    } else if (c == '"') {
      for (++i; i < s.size(); ++i) {
        if (s[i] == '"' && !(i + 1 < s.size() && s[i + 1] == '"')) break;
        if (s[i] == '"') ++i;
      }
      ++i;
      out.push_back(Token{Token::kOther, "\"", i});
    } else if (c == '$') {
      // $tag$ ... $tag$ (tag possibly empty); $1 is a parameter.
      size_t j = i + 1;
      while (j < s.size() && (IsWordChar(static_cast<unsigned char>(s[j]))) && s[j] != '$') ++j;
      if (j < s.size() && s[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
        const std::string_view tag = s.substr(i, j - i + 1);
        const size_t end = s.find(tag, j + 1);
        i = end == std::string_view::npos ? s.size() : end + tag.size();
        out.push_back(Token{Token::kOther, "$", i});
      } else {
        i = j;
      }
    } else if (IsWordStart(c)) {
      const size_t start = i;
      std::string word;
      while (i < s.size() && IsWordChar(static_cast<unsigned char>(s[i]))) {
        word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(s[i]))));
        ++i;
      }
      out.push_back(Token{Token::kWord, word, start});
    } else {
      out.push_back(Token{Token::kOther, std::string(1, static_cast<char>(c)), i});
      ++i;
    }
  }
  return out;
}

bool IsReadingStart(const std::string& w) { return w == "SELECT" || w == "WITH" || w == "VALUES" || w == "TABLE"; }

// Statements other than queries. Any other first word is left to the server, whose syntax error
// (`syntax error at or near "SELEC"`) says more about a typo than "not a query" would.
bool IsOtherStatement(const std::string& w) {
  static const char* const kWords[] = {
      "ABORT", "ALTER", "ANALYZE", "BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT", "COMMIT", "COPY",
      "CREATE", "DEALLOCATE", "DECLARE", "DELETE", "DISCARD", "DO", "DROP", "END", "EXECUTE", "EXPLAIN", "FETCH",
      "GRANT", "IMPORT", "INSERT", "LISTEN", "LOAD", "LOCK", "MERGE", "MOVE", "NOTIFY", "PREPARE", "REASSIGN",
      "REFRESH", "REINDEX", "RELEASE", "RESET", "REVOKE", "ROLLBACK", "SAVEPOINT", "SECURITY", "SET", "SHOW",
      "START", "TRUNCATE", "UNLISTEN", "UPDATE", "VACUUM"};
  for (const char* k : kWords) {
    if (w == k) return true;
  }
  return false;
}

std::string Article(const std::string& w) {
  return (w[0] == 'A' || w[0] == 'E' || w[0] == 'I' || w[0] == 'O' || w[0] == 'U') ? "an " : "a ";
}

}  // namespace

std::optional<QueryProblem> ReadOnlyProblem(std::string_view sql) {
  const std::vector<Token> t = Tokenize(sql);
  size_t i = 0;
  while (i < t.size() && t[i].kind == Token::kOther && t[i].upper == "(") ++i;
  if (i >= t.size()) return QueryProblem{0, "the query is empty"};
  if (t[i].kind == Token::kWord && IsOtherStatement(t[i].upper)) {
    return QueryProblem{t[i].offset, "the query is " + Article(t[i].upper) + t[i].upper +
                                         " statement, not a read-only query"};
  }
  if (t[i].kind != Token::kWord || !IsReadingStart(t[i].upper)) return std::nullopt;  // the server's to say
  int depth = 0;
  for (size_t k = i; k < t.size(); ++k) {
    const Token& tok = t[k];
    if (tok.kind == Token::kOther) {
      if (tok.upper == "(") ++depth;
      else if (tok.upper == ")") --depth;
      else if (tok.upper == ";" && depth <= 0) {
        for (size_t rest = k + 1; rest < t.size(); ++rest) {
          if (t[rest].upper != ";") {
            return QueryProblem{t[rest].offset, "the query holds more than one statement (a second one after ';')"};
          }
        }
      }
      continue;
    }
    // A statement inside WITH: "name [(columns)] AS [NOT] [MATERIALIZED] (" opens it.
    if (tok.upper == "AS" && k + 1 < t.size()) {
      size_t j = k + 1;
      if (t[j].upper == "NOT") ++j;
      if (j < t.size() && t[j].upper == "MATERIALIZED") ++j;
      if (j + 1 < t.size() && t[j].upper == "(" && t[j + 1].kind == Token::kWord) {
        const std::string& w = t[j + 1].upper;
        if (w == "INSERT" || w == "UPDATE" || w == "DELETE" || w == "MERGE") {
          return QueryProblem{t[j + 1].offset, "the query's WITH holds " + Article(w) + w +
                                                   " statement, so it is not a read-only query"};
        }
      }
    }
    if (depth == 0 && tok.upper == "INTO") {
      return QueryProblem{tok.offset, "the query is a SELECT ... INTO, which creates a table, not a read-only query"};
    }
    if (tok.upper == "FOR" && k + 1 < t.size() &&
        (t[k + 1].upper == "UPDATE" || t[k + 1].upper == "SHARE" || t[k + 1].upper == "NO" ||
         t[k + 1].upper == "KEY")) {
      return QueryProblem{tok.offset, "the query locks rows (FOR UPDATE/SHARE), which a read-only query cannot"};
    }
  }
  return std::nullopt;
}

QueryPosition PositionInQuery(std::string_view sql, size_t offset) {
  QueryPosition p;
  if (offset > sql.size()) offset = sql.size();
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (sql[i] == '\n') {
      ++p.line;
      line_start = i + 1;
    }
  }
  for (size_t i = line_start; i < offset; ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++p.column;  // count characters, not bytes
  }
  size_t end = sql.find('\n', line_start);
  if (end == std::string_view::npos) end = sql.size();
  p.line_text = std::string(sql.substr(line_start, end - line_start));
  if (!p.line_text.empty() && p.line_text.back() == '\r') p.line_text.pop_back();
  return p;
}

size_t ByteOffsetOfCharacter(std::string_view text, int position) {
  int seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++seen == position) return i;
  }
  return text.size();
}

std::string DescribeQueryPlace(std::string_view query, const QueryOrigin& origin, size_t offset, bool with_column) {
  const QueryPosition in_query = PositionInQuery(query, offset);
  std::string out = "at line " + std::to_string(in_query.line) +
                    (with_column ? ", column " + std::to_string(in_query.column) : std::string()) + " of the query";
  // The same place in the file: the query is the spec's value trimmed, so find it there.
  const size_t start = query.empty() ? std::string::npos : origin.as_written.find(query);
  const QueryPosition in_value =
      PositionInQuery(origin.as_written, start == std::string::npos ? 0 : start + offset);
  const size_t line = static_cast<size_t>(in_value.line - 1);
  if (start != std::string::npos && line < origin.lines.size()) {
    std::string file = origin.where;  // "job.yaml:12:10" without ":12:10"
    for (int part = 0; part < 2 && file.rfind(':') != std::string::npos; ++part) file.resize(file.rfind(':'));
    const auto& [file_line, file_column] = origin.lines[line];
    out += StrCat(" (", file, ":", std::to_string(file_line),
                  with_column ? StrCat(":", std::to_string(file_column + in_value.column - 1)) : std::string(), ")");
  } else if (!origin.where.empty()) {
    out += " (the query at " + origin.where + ")";
  }
  std::string text = in_query.line_text;
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return out + ": " + text;
}

}  // namespace sfb
