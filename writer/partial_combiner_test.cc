// PartialCombiner's address table: many addresses (the table grows while forwards are staged), ids
// longer than a bucket holds and ids that are not ASCII (key groups from their UTF-16 form), addresses
// whose records were all abandoned, and two routes with different states meeting at one address.
// That the partials give the replay's values is router/combinable_rules_test.cc's part.

#include "writer/partial_combiner.h"

#include <gtest/gtest.h>

#include <map>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/java_string.h"
#include "savepoint/key_groups.h"

namespace sfb {
namespace {

CombineRule Rule(uint16_t slot, CombineOp op, size_t field) {
  CombineRule r;
  r.slot = slot;
  r.op = op;
  r.field = field;
  r.repr = op == CombineOp::kLast || op == CombineOp::kMax ? ValueRepr::kBytes : ValueRepr::kInt64;
  return r;
}

// What Flush gave for one address.
struct Flushed {
  int key_group = 0;
  std::string key;
  std::vector<StatePartial> partials;
};

// Flushes `c` into a map by id (read back from the key's StringValue), checking each key's layout.
std::map<std::string, Flushed> FlushAll(PartialCombiner* c, uint16_t function) {
  std::map<std::string, Flushed> out;
  c->Flush(77, 3, 128, [&](int key_group, std::string_view key, std::string_view value) {
    ByteReader r(key.substr(4, key.size() - 4 - 14));
    std::u16string scratch;
    std::string id;
    ASSERT_TRUE(ReadStringValueUtf8(&r, &scratch, &id).ok());
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_EQ(static_cast<uint8_t>(key[0]) << 8 | static_cast<uint8_t>(key[1]), key_group);
    EXPECT_EQ(static_cast<uint8_t>(key[2]) << 8 | static_cast<uint8_t>(key[3]), function);
    std::string tail;
    ByteWriter w(&tail);
    w.U16(kPartialSource);
    w.U64(77);
    w.U32(3);
    EXPECT_EQ(key.substr(key.size() - 14), tail);
    Flushed& f = out[id];
    EXPECT_TRUE(f.key.empty()) << "two entries for " << id;
    f.key_group = key_group;
    f.key = std::string(key);
    ASSERT_TRUE(DecodePartials(value, &f.partials).ok());
  });
  return out;
}

std::u16string Utf16(const std::string& s) {
  std::u16string out;
  EXPECT_TRUE(Utf8ToUtf16(s, &out));
  return out;
}

TEST(PartialCombinerTest, ManyAddressesWithLongAndNonAsciiIdsWhileTheTableGrows) {
  // Each record forwards to two addresses, so the table also grows between a record's Stage calls.
  const std::vector<CombineRule> rules = {Rule(0, CombineOp::kCount, 0), Rule(1, CombineOp::kSum, 1)};
  auto schema = std::make_shared<const Schema>(std::vector<std::string>{"route", "amount"});
  auto id_of = [](int i) {
    switch (i % 3) {
      case 0: return "u-" + std::to_string(i);
      case 1: return "an-id-longer-than-a-bucket-holds-" + std::to_string(i);
      default: return "\xC3\xBC\xE2\x82\xAC-" + std::to_string(i);  // "ü€-<i>"
    }
  };
  const int addresses = 6000;
  PartialCombiner c;
  std::map<std::string, std::pair<int64_t, int64_t>> expected;  // id -> (count, sum)
  uint64_t position = 0;
  uint64_t memory = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < addresses; i += 2) {
      const Record payload(schema, {Value::Int(0), Value::Int(i + round)});
      c.Stage(9, id_of(i), &rules, payload, RecordOrder{0, position, 0});
      c.Stage(9, id_of(i + 1), &rules, payload, RecordOrder{0, position, 1});
      c.Commit();
      ++position;
      for (const std::string& id : {id_of(i), id_of(i + 1)}) {
        expected[id].first += 1;
        expected[id].second += i + round;
      }
      EXPECT_GE(c.memory_bytes(), memory);
      memory = c.memory_bytes();
    }
  }
  c.Fold();
  EXPECT_EQ(c.addresses(), static_cast<size_t>(addresses));
  EXPECT_GT(c.memory_bytes(), addresses * 2 * sizeof(StatePartial));
  const auto flushed = FlushAll(&c, 9);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.memory_bytes(), 0u);
  ASSERT_EQ(flushed.size(), expected.size());
  for (const auto& [id, want] : expected) {
    auto it = flushed.find(id);
    ASSERT_NE(it, flushed.end()) << id;
    EXPECT_EQ(it->second.key_group, KeyGroupForId(Utf16(id), 128)) << id;
    std::string head;
    ByteWriter w(&head);
    w.U16(static_cast<uint16_t>(it->second.key_group));
    w.U16(9);
    std::u16string scratch;
    ASSERT_TRUE(AppendStringValueUtf8(&head, id, &scratch));
    EXPECT_EQ(it->second.key.substr(0, head.size()), head) << id;
    ASSERT_EQ(it->second.partials.size(), 2u) << id;
    EXPECT_EQ(it->second.partials[0].number, want.first) << id;
    EXPECT_EQ(it->second.partials[1].number, want.second) << id;
    EXPECT_EQ(it->second.partials[1].op, CombineOp::kSum);
  }
}

TEST(PartialCombinerTest, AnAddressWhoseRecordsWereAllAbandonedIsNotFlushed) {
  const std::vector<CombineRule> rules = {Rule(0, CombineOp::kCount, 0)};
  auto schema = std::make_shared<const Schema>(std::vector<std::string>{"route"});
  const Record payload(schema, {Value::Int(0)});
  PartialCombiner c;
  c.Stage(0, "gone", &rules, payload, RecordOrder{0, 1, 0});
  c.Abandon();
  EXPECT_TRUE(c.empty());
  c.Stage(0, "kept", &rules, payload, RecordOrder{0, 2, 0});
  c.Stage(0, "gone", &rules, payload, RecordOrder{0, 2, 1});
  c.Abandon();
  c.Stage(0, "kept", &rules, payload, RecordOrder{0, 3, 0});
  c.Commit();
  EXPECT_FALSE(c.empty());  // kept, though its batch is not folded yet
  // A record abandoned after others were kept, before their batch is folded, drops only its own forwards.
  c.Stage(0, "gone", &rules, payload, RecordOrder{0, 4, 0});
  c.Stage(0, "kept", &rules, payload, RecordOrder{0, 4, 1});
  c.Abandon();
  c.Fold();
  EXPECT_EQ(c.addresses(), 1u);
  const auto flushed = FlushAll(&c, 0);
  ASSERT_EQ(flushed.size(), 1u);
  ASSERT_EQ(flushed.count("kept"), 1u);
  ASSERT_EQ(flushed.at("kept").partials.size(), 1u);
  EXPECT_EQ(flushed.at("kept").partials[0].number, 1);  // the abandoned records counted nothing
}

TEST(PartialCombinerTest, TwoRoutesWithDifferentStatesMeetAtOneAddress) {
  // Route a: count (slot 0) and last text (slot 1); route b: last text (slot 1) and max text (slot 2),
  // in another order, so the address's partials must make room for slot 2 after a's two.
  const std::vector<CombineRule> a = {Rule(0, CombineOp::kCount, 0), Rule(1, CombineOp::kLast, 1)};
  const std::vector<CombineRule> b = {Rule(2, CombineOp::kMax, 1), Rule(1, CombineOp::kLast, 2)};
  auto schema_a = std::make_shared<const Schema>(std::vector<std::string>{"route", "page"});
  auto schema_b = std::make_shared<const Schema>(std::vector<std::string>{"route", "max", "page"});
  PartialCombiner c;
  const std::string long_text(40, 'x');  // held outside the string's own buffer: counted in memory_bytes
  c.Stage(1, "user-1", &a, Record(schema_a, {Value::Int(0), Value::Bytes("/a")}), RecordOrder{0, 5, 0});
  c.Commit();
  c.Fold();
  const uint64_t before = c.memory_bytes();
  c.Stage(1, "user-1", &b, Record(schema_b, {Value::Int(1), Value::Bytes(long_text), Value::Bytes("/b")}),
          RecordOrder{1, 1, 0});
  c.Stage(1, "user-2", &a, Record(schema_a, {Value::Int(0), Value::Null()}), RecordOrder{1, 1, 1});
  c.Commit();
  c.Fold();
  EXPECT_GE(c.memory_bytes(), before + long_text.size());
  c.Stage(1, "user-1", &a, Record(schema_a, {Value::Int(0), Value::Bytes("/c")}), RecordOrder{0, 9, 0});
  c.Commit();
  const auto flushed = FlushAll(&c, 1);
  ASSERT_EQ(flushed.size(), 2u);
  const std::vector<StatePartial>& p = flushed.at("user-1").partials;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].slot, 0);
  EXPECT_EQ(p[0].number, 2);  // two records of route a
  EXPECT_EQ(p[1].slot, 1);
  EXPECT_EQ(p[1].text, "/b");  // source 1 comes after source 0's position 9
  EXPECT_EQ(p[2].slot, 2);
  EXPECT_EQ(p[2].op, CombineOp::kMax);
  EXPECT_EQ(p[2].text, long_text);
  const std::vector<StatePartial>& q = flushed.at("user-2").partials;
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].number, 1);
  EXPECT_FALSE(q[1].has);  // a NULL page: the state stays unset
}

}  // namespace
}  // namespace sfb
