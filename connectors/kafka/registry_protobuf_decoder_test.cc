// RegistryProtobufDecoder through RecordDecoder, with schemas (and the schemas they import) from an
// in-memory SchemaSource: the message indexes pick the message, references and well-known imports
// resolve, and every error names the schema id.

#include "connectors/kafka/registry_protobuf_decoder.h"

#include <gtest/gtest.h>

#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/testing_schema_source.h"

namespace sfb {
namespace {

using namespace std::string_literals;

const char* kCommon = R"(syntax = "proto3"; package example; message Address { string city = 1; })";
const char* kUsers = R"(syntax = "proto3";
package example;
import "common.proto";
import "google/protobuf/timestamp.proto";

message Header { string source = 1; }
message User {
  string name = 1;
  int32 age = 2;
  Address address = 3;
  google.protobuf.Timestamp seen = 4;
  message Profile { string bio = 1; }
}
)";

struct ProtobufFixture {
  std::shared_ptr<TestingSchemaSource> source = std::make_shared<TestingSchemaSource>();
  KafkaFormat protobuf{KafkaFormat::Kind::kProtobuf, false, "", "", std::make_shared<SchemaRegistryConfig>()};
  KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  RecordDecoder decoder{raw, protobuf, nullptr, nullptr, nullptr, source};
  ProtobufFixture() {
    source->schemas[7] = RegistrySchema{7, "PROTOBUF", kUsers, {{"common.proto", "common-subject", 2}}};
    source->versions[{"common-subject", 2}] = RegistrySchema{3, "PROTOBUF", kCommon, {}};
    source->schemas[8] = RegistrySchema{8, "PROTOBUF", kUsers, {{"common.proto", "gone", 1}}};
    source->schemas[9] = RegistrySchema{9, "PROTOBUF", "message User { string name = ; }", {}};
    source->schemas[10] = RegistrySchema{10, "AVRO", R"("string")", {}};
  }
};

// User{name: "ana", age: 31, address: {city: "Oslo"}, seen: {seconds: 1}}
const std::string kUser = "\x0a\x03" "ana" "\x10\x1f" "\x1a\x06\x0a\x04" "Oslo" "\x22\x02\x08\x01"s;

TEST(RegistryProtobufDecoder, TheIndexesPickTheMessageOfTheFile) {
  ProtobufFixture f;
  Record r;
  // [1]: User, the file's second message (count 1 -> zigzag 2, index 1 -> 2)
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x02\x02"s + kUser), 0), &r).ok());
  EXPECT_EQ(r.schema().names(), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value",
                                                          "value.name", "value.age", "value.address.city",
                                                          "value.seen.seconds", "value.seen.nanos"}));
  EXPECT_EQ(r.Get("value.name"), Value::Text("ana"));
  EXPECT_EQ(r.Get("value.age"), Value::Int(31));
  EXPECT_EQ(r.Get("value.address.city"), Value::Text("Oslo"));
  EXPECT_EQ(r.Get("value.seen.seconds"), Value::Int(1));
  EXPECT_EQ(r.Get("value"),
            Value::Text(R"({"name":"ana","age":31,"address":{"city":"Oslo"},"seen":"1970-01-01T00:00:01Z"})"));
  // [1, 0]: User.Profile (count 2 -> 4, then 2 and 0)
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x04\x02\x00\x0a\x02hi"s), 1), &r).ok());
  EXPECT_EQ(r.Get("value.bio"), Value::Text("hi"));
  EXPECT_EQ(r.Get("value"), Value::Text(R"({"bio":"hi"})"));
  // the single 0 byte: [0], Header
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x00\x0a\x01x"s), 2), &r).ok());
  EXPECT_EQ(r.Get("value.source"), Value::Text("x"));
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x02\x02"s + kUser), 3), &r).ok());
  EXPECT_EQ(f.source->lookups[7], 1);  // once per id, whatever the message
}

TEST(RegistryProtobufDecoder, RecordsTheRegistryCannotExplainAreBadRecordsNamingTheSchemaId) {
  ProtobufFixture f;
  Record r;
  const std::pair<std::string, std::string> cases[] = {
      {"\x0a\x03" "ana"s, "the value is not in the schema registry wire format"},
      {RegistryFramed(42, "\x00"s), "the value's schema id 42 is unknown"},
      {RegistryFramed(10, "\x00"s), "the value's schema id 10 is a AVRO schema, not Protobuf"},
      {RegistryFramed(7, ""), "the value (schema id 7): its Protobuf message-index list is malformed: there are no bytes"},
      {RegistryFramed(7, "\x02\x06"s), "the value's message indexes [3] name no message of schema id 7: the file has 2 "
                                       "top-level messages"},
      {RegistryFramed(7, "\x04\x02\x02"s), "the value's message indexes [1, 1] name no message of schema id 7: "
                                           "example.User has 1 nested messages"},
      {RegistryFramed(7, "\x02\x02\xff"s), "the value (schema id 7, message indexes [1]): the value is not a valid "
                                           "example.User protobuf message"},
      {RegistryFramed(8, "\x00"s), "the Protobuf schema with id 8 cannot be used: the schema common.proto it imports "
                                   "(subject gone version 1) is missing"},
      {RegistryFramed(9, "\x00"s), "the Protobuf schema with id 9 cannot be used: the Protobuf schema "
                                   "registry-schema-9.proto does not parse: line 1, column 16"},
  };
  for (const auto& [value, message] : cases) {
    Status s = f.decoder.Decode(TestingMessage(value, 5), &r);
    ASSERT_FALSE(s.ok()) << message;
    EXPECT_EQ(s.code(), Status::Code::kBadRecord) << s.ToString();
    EXPECT_NE(s.message().find(message), std::string::npos) << s.ToString();
  }
  // good records still decode after bad ones
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x02\x02"s + kUser), 6), &r).ok());
  EXPECT_EQ(r.Get("value.name"), Value::Text("ana"));
}

TEST(RegistryProtobufDecoder, ARegistryThatDoesNotAnswerFailsTheRunNotTheRecord) {
  ProtobufFixture f;
  f.source->down = true;
  Record r;
  Status s = f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x02\x02"s + kUser), 0), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  f.source->down = false;  // and it asks again once the registry is back
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(RegistryFramed(7, "\x02\x02"s + kUser), 1), &r).ok());
}

}  // namespace
}  // namespace sfb
