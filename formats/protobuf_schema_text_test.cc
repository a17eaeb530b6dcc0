#include "formats/protobuf_schema_text.h"

#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

namespace sfb {
namespace {

namespace pb = google::protobuf;

const char* kUsers = R"(syntax = "proto3";
package example;
import "common.proto";

message Header { string source = 1; }
message User {
  string name = 1;
  int32 age = 2;
  Address address = 3;
  message Profile { string bio = 1; }
  Profile profile = 4;
}
)";

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int held = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 63]);
    }
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 63]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

TEST(ProtobufSchemaText, ProtoTextBecomesTheFileItDescribes) {
  auto file = ParseProtobufSchema(kUsers, "users.proto");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->name(), "users.proto");
  EXPECT_EQ(file->package(), "example");
  EXPECT_EQ(file->syntax(), "proto3");
  ASSERT_EQ(file->dependency_size(), 1);
  EXPECT_EQ(file->dependency(0), "common.proto");
  ASSERT_EQ(file->message_type_size(), 2);
  EXPECT_EQ(file->message_type(1).name(), "User");
  ASSERT_EQ(file->message_type(1).nested_type_size(), 1);
  EXPECT_EQ(file->message_type(1).nested_type(0).name(), "Profile");
  EXPECT_EQ(file->message_type(1).field(2).type_name(), "Address");  // resolved when the pool builds it

  // and it builds, once what it imports is there
  pb::DescriptorPool pool;
  auto common = ParseProtobufSchema("syntax = \"proto3\"; package example; message Address { string city = 1; }",
                                    "common.proto");
  ASSERT_TRUE(common.ok()) << common.status().ToString();
  ASSERT_NE(pool.BuildFile(*common), nullptr);
  const pb::FileDescriptor* built = pool.BuildFile(*file);
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built->message_type(1)->field(2)->message_type()->full_name(), "example.Address");
}

TEST(ProtobufSchemaText, ABase64FileDescriptorProtoIsTakenAsIs) {
  auto file = ParseProtobufSchema(kUsers, "first-name.proto");
  ASSERT_TRUE(file.ok());
  const std::string encoded = Base64(file->SerializeAsString());
  auto again = ParseProtobufSchema(encoded, "users.proto");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->name(), "users.proto");  // named as its importers know it
  file->set_name("users.proto");
  EXPECT_EQ(again->SerializeAsString(), file->SerializeAsString());
  // wrapped in lines, as some tools write base64
  auto wrapped = ParseProtobufSchema(encoded.substr(0, 20) + "\n" + encoded.substr(20), "users.proto");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(wrapped->message_type_size(), 2);
}

TEST(ProtobufSchemaText, ErrorsNameTheFileLineAndColumn) {
  auto bad = ParseProtobufSchema("syntax = \"proto3\";\nmessage User {\n  string name = ;\n}\n", "users.proto");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidSpec);
  EXPECT_NE(bad.status().message().find("the Protobuf schema users.proto does not parse: line 3, column 17: "),
            std::string::npos)
      << bad.status().ToString();
  // base64 characters only, but not a descriptor: "QUJD" is "ABC"
  auto not_descriptor = ParseProtobufSchema("QUJD", "x.proto");
  ASSERT_FALSE(not_descriptor.ok());
  EXPECT_NE(not_descriptor.status().message().find("is base64 but not a serialized FileDescriptorProto"),
            std::string::npos)
      << not_descriptor.status().ToString();
}

}  // namespace
}  // namespace sfb
