// Tests of ShardStore: whatever sorted runs it is given, from however many threads and files, a cursor
// returns their entries in bytewise key order, a later run replaces an equal key, and a reopened store
// keeps what was added.

#include "writer/shard_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <utility>

#include "common/byte_writer.h"
#include "common/str_cat.h"
#include "writer/shard_store_fixture.h"

namespace sfb {
namespace {

class VectorCursor final : public EntryCursor {
 public:
  explicit VectorCursor(std::vector<std::pair<std::string, std::string>> entries) : entries_(std::move(entries)) {}
  bool Valid() const override { return i_ < entries_.size(); }
  std::string_view key() const override { return entries_[i_].first; }
  std::string_view value() const override { return entries_[i_].second; }
  void Next() override { ++i_; }
  Status status() const override { return Status::OK(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  size_t i_ = 0;
};

class ShardStoreTest : public ShardStoreFixture {
 protected:
  ShardStoreTest() : ShardStoreFixture("sfb-shard-store-test-") {}

  // Everything in key groups [first, last], as (key, value) in cursor order.
  std::vector<std::pair<std::string, std::string>> Scan(int first = 0, int last = 0xFFFE) {
    std::vector<std::pair<std::string, std::string>> out;
    auto cursor = store_->NewCursor(first, last);
    for (; cursor->Valid(); cursor->Next()) out.emplace_back(cursor->key(), cursor->value());
    EXPECT_TRUE(cursor->status().ok());
    return out;
  }

  // Adds (key, value) pairs, sorted here, as one run.
  void AddRun(std::vector<std::pair<std::string, std::string>> run) {
    std::sort(run.begin(), run.end());
    VectorCursor cursor(std::move(run));
    Status s = store_->AddSortedRun(&cursor);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

};

std::string Key(uint16_t key_group, std::string_view rest) {
  std::string k;
  ByteWriter(&k).U16(key_group);
  k.append(rest);
  return k;
}

TEST_F(ShardStoreTest, KeysComeOutInBytewiseOrderAcrossRunsAndFiles) {
  // Keys that share a prefix, keys that are prefixes of others, bytes above 0x7F (unsigned order).
  std::vector<std::string> keys = {Key(1, ""),       Key(1, std::string(1, '\0')), Key(1, "a"),
                                   Key(1, "ab"),     Key(1, "abcdefghijklmnopq"),    Key(1, "\x80"),
                                   Key(2, "a"),      Key(0x8000, "z")};
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string rest;
    for (int n = static_cast<int>(rng() % 24); n > 0; --n) rest.push_back(static_cast<char>("ab\0\x7f\x80\xff"[rng() % 6]));
    keys.push_back(Key(static_cast<uint16_t>(rng() % 4), rest));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<std::string> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::vector<std::pair<std::string, std::string>> run;
  for (size_t i = 0; i < shuffled.size(); ++i) {
    run.emplace_back(shuffled[i], StrCat("v", std::to_string(i)));
    if (run.size() == 500) AddRun(std::exchange(run, {}));  // several files
  }
  AddRun(run);
  auto all = Scan();
  ASSERT_EQ(all.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(all[i].first, keys[i]) << i;

  // A cursor sees only its key groups.
  for (const auto& [k, v] : Scan(2, 0x8000)) EXPECT_GE(k.substr(0, 2), Key(2, ""));
  EXPECT_EQ(Scan(0x8000, 0x8000).size(), 1u);
}

TEST_F(ShardStoreTest, ALaterRunReplacesAnEqualKey) {
  EXPECT_TRUE(store_->empty());
  AddRun({{Key(3, "same-key-longer-than-16"), "first"}, {Key(3, "other"), "x"}});
  EXPECT_FALSE(store_->empty());
  // A later file (a re-read split after --resume) replaces what an earlier one held.
  AddRun({{Key(3, "same-key-longer-than-16"), "second"}});
  auto all = Scan();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].first, Key(3, "same-key-longer-than-16"));
  EXPECT_EQ(all[1].second, "second");
}

TEST_F(ShardStoreTest, RunsFromSeveralThreadsAreAddedConcurrently) {
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &results] {
      std::vector<std::pair<std::string, std::string>> run;
      for (int i = 0; i < kPerThread && results[t].ok(); ++i) {
        run.emplace_back(Key(static_cast<uint16_t>(i % 7), StrCat("t", std::to_string(t), "-", std::to_string(i))), "v");
        if (run.size() == 1000 || i + 1 == kPerThread) {  // many files, added while other threads add theirs
          std::sort(run.begin(), run.end());
          VectorCursor cursor(std::exchange(run, {}));
          results[t] = store_->AddSortedRun(&cursor);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
  auto all = Scan();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 1; i < all.size(); ++i) ASSERT_LT(all[i - 1].first, all[i].first) << i;
  EXPECT_GT(store_->ApproximateDiskBytes(), 0u);
}

TEST_F(ShardStoreTest, AnEmptyRunAddsNothing) {
  VectorCursor empty({});
  ASSERT_TRUE(store_->AddSortedRun(&empty).ok());
  EXPECT_TRUE(store_->empty());
  EXPECT_TRUE(Scan().empty());
}

TEST_F(ShardStoreTest, ReopenedStoreKeepsAddedFiles) {
  AddRun({{Key(5, "survives"), "yes"}});
  ASSERT_TRUE(store_->FinishLoad().ok());
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
