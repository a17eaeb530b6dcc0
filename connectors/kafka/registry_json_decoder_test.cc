// RegistryJsonDecoder through RecordDecoder, with schemas from an in-memory SchemaSource: the JSON document
// after the header flattens as `format: json` flattens it, and records whose id the registry cannot
// explain are bad records naming the id.

#include "connectors/kafka/registry_json_decoder.h"

#include <gtest/gtest.h>

#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/testing_schema_source.h"

namespace sfb {
namespace {

struct JsonFixture {
  std::shared_ptr<TestingSchemaSource> source = std::make_shared<TestingSchemaSource>();
  KafkaFormat json{KafkaFormat::Kind::kJson, false, "", "", std::make_shared<SchemaRegistryConfig>()};
  KafkaFormat plain_json{KafkaFormat::Kind::kJson, false, "", "", nullptr};
  KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  RecordDecoder decoder{raw, json, nullptr, nullptr, nullptr, source};
  JsonFixture() {
    source->schemas[4] = RegistrySchema{4, "JSON", R"({"type": "object"})", {}};
    source->schemas[5] = RegistrySchema{5, "AVRO", R"("string")", {}};
  }
};

TEST(RegistryJsonDecoder, ThePayloadDecodesExactlyAsPlainJson) {
  JsonFixture f;
  RecordDecoder plain{f.raw, f.plain_json, nullptr, nullptr};
  const std::string doc = R"({"name": "ana", "age": 31, "address": {"city": "Oslo"}, "tags": ["a"], "vip": true})";
  Record framed, unframed;
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(4, doc), 0), &framed).ok());
  ASSERT_TRUE(plain.Decode(TestingMessage(doc, 0), &unframed).ok());
  EXPECT_EQ(framed.schema().names(), unframed.schema().names());
  for (const std::string& name : unframed.schema().names()) EXPECT_EQ(framed.Get(name), unframed.Get(name)) << name;
  EXPECT_EQ(framed.Get("value"), Value::Text(doc));
  EXPECT_EQ(framed.Get("value.address.city"), Value::Text("Oslo"));
  EXPECT_EQ(framed.Get("value.age"), Value::Int(31));
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(4, R"({"name": "bo"})"), 1), &framed).ok());
  EXPECT_EQ(framed.Get("value.name"), Value::Text("bo"));
  EXPECT_EQ(f.source->lookups[4], 1);  // once per id
}

TEST(RegistryJsonDecoder, RecordsTheRegistryCannotExplainAreBadRecordsNamingTheSchemaId) {
  JsonFixture f;
  Record r;
  const std::pair<std::string, std::string> cases[] = {
      {R"({"name": "ana"})", "the value is not in the schema registry wire format"},
      {RegistryFramed(9, "{}"), "the value's schema id 9 is unknown: the schema registry has no schema with id 9"},
      {RegistryFramed(5, "{}"), "the value's schema id 5 is a AVRO schema, not JSON Schema"},
      {RegistryFramed(4, R"({"name": )"), "the value is not JSON"},
  };
  for (const auto& [value, message] : cases) {
    Status s = f.decoder.Decode(TestingMessage(value, 3), &r);
    ASSERT_FALSE(s.ok()) << message;
    EXPECT_EQ(s.code(), Status::Code::kBadRecord) << s.ToString();
    EXPECT_NE(s.message().find(message), std::string::npos) << s.ToString();
  }
  EXPECT_FALSE(f.decoder.Decode(TestingMessage(RegistryFramed(9, "{}"), 4), &r).ok());
  EXPECT_EQ(f.source->lookups[9], 1);  // an unknown id is not asked about again
}

TEST(RegistryJsonDecoder, ARegistryThatDoesNotAnswerFailsTheRunNotTheRecord) {
  JsonFixture f;
  f.source->down = true;
  Record r;
  Status s = f.decoder.Decode(TestingMessage(RegistryFramed(4, "{}"), 0), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
}

}  // namespace
}  // namespace sfb
