#include "connectors/kafka/registry_wire_format.h"

#include <gtest/gtest.h>

#include <string>

namespace sfb {
namespace {

using namespace std::string_literals;

TEST(RegistryWireFormat, SplitsIdAndPayload) {
  const std::string bytes = "\x00\x00\x00\x01\x02payload"s;
  auto frame = ParseRegistryFrame(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(frame->schema_id, 258);
  EXPECT_EQ(frame->payload, "payload");
}

TEST(RegistryWireFormat, IdIsBigEndianAcrossAllFourBytes) {
  auto frame = ParseRegistryFrame("\x00\x12\x34\x56\x78"s);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->schema_id, 0x12345678);
  EXPECT_TRUE(frame->payload.empty());
}

TEST(RegistryWireFormat, RejectsMissingMagicByte) {
  auto frame = ParseRegistryFrame(R"({"id": 1})");
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), Status::Code::kBadRecord);
  EXPECT_NE(frame.status().message().find("first byte is 123, not the magic byte 0"), std::string::npos)
      << frame.status().message();
  EXPECT_NE(frame.status().hint().find("schema registry serializer"), std::string::npos);
}

TEST(RegistryWireFormat, RejectsShortAndEmptyInput) {
  auto short_frame = ParseRegistryFrame("\x00\x00\x01"s);
  ASSERT_FALSE(short_frame.ok());
  EXPECT_NE(short_frame.status().message().find("3 bytes, fewer than the 5-byte header"), std::string::npos);
  auto empty = ParseRegistryFrame("");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("it is empty"), std::string::npos);
}

}  // namespace
}  // namespace sfb
