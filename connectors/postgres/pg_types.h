// PostgreSQL column types as record values: which types the connector reads, and how a value in
// COPY text form becomes a record Value.
//
//   smallint, integer, bigint, oid          int
//   real, double precision                  double (NaN and ±Infinity included)
//   numeric                                 text, exactly as PostgreSQL prints it ("12.50", "NaN"):
//                                           never rounded; the router converts it exactly (integral
//                                           values into int/long, scale:, exact sums: router/decimal.h)
//   boolean                                 bool
//   text, varchar, char(n), name, "char",   text
//   citext and other string types, enums
//   bytea                                   bytes
//   date, timestamp, timestamptz            text in ISO 8601 ("2024-01-31", "2024-01-31T12:00:00.5",
//                                           "2024-01-31T12:00:00.5Z"; timestamptz always in UTC; BC
//                                           years astronomical: 1 BC is 0000, 44 BC -0043), or
//                                           with `timestamps: epoch_millis | epoch_micros` an int
//                                           (timestamp without time zone read as UTC; date at midnight;
//                                           millis floored toward negative infinity: ...59.9995 is -1)
//   uuid                                    text (lowercase, hyphenated)
//   json, jsonb                             text holding the JSON document
//   time, timetz, interval, inet, cidr,     text as PostgreSQL prints it
//   macaddr, xml
//   arrays of any of the above              text holding a JSON array (nested for multi-dimensional
//                                           arrays; bytea elements as base64 strings, json elements
//                                           embedded as JSON, numbers as JSON numbers)
//   domains                                 as their base type
// NULL is NULL. Any other type (geometric types, ranges, composite types, money, bit strings, hstore,
// arrays of them, ...) is read as text, in the form PostgreSQL prints it (its output function: what
// psql shows); the source's plan names each such column. ScalarKind() says NotFound for those.
//
// The session settings that make the text forms above exact and stable (DateStyle ISO, TimeZone UTC,
// extra_float_digits, bytea_output hex, client_encoding UTF8) are set by pg_session.h.

#ifndef SFB_CONNECTORS_POSTGRES_PG_TYPES_H_
#define SFB_CONNECTORS_POSTGRES_PG_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "api/record.h"
#include "common/status.h"

namespace sfb {

enum class PgKind { kInt, kFloat, kNumeric, kBool, kText, kBytea, kDate, kTimestamp, kTimestampTz, kJson, kArray };

enum class TimestampMode { kIso, kEpochMillis, kEpochMicros };

// A column's type as the connector reads it.
struct PgType {
  PgKind kind = PgKind::kText;
  PgKind element = PgKind::kText;  // arrays: the kind of the elements (never kArray)
  std::string name;                // as PostgreSQL names it, for messages: "timestamp with time zone"
};

// What pg_type says about a type (after following domains to their base type).
struct PgTypeInfo {
  uint32_t oid = 0;
  char typtype = 'b';     // b base, c composite, d domain, e enum, p pseudo, r range, m multirange
  char category = 'U';    // typcategory: A array, S string, N numeric, ...
  uint32_t element = 0;   // typelem for arrays (0 otherwise)
  std::string name;       // format_type(oid, NULL)
};

// The kind for a scalar (non-array) type, or NotFound when the connector cannot read it.
Result<PgKind> ScalarKind(const PgTypeInfo& info);

const char* PgKindName(PgKind kind);

// Decodes one unescaped, non-NULL field in COPY text form into `out`. Fails only on text the server
// would never send for that type (so a failure is a bug or a corrupted stream).
Status DecodePgText(const PgType& type, std::string_view text, TimestampMode mode, Value* out);

// Helpers, exposed for tests.
// "2024-01-31 12:00:00.5+00" -> "2024-01-31T12:00:00.5Z"; date and timestamp likewise;
// "0044-03-15 BC" -> "-0043-03-15" (astronomical years, as ISO 8601 and java.time count them).
std::string IsoTimestamp(std::string_view text, PgKind kind);
// Microseconds since 1970-01-01T00:00:00Z; false for infinity or text that is not a timestamp.
bool EpochMicros(std::string_view text, int64_t* micros);
// A PostgreSQL array literal ({1,2,NULL}, {{"a b",c}}, [0:1]={x,y}) as a JSON array.
Status ArrayToJson(std::string_view text, PgKind element, TimestampMode mode, std::string* json);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_PG_TYPES_H_
