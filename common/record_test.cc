#include "common/record.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sfb {
namespace {

std::shared_ptr<const Schema> SchemaOf(size_t n) {
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    names.push_back(std::to_string(i));
    names.back().insert(0, 1, 'f');  // (not "f" + ...: GCC 12 warns falsely about that at -O3)
  }
  return std::make_shared<const Schema>(names);
}

TEST(RecordTest, SpilledValuesReadBackAsTheyWereWritten) {
  const std::vector<Value> values = {
      Value::Null(), Value::Bool(true), Value::Bool(false), Value::Int(0), Value::Int(1), Value::Int(-1),
      Value::Int(63), Value::Int(-64), Value::Int(64), Value::Int(1 << 20),
      Value::Int(std::numeric_limits<int64_t>::max()), Value::Int(std::numeric_limits<int64_t>::min()),
      Value::Double(-0.0), Value::Double(1.5), Value::Double(std::numeric_limits<double>::infinity()),
      Value::Text(""), Value::Text("user-42"), Value::Text(std::string(300, 'x')), Value::Bytes(std::string("\0\xff", 2)),
  };
  auto schema = SchemaOf(values.size());
  std::string bytes;
  Record(schema, values).SerializeValuesTo(&bytes);
  Record back;
  ASSERT_TRUE(Record::ParseValues(bytes, schema, &back).ok());
  ASSERT_EQ(back.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = back.value(i);
    ASSERT_EQ(v.kind(), values[i].kind()) << i;
    switch (v.kind()) {
      case Value::Kind::kNull: break;
      case Value::Kind::kBool: EXPECT_EQ(v.as_bool(), values[i].as_bool()) << i; break;
      case Value::Kind::kInt: EXPECT_EQ(v.as_int(), values[i].as_int()) << i; break;
      case Value::Kind::kDouble:
        EXPECT_EQ(std::signbit(v.as_double()), std::signbit(values[i].as_double())) << i;
        EXPECT_EQ(v.as_double(), values[i].as_double()) << i;
        break;
      case Value::Kind::kText:
      case Value::Kind::kBytes: EXPECT_EQ(v.as_string(), values[i].as_string()) << i; break;
    }
  }
  // Parsing into a record that held other values reuses it and still gives the values written.
  std::string other;
  Record(schema, std::vector<Value>(values.rbegin(), values.rend())).SerializeValuesTo(&other);
  Record reused;
  ASSERT_TRUE(Record::ParseValues(other, schema, &reused).ok());
  ASSERT_TRUE(Record::ParseValues(bytes, schema, &reused).ok());
  EXPECT_EQ(reused.value(16).as_string(), "user-42");
  EXPECT_EQ(reused.value(11).as_int(), std::numeric_limits<int64_t>::min());
}

TEST(RecordTest, SmallIntegersAndShortTextTakeFewBytes) {
  // What makes a routed record small in memory: a route index, a count and a short name.
  auto schema = SchemaOf(3);
  std::string bytes;
  Record(schema, {Value::Int(0), Value::Int(-3), Value::Text("Ada")}).SerializeValuesTo(&bytes);
  EXPECT_EQ(bytes.size(), 1u + 2 + 2 + (2 + 3));
}

TEST(RecordTest, ACutOrForeignSpilledRecordIsCorruptionNotACrash) {
  auto schema = SchemaOf(2);
  std::string bytes;
  Record(schema, {Value::Int(1), Value::Text("a longer text")}).SerializeValuesTo(&bytes);
  Record out;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(Record::ParseValues(bytes.substr(0, cut), schema, &out).code(), Status::Code::kCorruption) << cut;
  }
  EXPECT_EQ(Record::ParseValues(bytes, SchemaOf(3), &out).code(), Status::Code::kCorruption);  // another schema
  EXPECT_EQ(Record::ParseValues(std::string("\x01\x09", 2), SchemaOf(1), &out).code(), Status::Code::kCorruption);
  const std::string overlong(12, '\xff');  // a varint of more than 10 bytes
  EXPECT_EQ(Record::ParseValues(overlong, schema, &out).code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace sfb
