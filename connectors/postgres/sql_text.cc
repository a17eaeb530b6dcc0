#include "connectors/postgres/sql_text.h"

namespace sfb {

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string DisplayIdentifier(std::string_view name) {
  return IsPlainIdentifier(name) ? std::string(name) : QuoteIdentifier(name);
}

std::string QualifiedName::Display() const { return DisplayIdentifier(schema) + "." + DisplayIdentifier(name); }

namespace {

// Reads one name part at `*pos`; stops at an unquoted '.' or the end.
Result<std::string> ReadPart(std::string_view text, size_t* pos) {
  std::string out;
  if (*pos < text.size() && text[*pos] == '"') {
    ++*pos;
    for (;;) {
      if (*pos >= text.size()) {
        return Status::InvalidSpec("the table name " + std::string(text) + " has an unclosed double quote")
            .WithHint("double a quote inside a quoted name: \"say \"\"hi\"\"\"");
      }
      const char c = text[(*pos)++];
      if (c == '"') {
        if (*pos < text.size() && text[*pos] == '"') {
          out.push_back('"');
          ++*pos;
          continue;
        }
        break;
      }
      out.push_back(c);
    }
    if (*pos < text.size() && text[*pos] != '.') {
      return Status::InvalidSpec("unexpected text after the quoted name in " + std::string(text))
          .WithHint("write schema.table, quoting a part in double quotes when it contains '.' or '\"'");
    }
  } else {
    while (*pos < text.size() && text[*pos] != '.') {
      if (text[*pos] == '"') {
        return Status::InvalidSpec("the table name " + std::string(text) + " has a double quote inside a plain part")
            .WithHint("quote the whole part, doubling the quote: \"my\"\"table\"");
      }
      out.push_back(text[(*pos)++]);
    }
  }
  if (out.empty()) {
    return Status::InvalidSpec("the table name '" + std::string(text) + "' has an empty part")
        .WithHint("write schema.table, e.g. public.orders");
  }
  if (out.find('\0') != std::string::npos) return Status::InvalidSpec("a table name cannot contain a NUL character");
  return out;
}

}  // namespace

Result<QualifiedName> ParseQualifiedName(std::string_view text, const std::string& default_schema) {
  size_t pos = 0;
  SFB_ASSIGN_OR_RETURN(std::string first, ReadPart(text, &pos));
  if (pos == text.size()) return QualifiedName{default_schema, first};
  ++pos;  // '.'
  SFB_ASSIGN_OR_RETURN(std::string second, ReadPart(text, &pos));
  if (pos != text.size()) {
    return Status::InvalidSpec("the table name '" + std::string(text) + "' has more than two parts")
        .WithHint("write schema.table (the database is set by the connection); quote a part containing '.'");
  }
  return QualifiedName{first, second};
}

}  // namespace sfb
