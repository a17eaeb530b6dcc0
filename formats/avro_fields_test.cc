// AvroSchema and AvroDatumReader on datums encoded here byte by byte (the Avro binary encoding written
// out independently of Avro C, which decodes them): every type's field and JSON, nesting, unions,
// named-type references, and the errors for bytes that are not a datum of the schema.

#include "formats/avro_fields.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

namespace sfb {
namespace {

struct Fields : FieldSink {
  std::vector<std::pair<std::string, Value>> got;
  void Add(std::string_view name, Value value) override { got.emplace_back(std::string(name), std::move(value)); }
  const Value& at(const std::string& name) const {
    for (const auto& [n, v] : got) {
      if (n == name) return v;
    }
    ADD_FAILURE() << "no field " << name;
    static const Value kNull = Value::Null();
    return kNull;
  }
};

// The Avro binary encoding (spec "Binary Encoding"): zigzag varints, length-prefixed bytes, little-endian floats.
struct Encoder {
  std::string out;
  Encoder& Long(int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80) {
      out.push_back(static_cast<char>((z & 0x7f) | 0x80));
      z >>= 7;
    }
    out.push_back(static_cast<char>(z));
    return *this;
  }
  Encoder& Bytes(std::string_view b) {
    Long(static_cast<int64_t>(b.size()));
    out.append(b);
    return *this;
  }
  Encoder& Raw(std::string_view b) {
    out.append(b);
    return *this;
  }
  Encoder& Float(float f) {
    char b[4];
    std::memcpy(b, &f, 4);
    out.append(b, 4);
    return *this;
  }
  Encoder& Double(double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    out.append(b, 8);
    return *this;
  }
};

const char* kUserSchema = R"({
  "type": "record", "name": "User", "namespace": "example",
  "fields": [
    {"name": "name", "type": "string"},
    {"name": "age", "type": "int"},
    {"name": "score", "type": "long"},
    {"name": "ratio", "type": "float"},
    {"name": "weight", "type": "double"},
    {"name": "active", "type": "boolean"},
    {"name": "nothing", "type": "null"},
    {"name": "photo", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
    {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "nick", "type": ["null", "string"]},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "born", "type": {"type": "int", "logicalType": "date"}},
    {"name": "seen", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "seen_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "previous", "type": ["null", "Address"]},
    {"name": "again", "type": "example.Hash"}
  ]})";

std::string UserDatum(bool with_previous) {
  Encoder e;
  e.Bytes("ann").Long(42).Long(-3).Float(1.5f).Double(2.25).Raw("\x01");
  e.Bytes(std::string("\x00\xff", 2)).Raw("abcd").Long(1);
  e.Long(2).Bytes("a").Bytes("b\"q").Long(0);
  e.Long(1).Bytes("k").Long(7).Long(0);
  e.Long(1).Bytes("Al");
  e.Bytes("Oslo");
  e.Bytes("\xfb\x1e");  // -1250 unscaled, two's complement
  e.Long(19844).Long(1714521600000).Long(1714521600000123).Bytes("6f1c2a4e-0000-4000-8000-000000000001");
  if (with_previous) e.Long(1).Bytes("Rome");
  else e.Long(0);
  e.Raw("wxyz");
  return e.out;
}

TEST(AvroFields, EveryTypeBecomesItsField) {
  auto schema = AvroSchema::Parse(kUserSchema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE((*schema)->is_record());
  EXPECT_EQ((*schema)->name(), "example.User");
  AvroDatumReader reader(*schema);
  Fields f;
  std::string json;
  Status s = reader.Read(UserDatum(false), "value", &f, &json);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(f.at("value.name").as_string(), "ann");
  EXPECT_EQ(f.at("value.age").as_int(), 42);
  EXPECT_EQ(f.at("value.score").as_int(), -3);
  EXPECT_EQ(f.at("value.ratio").as_double(), 1.5);
  EXPECT_EQ(f.at("value.weight").as_double(), 2.25);
  EXPECT_TRUE(f.at("value.active").as_bool());
  EXPECT_EQ(f.at("value.nothing").kind(), Value::Kind::kNull);
  EXPECT_EQ(f.at("value.photo").kind(), Value::Kind::kBytes);
  EXPECT_EQ(f.at("value.photo").as_string(), std::string("\x00\xff", 2));
  EXPECT_EQ(f.at("value.hash").kind(), Value::Kind::kBytes);
  EXPECT_EQ(f.at("value.hash").as_string(), "abcd");
  EXPECT_EQ(f.at("value.color").as_string(), "GREEN");
  EXPECT_EQ(f.at("value.tags").as_string(), R"(["a","b\"q"])");
  EXPECT_EQ(f.at("value.attrs").as_string(), R"({"k":7})");
  EXPECT_EQ(f.at("value.nick").as_string(), "Al");
  EXPECT_EQ(f.at("value.address.city").as_string(), "Oslo");
  EXPECT_EQ(f.at("value.price").kind(), Value::Kind::kText);
  EXPECT_EQ(f.at("value.price").as_string(), "-12.50");
  EXPECT_EQ(f.at("value.born").as_string(), "2024-05-01");
  EXPECT_EQ(f.at("value.seen").as_int(), 1714521600000);
  EXPECT_EQ(f.at("value.seen_us").as_int(), 1714521600000123);
  EXPECT_EQ(f.at("value.id").as_string(), "6f1c2a4e-0000-4000-8000-000000000001");
  EXPECT_EQ(f.at("value.previous").kind(), Value::Kind::kNull);
  EXPECT_EQ(f.at("value.again").as_string(), "wxyz");
  EXPECT_EQ(f.got.size(), 22u);  // the record's text, then one per leaf; nested records add none
  EXPECT_EQ(f.got[0].first, "value");
  EXPECT_EQ(f.got[0].second.as_string(), json);

  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["name"], "ann");
  EXPECT_EQ(j["photo"], "AP8=");  // base64
  EXPECT_EQ(j["nick"], "Al");     // the branch's value, not {"string": "Al"}
  EXPECT_EQ(j["address"]["city"], "Oslo");
  EXPECT_EQ(j["price"], "-12.50");
  EXPECT_EQ(j["born"], "2024-05-01");
  EXPECT_EQ(j["tags"], nlohmann::json::parse(R"(["a","b\"q"])"));
  EXPECT_TRUE(j["previous"].is_null());
  EXPECT_EQ(json.rfind(R"({"name":"ann","age":42,)", 0), 0u) << json;
}

TEST(AvroFields, UnionBranchRecordFlattens) {
  auto schema = AvroSchema::Parse(kUserSchema);
  ASSERT_TRUE(schema.ok());
  AvroDatumReader reader(*schema);
  Fields f;
  std::string json;
  ASSERT_TRUE(reader.Read(UserDatum(true), "value", &f, &json).ok());
  EXPECT_EQ(f.at("value.previous.city").as_string(), "Rome");
  EXPECT_EQ(nlohmann::json::parse(json)["previous"]["city"], "Rome");
}

TEST(AvroFields, DecimalsOfEverySign) {
  auto schema = AvroSchema::Parse(
      R"({"type": "fixed", "name": "Amount", "size": 3, "logicalType": "decimal", "precision": 7, "scale": 3})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_FALSE((*schema)->is_record());
  AvroDatumReader reader(*schema);
  const std::map<std::string, std::string> cases = {{std::string("\x00\x00\x07", 3), "0.007"},
                                                    {std::string("\x00\x00\x00", 3), "0.000"},
                                                    {std::string("\xff\xff\xff", 3), "-0.001"},
                                                    {std::string("\x01\xe2\x40", 3), "123.456"},
                                                    {std::string("\x80\x00\x00", 3), "-8388.608"}};
  for (const auto& [bytes, text] : cases) {
    Fields f;
    std::string json;
    ASSERT_TRUE(reader.Read(bytes, "value", &f, &json).ok());
    ASSERT_EQ(f.got.size(), 1u);
    EXPECT_EQ(f.got[0].first, "value");
    EXPECT_EQ(f.got[0].second.as_string(), text);
    EXPECT_EQ(json, "\"" + text + "\"");
  }
}

TEST(AvroFields, ScalarDatumIsTheFieldItself) {
  auto schema = AvroSchema::Parse(R"("long")");
  ASSERT_TRUE(schema.ok());
  AvroDatumReader reader(*schema);
  Fields f;
  std::string json;
  ASSERT_TRUE(reader.Read(Encoder().Long(-64).out, "key", &f, &json).ok());
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].first, "key");
  EXPECT_EQ(f.got[0].second.as_int(), -64);
  EXPECT_EQ(json, "-64");
}

TEST(AvroFields, DatesBeforeTheEpochAndLeapDays) {
  auto schema = AvroSchema::Parse(R"({"type": "int", "logicalType": "date"})");
  ASSERT_TRUE(schema.ok());
  AvroDatumReader reader(*schema);
  for (const auto& [days, text] : std::vector<std::pair<int64_t, std::string>>{
           {0, "1970-01-01"}, {-1, "1969-12-31"}, {11016, "2000-02-29"}, {-719528, "0000-01-01"}}) {
    Fields f;
    std::string json;
    ASSERT_TRUE(reader.Read(Encoder().Long(days).out, "value", &f, &json).ok());
    EXPECT_EQ(f.got[0].second.as_string(), text) << days;
  }
}

TEST(AvroFields, RecursiveRecordThroughItsName) {
  auto schema = AvroSchema::Parse(R"({"type": "record", "name": "Node", "fields": [
      {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  AvroDatumReader reader(*schema);
  Fields f;
  std::string json;
  ASSERT_TRUE(reader.Read(Encoder().Long(1).Long(1).Long(2).Long(0).out, "value", &f, &json).ok());
  EXPECT_EQ(f.at("value.v").as_int(), 1);
  EXPECT_EQ(f.at("value.next.v").as_int(), 2);
  EXPECT_EQ(f.at("value.next.next").kind(), Value::Kind::kNull);
  EXPECT_EQ(json, R"({"v":1,"next":{"v":2,"next":null}})");
}

TEST(AvroFields, BytesThatAreNotADatumAreBadRecords) {
  auto schema = AvroSchema::Parse(kUserSchema);
  ASSERT_TRUE(schema.ok());
  AvroDatumReader reader(*schema);
  std::string json;
  {
    Fields f;
    const std::string datum = UserDatum(false);
    Status s = reader.Read(datum.substr(0, datum.size() / 2), "value", &f, &json);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Status::Code::kBadRecord);
    EXPECT_NE(s.message().find("not an Avro datum of example.User"), std::string::npos) << s.message();
  }
  {
    Fields f;
    Status s = reader.Read(UserDatum(false) + "x", "value", &f, &json);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("left over after an Avro datum of example.User"), std::string::npos) << s.message();
  }
  {  // and the reader still decodes the next good datum
    Fields f;
    ASSERT_TRUE(reader.Read(UserDatum(false), "value", &f, &json).ok());
    EXPECT_EQ(f.at("value.name").as_string(), "ann");
  }
}

TEST(AvroFields, SchemaErrorsNameTheProblem) {
  auto not_json = AvroSchema::Parse("{type: record");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("not JSON"), std::string::npos);
  auto undefined =
      AvroSchema::Parse(R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]})");
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("'Missing' is not defined"), std::string::npos)
      << undefined.status().message();
  auto no_fields = AvroSchema::Parse(R"({"type": "record", "name": "R"})");
  ASSERT_FALSE(no_fields.ok());
  EXPECT_NE(no_fields.status().message().find("Avro record R has no fields"), std::string::npos);
}

}  // namespace
}  // namespace sfb
