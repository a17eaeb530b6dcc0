// The bounded Avro binary walk: lengths and counts that exceed the bytes left are BadRecords naming the
// value, checked before Avro C is asked to allocate anything (AvroDatumReader runs the check first).

#include "formats/avro_binary.h"

#include <gtest/gtest.h>

#include <string>

#include "formats/avro_fields.h"

namespace sfb {
namespace {

std::string Long(int64_t v) {
  std::string out;
  AppendAvroLong(v, &out);
  return out;
}

std::shared_ptr<const AvroSchema> Schema(const char* json) {
  auto s = AvroSchema::Parse(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(AvroBinary, VarintsRoundTripAndOverlongOnesFail) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{64}, INT64_MAX, INT64_MIN}) {
    const std::string encoded = Long(v);
    AvroBinaryInput in(encoded);
    int64_t got = 0;
    ASSERT_TRUE(in.ReadLong(&got).ok()) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(in.left(), 0u);
  }
  const std::string eleven(11, '\x80'), one(1, '\x80');
  AvroBinaryInput overlong(eleven);
  int64_t got = 0;
  EXPECT_EQ(overlong.ReadLong(&got).code(), Status::Code::kBadRecord);
  AvroBinaryInput cut(one);
  EXPECT_EQ(cut.ReadLong(&got).code(), Status::Code::kBadRecord);
}

TEST(AvroBinary, HugeLengthsAndCountsAreBadRecordsNamingTheValue) {
  auto schema = Schema(R"({"type": "record", "name": "U", "fields": [
    {"name": "name", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "long"}},
    {"name": "nulls", "type": {"type": "array", "items": "null"}}]})");
  Status s = CheckAvroDatum(*schema, Long(INT64_MAX));
  ASSERT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("Avro value U.name: a length of 9223372036854775807 with 0 bytes left"), std::string::npos)
      << s.message();
  s = CheckAvroDatum(*schema, Long(-3));
  EXPECT_NE(s.message().find("a length of -3"), std::string::npos) << s.message();
  s = CheckAvroDatum(*schema, Long(0) + Long(int64_t{1} << 60) + "abc");
  ASSERT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("Avro value U.tags: the block count 1152921504606846976 is more than the 3 bytes left"),
            std::string::npos)
      << s.message();
  s = CheckAvroDatum(*schema, Long(0) + Long(0) + Long(int64_t{1} << 40));
  EXPECT_NE(s.message().find("U.nulls: more items than a datum may hold"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckAvroDatum(*schema, Long(1) + "a" + Long(2) + Long(5) + Long(6) + Long(0) + Long(3) + Long(0)).ok());

  AvroDatumReader reader(schema);  // Avro C never sees the length
  struct Discard : FieldSink {
    void Add(std::string_view, Value) override {}
  } sink;
  std::string json;
  s = reader.Read(Long(int64_t{1} << 62), "value", &sink, &json);
  ASSERT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("U.name: a length of"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sfb
