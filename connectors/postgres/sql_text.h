// Building SQL text from names and values that come from a job spec.
//
// Every table, schema and column name from a spec reaches the server only through QuoteIdentifier,
// and every other value only through QuoteLiteral, so a name like `a"; DROP TABLE t; --` is just a
// strange name. Quoting is done here (not by the connection) so plans can be built and tested
// without a server; the rules are the SQL standard's, valid for every server encoding because the
// connector always talks UTF-8 with standard_conforming_strings on (pg_session.h).

#ifndef SFB_CONNECTORS_POSTGRES_SQL_TEXT_H_
#define SFB_CONNECTORS_POSTGRES_SQL_TEXT_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

// "name" with embedded double quotes doubled.
std::string QuoteIdentifier(std::string_view name);
// 'text' with embedded single quotes doubled.
std::string QuoteLiteral(std::string_view text);

struct QualifiedName {
  std::string schema;
  std::string name;
  std::string Quoted() const { return QuoteIdentifier(schema) + "." + QuoteIdentifier(name); }
  // public.orders, or "my schema"."Orders" when a part needs quotes to be read back.
  std::string Display() const;
};

// Parses `schema.table` from a spec. Each part is either written plainly (taken exactly as written,
// case included, and may not contain '.' or '"') or in double quotes, SQL style ("a.b", "say ""hi""").
// Without a schema, `default_schema` is used.
Result<QualifiedName> ParseQualifiedName(std::string_view text, const std::string& default_schema);

// True when `name` can be shown without quotes (lowercase letters, digits, _; not starting with a digit).
bool IsPlainIdentifier(std::string_view name);
// `name` for messages: as is when plain, else quoted.
std::string DisplayIdentifier(std::string_view name);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_SQL_TEXT_H_
