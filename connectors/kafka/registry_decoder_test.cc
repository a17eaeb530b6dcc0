// RegistryAvroDecoder through RecordDecoder, with the writer schemas given by an in-memory SchemaSource
// (the registry's REST answers are tested against a real registry in tests/integration): schema
// evolution per message id, each id looked up once, and every error naming the schema id.

#include "connectors/kafka/registry_decoder.h"

#include <gtest/gtest.h>

#include <map>

#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/testing_schema_source.h"

namespace sfb {
namespace {

using namespace std::string_literals;

using MapSchemaSource = TestingSchemaSource;

const char* kUserV1 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "int"}]})";
const char* kUserV2 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "int"},
    {"name": "email", "type": ["null", "string"], "default": null}]})";

std::string Framed(int32_t id, const std::string& payload) { return RegistryFramed(id, payload); }

// Avro binary: a string is its zigzag length then its bytes; small ints are one zigzag byte.
std::string AvroString(const std::string& s) { return std::string(1, static_cast<char>(s.size() * 2)) + s; }
std::string AvroSmallInt(int v) { return std::string(1, static_cast<char>(v * 2)); }

KafkaMessageView Message(const std::string& value, int64_t offset) { return TestingMessage(value, offset); }

struct Fixture {
  std::shared_ptr<MapSchemaSource> source = std::make_shared<MapSchemaSource>();
  KafkaFormat avro{KafkaFormat::Kind::kAvro, false, "", "", std::make_shared<SchemaRegistryConfig>()};
  KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  RecordDecoder decoder{raw, avro, nullptr, nullptr, nullptr, source};
  Fixture() {
    source->schemas[1] = RegistrySchema{1, "AVRO", kUserV1, {}};
    source->schemas[2] = RegistrySchema{2, "AVRO", kUserV2, {}};
    source->schemas[3] = RegistrySchema{3, "PROTOBUF", "syntax = \"proto3\"; message M {}", {}};
  }
};

TEST(RegistryAvroDecoder, EachRecordDecodesWithItsWriterSchema) {
  Fixture f;
  Record r;
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(1, AvroString("ana") + AvroSmallInt(31)), 0), &r).ok());
  EXPECT_EQ(r.schema().names(), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value",
                                                          "value.name", "value.age"}));
  EXPECT_EQ(r.Get("value"), Value::Text(R"({"name":"ana","age":31})"));
  EXPECT_EQ(r.Get("value.name"), Value::Text("ana"));
  EXPECT_EQ(r.Get("value.age"), Value::Int(31));
  // v2 adds a defaulted union field: written as branch 1 (string), then as branch 0 (null).
  const std::string with_email = AvroString("bo") + AvroSmallInt(40) + "\x02" + AvroString("b@x");
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(2, with_email), 1), &r).ok());
  EXPECT_EQ(r.Get("value.email"), Value::Text("b@x"));
  EXPECT_EQ(r.Get("value"), Value::Text(R"({"name":"bo","age":40,"email":"b@x"})"));
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(2, AvroString("cy") + AvroSmallInt(22) + "\x00"s), 2), &r).ok());
  EXPECT_TRUE(r.Get("value.email").is_null());
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(1, AvroString("di") + AvroSmallInt(50)), 3), &r).ok());
  EXPECT_EQ(r.Get("value.name"), Value::Text("di"));
  EXPECT_EQ(f.source->lookups[1], 1);  // once per id, however many records
  EXPECT_EQ(f.source->lookups[2], 1);
}

TEST(RegistryAvroDecoder, RecordsTheRegistryCannotExplainAreBadRecordsNamingTheSchemaId) {
  Fixture f;
  Record r;
  struct Case {
    std::string value;
    std::string message;
  };
  const Case cases[] = {
      {R"({"name": "ana"})", "the value is not in the schema registry wire format ('{\"name\": \"ana\"}'): its first "
                             "byte is 123, not the magic byte 0"},
      {Framed(9, AvroString("ana")), "the value's schema id 9 is unknown: the schema registry has no schema with id 9"},
      {Framed(3, ""), "the value's schema id 3 is a PROTOBUF schema, not Avro"},
      {Framed(1, AvroString("ana")), "the value (schema id 1): the bytes are not an Avro datum of example.User"},
      {Framed(1, AvroString("ana") + AvroSmallInt(3) + "zz"),
       "the value (schema id 1): bytes are left over after an Avro datum of example.User"},
  };
  for (const Case& c : cases) {
    Status s = f.decoder.Decode(Message(c.value, 5), &r);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_EQ(s.code(), Status::Code::kBadRecord) << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
  // an unknown id stays unknown without asking again, and good records still decode
  EXPECT_FALSE(f.decoder.Decode(Message(Framed(9, ""), 6), &r).ok());
  EXPECT_EQ(f.source->lookups[9], 1);
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(1, AvroString("ana") + AvroSmallInt(3)), 7), &r).ok());
  EXPECT_EQ(r.Get("value.age"), Value::Int(3));
}

TEST(RegistryAvroDecoder, ARegistryThatDoesNotAnswerFailsTheRunNotTheRecord) {
  Fixture f;
  f.source->down = true;
  Record r;
  Status s = f.decoder.Decode(Message(Framed(1, AvroString("ana") + AvroSmallInt(3)), 0), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  // and it asks again once the registry is back
  f.source->down = false;
  ASSERT_TRUE(f.decoder.Decode(Message(Framed(1, AvroString("ana") + AvroSmallInt(3)), 1), &r).ok());
  EXPECT_EQ(f.source->lookups[1], 2);
}

// A reader schema = v2 with a second defaulted field: v1 records read with both defaults, v2 records with
// what they carry; a writer schema the reader cannot read fails the run naming the id and the field.
TEST(RegistryAvroDecoder, AReaderSchemaGivesEveryRecordItsFieldsWithDefaults) {
  Fixture f;
  auto reader = AvroSchema::Parse(R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "long"},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "tier", "type": "string", "default": "basic"}]})");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  f.avro.avro_reader_schema = *reader;
  f.avro.avro_reader_schema_path = "users-reader.avsc";
  RecordDecoder decoder{f.raw, f.avro, nullptr, nullptr, nullptr, f.source};
  const std::vector<std::string> names{"topic", "partition", "offset", "timestamp", "key", "value",
                                       "value.name", "value.age", "value.email", "value.tier"};
  Record r;
  ASSERT_TRUE(decoder.Decode(Message(Framed(1, AvroString("ana") + AvroSmallInt(31)), 0), &r).ok());
  EXPECT_EQ(r.schema().names(), names);
  EXPECT_EQ(r.Get("value"), Value::Text(R"({"name":"ana","age":31,"email":null,"tier":"basic"})"));
  EXPECT_TRUE(r.Get("value.email").is_null());
  EXPECT_EQ(r.Get("value.tier"), Value::Text("basic"));
  const std::string with_email = AvroString("bo") + AvroSmallInt(40) + "\x02" + AvroString("b@x");
  ASSERT_TRUE(decoder.Decode(Message(Framed(2, with_email), 1), &r).ok());
  EXPECT_EQ(r.schema().names(), names);
  EXPECT_EQ(r.Get("value.email"), Value::Text("b@x"));
  EXPECT_EQ(r.Get("value.tier"), Value::Text("basic"));
  // a corrupt payload is still a bad record naming the id
  Status bad = decoder.Decode(Message(Framed(1, AvroString("ana")), 2), &r);
  EXPECT_EQ(bad.code(), Status::Code::kBadRecord) << bad.ToString();
  EXPECT_NE(bad.message().find("the value (schema id 1): "), std::string::npos) << bad.ToString();

  f.source->schemas[4] = RegistrySchema{4, "AVRO", R"({"type": "record", "name": "User", "namespace": "example",
      "fields": [{"name": "age", "type": "int"}]})", {}};
  Status s = decoder.Decode(Message(Framed(4, AvroSmallInt(1)), 3), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidSpec) << s.ToString();
  EXPECT_NE(s.message().find("the value's writer schema id 4 (example.User) cannot be read with the reader schema "
                             "users-reader.avsc (example.User): "),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("the reader's field example.User.name has no default"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sfb
