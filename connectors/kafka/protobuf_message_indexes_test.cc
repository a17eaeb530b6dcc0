#include "connectors/kafka/protobuf_message_indexes.h"

#include <gtest/gtest.h>

#include <string>

#include "common/str_cat.h"

namespace sfb {
namespace {

using namespace std::string_literals;

TEST(ProtobufMessageIndexes, ReadsTheZigzagCountThenIndexes) {
  // [1, 0]: count 2 -> zigzag 4, index 1 -> 2, index 0 -> 0; then the message
  const std::string two = "\x04\x02\x00\x0a\x01x"s;  // the result views it
  auto r = ParseProtobufMessageIndexes(two);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, (std::vector<int>{1, 0}));
  EXPECT_EQ(r->payload, "\x0a\x01x"s);
  // index 70 -> zigzag 140 = 0x8c 0x01, a two-byte varint
  const std::string long_index = "\x02\x8c\x01"s;
  r = ParseProtobufMessageIndexes(long_index);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, std::vector<int>{70});
  EXPECT_TRUE(r->payload.empty());
}

TEST(ProtobufMessageIndexes, ASingleZeroByteIsTheFirstMessage) {
  const std::string short_form = "\x00\x08\x01"s, long_form = "\x02\x00\x08\x01"s;
  auto r = ParseProtobufMessageIndexes(short_form);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, std::vector<int>{0});
  EXPECT_EQ(r->payload, "\x08\x01"s);
  // the long form of [0] means the same
  r = ParseProtobufMessageIndexes(long_form);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, std::vector<int>{0});
  EXPECT_EQ(r->payload, "\x08\x01"s);
}

TEST(ProtobufMessageIndexes, MalformedListsAreBadRecordsSayingWhatIsWrong) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "there are no bytes after the schema id"},
      {"\x80"s, "the count is not a complete varint"},
      {"\x01\x00"s, "the count is -1"},
      {"\xca\x01"s, "the count is 101 (0 to 100 expected)"},
      {"\x04\x02"s, "index 2 of 2 is not a complete varint"},
      {"\x02\x03"s, "index 1 is -2"},
      {"\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s, "index 1 of 1 is not a complete varint"},  // longer than 64 bits
  };
  for (const auto& [bytes, message] : cases) {
    auto r = ParseProtobufMessageIndexes(bytes);
    ASSERT_FALSE(r.ok()) << message;
    EXPECT_EQ(r.status().code(), Status::Code::kBadRecord);
    EXPECT_NE(r.status().message().find(StrCat("its Protobuf message-index list is malformed: ", message)), std::string::npos)
        << r.status().ToString();
  }
}

}  // namespace
}  // namespace sfb
