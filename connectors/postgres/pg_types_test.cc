#include "connectors/postgres/pg_types.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sfb {
namespace {

PgType T(PgKind kind, PgKind element = PgKind::kText) { return PgType{kind, element, "t"}; }

Value Decode(const PgType& type, std::string_view text, TimestampMode mode = TimestampMode::kIso) {
  Value v;
  Status s = DecodePgText(type, text, mode, &v);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return v;
}

TEST(PgTypes, ClassifiesBuiltinsByOid) {
  auto kind = [](uint32_t oid, char typtype = 'b', char category = 'U') {
    return ScalarKind(PgTypeInfo{oid, typtype, category, 0, "t"});
  };
  EXPECT_EQ(*kind(20), PgKind::kInt);
  EXPECT_EQ(*kind(21), PgKind::kInt);
  EXPECT_EQ(*kind(23), PgKind::kInt);
  EXPECT_EQ(*kind(700), PgKind::kFloat);
  EXPECT_EQ(*kind(1700), PgKind::kNumeric);
  EXPECT_EQ(*kind(16), PgKind::kBool);
  EXPECT_EQ(*kind(1043), PgKind::kText);
  EXPECT_EQ(*kind(17), PgKind::kBytea);
  EXPECT_EQ(*kind(1082), PgKind::kDate);
  EXPECT_EQ(*kind(1184), PgKind::kTimestampTz);
  EXPECT_EQ(*kind(2950), PgKind::kText);  // uuid
  EXPECT_EQ(*kind(3802), PgKind::kJson);
  EXPECT_EQ(*kind(99999, 'e', 'E'), PgKind::kText);  // an enum
  EXPECT_EQ(*kind(99999, 'b', 'S'), PgKind::kText);  // citext
  EXPECT_FALSE(kind(600, 'b', 'G').ok());            // point
  EXPECT_FALSE(kind(790, 'b', 'N').ok());            // money
  EXPECT_FALSE(kind(99999, 'c', 'C').ok());          // a composite type
}

TEST(PgTypes, DecodesScalars) {
  EXPECT_EQ(Decode(T(PgKind::kInt), "-9223372036854775808"), Value::Int(INT64_MIN));
  EXPECT_EQ(Decode(T(PgKind::kFloat), "0.1"), Value::Double(0.1));
  EXPECT_EQ(Decode(T(PgKind::kFloat), "-Infinity"), Value::Double(-INFINITY));
  EXPECT_TRUE(std::isnan(Decode(T(PgKind::kFloat), "NaN").as_double()));
  EXPECT_EQ(Decode(T(PgKind::kNumeric), "12345678901234567890.000001"), Value::Text("12345678901234567890.000001"));
  EXPECT_EQ(Decode(T(PgKind::kBool), "t"), Value::Bool(true));
  EXPECT_EQ(Decode(T(PgKind::kBool), "f"), Value::Bool(false));
  EXPECT_EQ(Decode(T(PgKind::kBytea), "\\x00ff41"), Value::Bytes(std::string("\x00\xff" "A", 3)));
  EXPECT_EQ(Decode(T(PgKind::kBytea), "\\x"), Value::Bytes(""));
  EXPECT_EQ(Decode(T(PgKind::kJson), "{\"a\": [1, 2]}"), Value::Text("{\"a\": [1, 2]}"));
  Value v;
  EXPECT_FALSE(DecodePgText(T(PgKind::kInt), "12x", TimestampMode::kIso, &v).ok());
  EXPECT_FALSE(DecodePgText(T(PgKind::kBytea), "00ff", TimestampMode::kIso, &v).ok());
}

TEST(PgTypes, ErrorsQuoteTheValueAsTheServerSentIt) {
  Value v;
  PgType type{PgKind::kBool, PgKind::kText, "boolean"};
  EXPECT_EQ(DecodePgText(type, "sí", TimestampMode::kIso, &v).message(), "the server sent 'sí' for a boolean value");
  EXPECT_EQ(DecodePgText(type, "s\xed\t", TimestampMode::kIso, &v).message(),  // SQL_ASCII bytes, a tab
            "the server sent 's\\xed\\t' for a boolean value");
  type = PgType{PgKind::kArray, PgKind::kInt, "integer[]"};
  EXPECT_EQ(DecodePgText(type, "{1,zwölf", TimestampMode::kIso, &v).message(), "malformed array literal: {1,zwölf");
}

TEST(PgTypes, TimestampsAsIso8601) {
  EXPECT_EQ(IsoTimestamp("2024-01-31 12:00:00.5+00", PgKind::kTimestampTz), "2024-01-31T12:00:00.5Z");
  EXPECT_EQ(IsoTimestamp("2024-01-31 12:00:00", PgKind::kTimestamp), "2024-01-31T12:00:00");
  EXPECT_EQ(IsoTimestamp("2024-01-31 12:00:00+05:30", PgKind::kTimestampTz), "2024-01-31T12:00:00+05:30");
  EXPECT_EQ(IsoTimestamp("2024-01-31 12:00:00-08", PgKind::kTimestampTz), "2024-01-31T12:00:00-08:00");
  EXPECT_EQ(IsoTimestamp("2024-01-31", PgKind::kDate), "2024-01-31");
  EXPECT_EQ(IsoTimestamp("infinity", PgKind::kTimestampTz), "infinity");
  // Before the common era: astronomical years (1 BC is 0000, 44 BC is -0043), as java.time parses them.
  EXPECT_EQ(IsoTimestamp("0044-03-15 12:00:00+00 BC", PgKind::kTimestampTz), "-0043-03-15T12:00:00Z");
  EXPECT_EQ(IsoTimestamp("0044-03-15 12:00:00-08 BC", PgKind::kTimestampTz), "-0043-03-15T12:00:00-08:00");
  EXPECT_EQ(IsoTimestamp("0001-01-01 00:00:00.5 BC", PgKind::kTimestamp), "0000-01-01T00:00:00.5");
  EXPECT_EQ(IsoTimestamp("0002-12-31 BC", PgKind::kDate), "-0001-12-31");
  EXPECT_EQ(IsoTimestamp("4714-11-24 BC", PgKind::kDate), "-4713-11-24");  // PostgreSQL's first day
  EXPECT_EQ(IsoTimestamp("10000-01-01", PgKind::kDate), "10000-01-01");   // years past 9999 as printed
}

TEST(PgTypes, TimestampsAsEpoch) {
  int64_t us;
  ASSERT_TRUE(EpochMicros("1970-01-01 00:00:00+00", &us));
  EXPECT_EQ(us, 0);
  ASSERT_TRUE(EpochMicros("2023-11-14 22:13:20+00", &us));
  EXPECT_EQ(us, 1700000000LL * 1000000);
  ASSERT_TRUE(EpochMicros("2023-11-14 22:13:20.123456+00", &us));
  EXPECT_EQ(us, 1700000000123456LL);
  ASSERT_TRUE(EpochMicros("2023-11-15 03:43:20+05:30", &us));
  EXPECT_EQ(us, 1700000000LL * 1000000);
  ASSERT_TRUE(EpochMicros("2000-02-29", &us));
  EXPECT_EQ(us, 951782400LL * 1000000);
  ASSERT_TRUE(EpochMicros("1969-12-31 23:59:59.9", &us));
  EXPECT_EQ(us, -100000);
  ASSERT_TRUE(EpochMicros("0001-01-01 00:00:00", &us));
  EXPECT_EQ(us, -62135596800LL * 1000000);
  ASSERT_TRUE(EpochMicros("0001-12-31 00:00:00 BC", &us));  // year 0 (astronomical)
  EXPECT_EQ(us, (-62135596800LL - 86400) * 1000000);
  EXPECT_FALSE(EpochMicros("infinity", &us));
  EXPECT_FALSE(EpochMicros("5874897-12-31", &us));  // a valid date, but not a 64-bit microsecond count
  EXPECT_FALSE(EpochMicros("294276-12-31 23:59:59.999999", &us));  // PostgreSQL's last: past int64 from 1970
  ASSERT_TRUE(EpochMicros("294247-01-10 04:00:54.775807", &us));    // the last microsecond that fits
  EXPECT_EQ(us, INT64_MAX);
  EXPECT_FALSE(EpochMicros("294247-01-10 04:00:54.775808", &us));
  EXPECT_EQ(Decode(T(PgKind::kDate), "5874897-12-31", TimestampMode::kEpochMillis), Value::Text("5874897-12-31"));
  // Millis are floored (toward negative infinity, as java.time's Instant.toEpochMilli), also before 1970:
  // 23:59:59.9995 lies in the millisecond that starts at 23:59:59.999, which is -1.
  EXPECT_EQ(Decode(T(PgKind::kTimestamp), "1969-12-31 23:59:59.9995", TimestampMode::kEpochMillis), Value::Int(-1));
  EXPECT_EQ(Decode(T(PgKind::kTimestampTz), "2023-11-14 22:13:20.5+00", TimestampMode::kEpochMillis),
            Value::Int(1700000000500));
  EXPECT_EQ(Decode(T(PgKind::kDate), "2023-11-14", TimestampMode::kEpochMicros), Value::Int(1699920000000000));
  EXPECT_EQ(Decode(T(PgKind::kTimestampTz), "-infinity", TimestampMode::kEpochMillis), Value::Text("-infinity"));
}

std::string Json(std::string_view text, PgKind element, TimestampMode mode = TimestampMode::kIso) {
  std::string out;
  Status s = ArrayToJson(text, element, mode, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(PgTypes, ArraysBecomeJson) {
  EXPECT_EQ(Json("{}", PgKind::kInt), "[]");
  EXPECT_EQ(Json("{1,-2,NULL}", PgKind::kInt), "[1,-2,null]");
  EXPECT_EQ(Json("{{1,2},{3,4}}", PgKind::kInt), "[[1,2],[3,4]]");
  EXPECT_EQ(Json("[0:1]={7,8}", PgKind::kInt), "[7,8]");
  EXPECT_EQ(Json("{1.5,NaN,-Infinity}", PgKind::kFloat), "[1.5,\"NaN\",\"-Infinity\"]");
  EXPECT_EQ(Json("{10.50,NaN}", PgKind::kNumeric), "[10.50,\"NaN\"]");
  EXPECT_EQ(Json("{t,f,NULL}", PgKind::kBool), "[true,false,null]");
  EXPECT_EQ(Json("{plain,\"with space\",\"q\\\"uote\",\"back\\\\slash\",\"NULL\",\"\",zoë}", PgKind::kText),
            "[\"plain\",\"with space\",\"q\\\"uote\",\"back\\\\slash\",\"NULL\",\"\",\"zoë\"]");
  EXPECT_EQ(Json("{\"tab\there\"}", PgKind::kText), "[\"tab\\there\"]");
  EXPECT_EQ(Json("{\"\\\\x00ff\",NULL}", PgKind::kBytea), "[\"AP8=\",null]");
  EXPECT_EQ(Json("{\"{\\\"a\\\": 1}\",\"[1, 2]\"}", PgKind::kJson), "[{\"a\": 1},[1, 2]]");
  EXPECT_EQ(Json("{\"2024-01-31 12:00:00+00\",infinity}", PgKind::kTimestampTz),
            "[\"2024-01-31T12:00:00Z\",\"infinity\"]");
  EXPECT_EQ(Json("{\"1970-01-01 00:00:01+00\"}", PgKind::kTimestampTz, TimestampMode::kEpochMillis), "[1000]");
  std::string out;
  EXPECT_FALSE(ArrayToJson("{1,2", PgKind::kInt, TimestampMode::kIso, &out).ok());
  EXPECT_FALSE(ArrayToJson("1,2}", PgKind::kInt, TimestampMode::kIso, &out).ok());
  EXPECT_FALSE(ArrayToJson("{\"a}", PgKind::kText, TimestampMode::kIso, &out).ok());
}

}  // namespace
}  // namespace sfb
