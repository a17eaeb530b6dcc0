// Tests of RoutedEntries (and the EntryBuffers beneath it): whatever order entries arrive in, from
// however many threads, and however often the memory budget makes them spill, cursors return them in
// bytewise key order, the same sequence as with nothing spilled; the budget is honoured.

#include "writer/routed_entries.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <thread>
#include <utility>

#include "common/byte_writer.h"
#include "common/str_cat.h"
#include "writer/shard_store_fixture.h"

namespace sfb {
namespace {

constexpr int kKeyGroups = 8;

std::string Key(uint16_t key_group, std::string_view rest) {
  std::string k;
  ByteWriter(&k).U16(key_group);
  k.append(rest);
  return k;
}

class RoutedEntriesTest : public ShardStoreFixture {
 protected:
  RoutedEntriesTest() : ShardStoreFixture("sfb-routed-entries-test-") {}

  // Everything, read as the builders do: one cursor per range of key groups.
  static std::vector<std::pair<std::string, std::string>> ReadAll(RoutedEntries* entries,
                                                                  std::vector<std::pair<int, int>> ranges) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto [first, last] : ranges) {
      auto cursor = entries->NewCursor(first, last);
      for (; cursor->Valid(); cursor->Next()) out.emplace_back(cursor->key(), cursor->value());
      EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
    }
    return out;
  }

};

// Keys that share their first 18 bytes, keys shorter than the 18 the index holds, keys that are
// prefixes of others, bytes above 0x7F (unsigned order) and zero bytes where the index pads short keys.
std::vector<std::string> TrickyKeys(std::mt19937* rng, int random_keys) {
  std::vector<std::string> keys;
  for (uint16_t kg = 0; kg < kKeyGroups; ++kg) {
    for (const std::string& rest : {std::string(), std::string(1, '\0'), std::string("\0\1", 2), std::string("a"),
                                   std::string("abcdefghijklmnop"), std::string("abcdefghijklmnopq"),
                                   std::string("abcdefghijklmnopr"), std::string("abcdefghijklmnopr\xff"),
                                   std::string("abcdefghijklmnoq"), std::string("\x80")}) {
      keys.push_back(Key(kg, rest));
    }
  }
  for (int i = 0; i < random_keys; ++i) {
    std::string rest;
    for (int n = static_cast<int>((*rng)() % 24); n > 0; --n) rest.push_back("ab\0\x7f\x80\xff"[(*rng)() % 6]);
    keys.push_back(Key(static_cast<uint16_t>((*rng)() % kKeyGroups), rest));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Adds `keys` (value: "v" + the key's rank) spread over `writers` threads in random order, with a
// record of 1-3 entries at a time and Fit() after each, as reader threads do.
void Load(RoutedEntries* entries, int writers, const std::vector<std::string>& keys, std::mt19937* rng) {
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), *rng);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      RoutedEntries::Writer* writer = entries->writer(w);
      for (size_t i = static_cast<size_t>(w); i < order.size();) {
        writer->BeginRecord();
        for (int n = 0; n < 1 + static_cast<int>(i % 3) && i < order.size(); ++n, i += static_cast<size_t>(writers)) {
          const std::string& k = keys[order[i]];
          writer->Put((static_cast<uint8_t>(k[0]) << 8) | static_cast<uint8_t>(k[1]), k,
                      StrCat("v", std::to_string(order[i])));
        }
        bool spilled;
        Status s = writer->Fit(&spilled);
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
}

TEST_F(RoutedEntriesTest, InMemoryAndSpilledGiveTheSameSequenceInBytewiseOrder) {
  std::mt19937 rng(11);
  const std::vector<std::string> keys = TrickyKeys(&rng, 20000);
  std::vector<std::pair<std::string, std::string>> expected;
  for (size_t i = 0; i < keys.size(); ++i) expected.emplace_back(keys[i], StrCat("v", std::to_string(i)));

  for (int writers : {1, 3}) {
    // Unbounded: nothing leaves memory.
    {
      RoutedEntries entries(store_.get(), kKeyGroups, writers, 1ull << 30);
      Load(&entries, writers, keys, &rng);
      EXPECT_EQ(entries.spills(), 0u);
      EXPECT_TRUE(store_->empty());
      EXPECT_EQ(ReadAll(&entries, {{0, 2}, {3, 3}, {4, kKeyGroups - 1}}), expected) << writers << " writers";
    }
    // A budget a fraction of the entries' size: many spills, and what is left in memory merged in.
    TearDown();
    SetUp();
    {
      RoutedEntries entries(store_.get(), kKeyGroups, writers, 256 << 10);
      Load(&entries, writers, keys, &rng);
      EXPECT_GE(entries.spills(), 3u) << writers << " writers";
      EXPECT_FALSE(store_->empty());
      EXPECT_LT(entries.spilled_entries(), keys.size());  // some stayed in memory
      EXPECT_EQ(ReadAll(&entries, {{0, 0}, {1, kKeyGroups - 1}}), expected) << writers << " writers";
    }
    TearDown();
    SetUp();
  }
}

TEST_F(RoutedEntriesTest, TheBudgetIsHonoured) {
  constexpr uint64_t kBudget = 1 << 20;
  constexpr int kWriters = 2;
  RoutedEntries entries(store_.get(), kKeyGroups, kWriters, kBudget);
  std::vector<std::thread> threads;
  std::atomic<uint64_t> payload{0};
  std::atomic<uint64_t> held{0}, max_held{0};  // key, value and index bytes in memory, of both threads
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      RoutedEntries::Writer* writer = entries.writer(w);
      uint64_t mine = 0;
      for (int i = 0; i < 50000; ++i) {
        const std::string k =
            Key(static_cast<uint16_t>(i % kKeyGroups), StrCat("w", std::to_string(w), "-", std::to_string(i)));
        const std::string v(40, 'v');
        writer->BeginRecord();
        writer->Put(i % kKeyGroups, k, v);
        const uint64_t bytes = k.size() + v.size() + sizeof(EntryBuffer::Entry);
        mine += bytes;
        payload += k.size() + v.size();
        const uint64_t now = held.fetch_add(bytes) + bytes;
        uint64_t m = max_held.load();
        while (now > m && !max_held.compare_exchange_weak(m, now)) {
        }
        bool spilled;
        ASSERT_TRUE(writer->Fit(&spilled).ok());
        if (spilled) held -= std::exchange(mine, 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  // What was reserved never passed the budget, and nearly all of it was used before anything spilled.
  EXPECT_LE(entries.budget().peak(), kBudget);
  EXPECT_GE(entries.budget().peak(), kBudget * 3 / 4);
  // What the threads held at once: within the budget but for the record each thread added since its
  // last Fit().
  EXPECT_LE(max_held.load(), kBudget + kWriters * 100);
  EXPECT_GE(entries.spills(), payload.load() / kBudget);
  EXPECT_EQ(ReadAll(&entries, {{0, kKeyGroups - 1}}).size(), 100000u);
}

TEST_F(RoutedEntriesTest, AnAbandonedRecordLeavesNothing) {
  RoutedEntries entries(store_.get(), kKeyGroups, 1, 1 << 20);
  RoutedEntries::Writer* w = entries.writer(0);
  w->BeginRecord();
  w->Put(1, Key(1, "kept"), "1");
  w->BeginRecord();
  w->Put(1, Key(1, "dropped-a"), "2");
  w->Put(2, Key(2, "dropped-b"), std::string(100 << 10, 'x'));  // a block of its own
  w->AbandonRecord();
  w->BeginRecord();
  w->Put(1, Key(1, "after"), "4");
  auto all = ReadAll(&entries, {{0, kKeyGroups - 1}});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], std::make_pair(Key(1, "after"), std::string("4")));
  EXPECT_EQ(all[1], std::make_pair(Key(1, "kept"), std::string("1")));
}

TEST_F(RoutedEntriesTest, NewestOfEqualKeysWinsInABufferAndOverTheStore) {
  RoutedEntries entries(store_.get(), kKeyGroups, 1, 1 << 20);
  RoutedEntries::Writer* w = entries.writer(0);
  w->BeginRecord();
  w->Put(3, Key(3, "spilled-then-read-again"), "old");
  w->Put(3, Key(3, "spilled"), "s");
  ASSERT_TRUE(w->Spill().ok());
  EXPECT_TRUE(w->empty());
  w->BeginRecord();
  w->Put(3, Key(3, "same-key-longer-than-16-bytes"), "first");
  w->Put(3, Key(3, "same-key-longer-than-16-bytes"), "second");
  w->Put(3, Key(3, "spilled-then-read-again"), "new");
  auto all = ReadAll(&entries, {{0, kKeyGroups - 1}});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], std::make_pair(Key(3, "same-key-longer-than-16-bytes"), std::string("second")));
  EXPECT_EQ(all[1], std::make_pair(Key(3, "spilled"), std::string("s")));
  EXPECT_EQ(all[2], std::make_pair(Key(3, "spilled-then-read-again"), std::string("new")));
}

TEST(EntryBufferTest, ChargesWhatItHolds) {
  EntryBuffer buffer(4, 0, 64 << 10);
  const uint64_t empty = buffer.memory_bytes();
  uint64_t payload = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string k = Key(static_cast<uint16_t>(i % 4), "key-" + std::to_string(i));
    buffer.BeginRecord();
    buffer.Put(i % 4, k, "value");
    payload += k.size() + 5 + sizeof(EntryBuffer::Entry);
  }
  EXPECT_EQ(buffer.entries(), 10000u);
  EXPECT_GE(buffer.memory_bytes() - empty, payload);
  EXPECT_LE(buffer.memory_bytes() - empty, payload * 2);
  buffer.Clear();
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.memory_bytes(), empty);
}

}  // namespace
}  // namespace sfb
