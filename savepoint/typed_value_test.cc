// The statefun SDK byte forms of built-in typed values, and the value records around them.

#include "savepoint/typed_value.h"

#include <gtest/gtest.h>

#include <limits>

#include "savepoint/state_descriptor.h"

namespace sfb {
namespace {

std::string Hex(const std::string& b) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) s += std::string{k[c >> 4], k[c & 15]};
  return s;
}

TEST(TypedValue, MinimalProto3FormsAsTheSdksWriteThem) {
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(int32_t{3})), "0d03000000");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(int32_t{-1})), "0dffffffff");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(int32_t{0})), "");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(int64_t{1} << 40)), "090000000000010000");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(1.5f)), "0d0000c03f");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(0.0f)), "");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(-0.0)), "090000000000000080");  // -0.0 is not the default
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(true)), "0801");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(false)), "");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(std::string("hé"))), "0a0368c3a9");
  EXPECT_EQ(Hex(EncodeStatefunBuiltin(std::string(200, 'x'))).substr(0, 6), "0ac801");
}

TEST(TypedValue, DecodeAcceptsAnyValidEncoding) {
  StateValue v;
  ASSERT_TRUE(DecodeStatefunBuiltin(ValueRepr::kInt32, "", &v).ok());
  EXPECT_EQ(std::get<int32_t>(v), 0);
  // An unknown field before field 1, and field 1 twice (the last wins).
  const std::string bytes = std::string("\x10\x05\x0d\x01\x00\x00\x00\x0d\x02\x00\x00\x00", 12);
  ASSERT_TRUE(DecodeStatefunBuiltin(ValueRepr::kInt32, bytes, &v).ok());
  EXPECT_EQ(std::get<int32_t>(v), 2);
  EXPECT_FALSE(DecodeStatefunBuiltin(ValueRepr::kInt64, std::string("\x0d\x01\x00\x00\x00", 5), &v).ok());
  EXPECT_FALSE(DecodeStatefunBuiltin(ValueRepr::kBytes, std::string("\x0a\x05" "ab", 4), &v).ok());
}

TEST(StateDescriptor, ValueRecordsRoundTripWithAndWithoutTtl) {
  auto remote = StateDescriptor::Make("a/b", "s", StateKind::kRemote, "io.statefun.types/long", Codec::kBuiltin,
                                      TtlMode::kAfterWrite, 1000);
  ASSERT_TRUE(remote.ok());
  std::string rec;
  remote->AppendValue(&rec, int64_t{-5}, 1700000000000);
  EXPECT_EQ(Hex(rec), "0000018bcfe56800" "00000009" "09fbffffffffffffff");
  StateValue v;
  int64_t ts;
  ASSERT_TRUE(remote->DecodeValue(rec, &v, &ts).ok());
  EXPECT_EQ(std::get<int64_t>(v), -5);
  EXPECT_EQ(ts, 1700000000000);

  auto str = StateDescriptor::Make("a/b", "s", StateKind::kEmbedded, "java.lang.String", Codec::kBuiltin,
                                   TtlMode::kNone, 0);
  rec.clear();
  str->AppendValue(&rec, std::string("é"), 0);
  EXPECT_EQ(Hex(rec), "02e901");
  auto d = StateDescriptor::Make("a/b", "s", StateKind::kEmbedded, "java.lang.Double", Codec::kBuiltin, TtlMode::kNone, 0);
  rec.clear();
  d->AppendValue(&rec, 1.0, 0);
  EXPECT_EQ(Hex(rec), "3ff0000000000000");
  EXPECT_FALSE(d->DecodeValue(rec + "x", &v, &ts).ok());  // trailing bytes
}

TEST(StateDescriptor, RejectsWhatFlinkWouldNotRestore) {
  EXPECT_FALSE(StateDescriptor::Make("greeter", "s", StateKind::kRemote, "io.statefun.types/int", Codec::kBuiltin,
                                     TtlMode::kNone, 0).ok());
  EXPECT_FALSE(StateDescriptor::Make("a/b", "s.t", StateKind::kRemote, "io.statefun.types/int", Codec::kBuiltin,
                                     TtlMode::kNone, 0).ok());
  EXPECT_FALSE(StateDescriptor::Make("a/b", "s", StateKind::kRemote, "Profile", Codec::kJson, TtlMode::kNone, 0).ok());
  EXPECT_FALSE(StateDescriptor::Make("a/b", "s", StateKind::kRemote, "io.statefun.types/int", Codec::kJson,
                                     TtlMode::kNone, 0).ok());
  EXPECT_FALSE(StateDescriptor::Make("a/b", "s", StateKind::kEmbedded, "java.lang.Float", Codec::kBuiltin,
                                     TtlMode::kNone, 0).ok());
}

}  // namespace
}  // namespace sfb
