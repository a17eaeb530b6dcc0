// Tests of ShardStore's loaders: whatever order entries arrive in, from however many loaders and
// files, a cursor returns them in RocksDB's bytewise key order, and the newest of equal keys wins.

#include "writer/shard_store.h"

#include <gtest/gtest.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "common/byte_writer.h"
#include "common/str_cat.h"

namespace sfb {
namespace {

class ShardStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sfb-shard-store-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ShardStore::Options o;
    o.dir = dir_ + "/store";
    auto store = ShardStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Everything in key groups [first, last], as (key, value) in cursor order.
  std::vector<std::pair<std::string, std::string>> Scan(int first = 0, int last = 0xFFFE) {
    std::vector<std::pair<std::string, std::string>> out;
    auto cursor = store_->NewCursor(first, last);
    for (cursor->it()->SeekToFirst(); cursor->it()->Valid(); cursor->it()->Next()) {
      out.emplace_back(cursor->it()->key().ToString(), cursor->it()->value().ToString());
    }
    EXPECT_TRUE(cursor->it()->status().ok());
    return out;
  }

  std::string dir_;
  std::unique_ptr<ShardStore> store_;
};

std::string Key(uint16_t key_group, std::string_view rest) {
  std::string k;
  ByteWriter(&k).U16(key_group);
  k.append(rest);
  return k;
}

TEST_F(ShardStoreTest, KeysComeOutInBytewiseOrderAcrossLoadersAndFiles) {
  // Keys that share their first 16 bytes, keys shorter than 8 bytes, keys that are prefixes of others,
  // bytes above 0x7F (unsigned order) and zero bytes where the sort pads short keys.
  std::vector<std::string> keys = {Key(1, ""),
                                   Key(1, std::string(1, '\0')),
                                   Key(1, std::string("\0\1", 2)),
                                   Key(1, "a"),
                                   Key(1, "abcdefghijklmnop"),
                                   Key(1, "abcdefghijklmnopq"),
                                   Key(1, "abcdefghijklmnopr"),
                                   Key(1, "abcdefghijklmnopr\xff"),
                                   Key(1, "abcdefghijklmnoq"),
                                   Key(1, "\x80"),
                                   Key(2, "a"),
                                   Key(0x8000, "z")};
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string rest;
    for (int n = static_cast<int>(rng() % 24); n > 0; --n) {
      rest.push_back(static_cast<char>("ab\0\x7f\x80\xff"[rng() % 6]));
    }
    keys.push_back(Key(static_cast<uint16_t>(rng() % 4), rest));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<std::string> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  auto a = store_->NewLoader(1 << 20), b = store_->NewLoader(1 << 20);
  for (size_t i = 0; i < shuffled.size(); ++i) {
    ShardStore::Loader* loader = i % 2 ? a.get() : b.get();
    loader->Put(shuffled[i], StrCat("v", std::to_string(i)));
    if (i % 500 == 499) {
      ASSERT_TRUE(loader->Flush().ok());  // several files per loader
    }
  }
  ASSERT_TRUE(a->Flush().ok());
  ASSERT_TRUE(b->Flush().ok());
  ASSERT_TRUE(a->Flush().ok());  // flushing an empty loader adds nothing
  auto all = Scan();
  ASSERT_EQ(all.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(all[i].first, keys[i]) << i;

  // A cursor sees only its key groups.
  for (const auto& [k, v] : Scan(2, 0x8000)) EXPECT_GE(k.substr(0, 2), Key(2, ""));
  EXPECT_EQ(Scan(0x8000, 0x8000).size(), 1u);
}

TEST_F(ShardStoreTest, NewestOfEqualKeysWinsWithinALoaderAndAcrossFiles) {
  auto loader = store_->NewLoader(1 << 20);
  loader->Put(Key(3, "same-key-longer-than-16"), "first");
  loader->Put(Key(3, "other"), "x");
  loader->Put(Key(3, "same-key-longer-than-16"), "second");
  ASSERT_TRUE(loader->Flush().ok());
  auto all = Scan();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].first, Key(3, "same-key-longer-than-16"));
  EXPECT_EQ(all[1].second, "second");

  // A later file (a re-read split after --resume) replaces what an earlier one held.
  loader->Put(Key(3, "same-key-longer-than-16"), "third");
  ASSERT_TRUE(loader->Flush().ok());
  all = Scan();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].second, "third");
}

TEST_F(ShardStoreTest, LoadersOnSeveralThreadsFlushConcurrently) {
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &results] {
      auto loader = store_->NewLoader(64 << 10);  // small: many files, flushed while other threads flush
      Status s;
      for (int i = 0; i < kPerThread && s.ok(); ++i) {
        loader->Put(Key(static_cast<uint16_t>(i % 7), StrCat("t", std::to_string(t), "-", std::to_string(i))), "v");
        if (loader->full()) s = loader->Flush();
      }
      results[t] = s.ok() ? loader->Flush() : s;
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
  auto all = Scan();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 1; i < all.size(); ++i) ASSERT_LT(all[i - 1].first, all[i].first) << i;
}

TEST_F(ShardStoreTest, RollbackDropsWhatFollowsTheMark) {
  auto loader = store_->NewLoader(1 << 20);
  loader->Put(Key(1, "kept"), "1");
  const auto mark = loader->mark();
  loader->Put(Key(1, "dropped-a"), "2");
  loader->Put(Key(1, "dropped-b"), "3");
  loader->RollbackTo(mark);
  EXPECT_EQ(loader->buffered_entries(), 1u);
  loader->Put(Key(1, "after"), "4");
  ASSERT_TRUE(loader->Flush().ok());
  auto all = Scan();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, Key(1, "after"));
  EXPECT_EQ(all[1].first, Key(1, "kept"));
  EXPECT_EQ(all[1].second, "1");
}

TEST_F(ShardStoreTest, LoaderReportsFullAtItsBudgetAndIsEmptyAfterFlush) {
  auto loader = store_->NewLoader(4096);
  int puts = 0;
  while (!loader->full()) loader->Put(Key(1, StrCat("k", std::to_string(puts++))), std::string(50, 'v'));
  EXPECT_GT(puts, 10);
  EXPECT_LT(puts, 80);
  ASSERT_TRUE(loader->Flush().ok());
  EXPECT_FALSE(loader->full());
  EXPECT_EQ(loader->buffered_entries(), 0u);
  EXPECT_EQ(Scan().size(), static_cast<size_t>(puts));
  EXPECT_GT(store_->ApproximateDiskBytes(), 0u);
}

TEST_F(ShardStoreTest, ReopenedStoreKeepsAddedFiles) {
  auto loader = store_->NewLoader(1 << 20);
  loader->Put(Key(5, "survives"), "yes");
  ASSERT_TRUE(loader->Flush().ok());
  ASSERT_TRUE(store_->FinishLoad().ok());
  loader.reset();
  store_.reset();
  ShardStore::Options o;
  o.dir = dir_ + "/store";
  o.reopen = true;
  auto reopened = ShardStore::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(*reopened);
  auto all = Scan();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].second, "yes");
}

}  // namespace
}  // namespace sfb
