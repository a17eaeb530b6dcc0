// ShardStoreFixture: a gtest fixture holding an empty ShardStore in a scratch directory of its own, made
// before each test and removed after it. For the tests of the store and of what reads from it.
//
//   class RoutedEntriesTest : public ShardStoreFixture {
//    protected:
//     RoutedEntriesTest() : ShardStoreFixture("sfb-routed-entries-test-") {}
//   };
#ifndef SFB_WRITER_SHARD_STORE_FIXTURE_H_
#define SFB_WRITER_SHARD_STORE_FIXTURE_H_

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "writer/shard_store.h"

namespace sfb {

class ShardStoreFixture : public ::testing::Test {
 protected:
  // The directory is temp/<prefix><pid>, so concurrent test processes never share one.
  explicit ShardStoreFixture(const std::string& prefix)
      : dir_(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {}

  void SetUp() override {
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

  const std::string dir_;
  std::unique_ptr<ShardStore> store_;
};

}  // namespace sfb

#endif  // SFB_WRITER_SHARD_STORE_FIXTURE_H_
