#include "common/huge_page_block.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(HugePageBlockTest, AMultipleOfTheHugePageSizeIsAlignedToIt) {
  HugePageBlock block(2 * HugePageBlock::kHugePageBytes);
  ASSERT_NE(block.data(), nullptr);
  EXPECT_EQ(block.size(), 2 * HugePageBlock::kHugePageBytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block.data()) % HugePageBlock::kHugePageBytes, 0u);
  // Every byte is usable: the first and last of each page-sized stretch are written and read back.
  for (size_t i = 0; i < block.size(); i += 4096) block.data()[i] = static_cast<char>(i >> 12);
  block.data()[block.size() - 1] = 'z';
  for (size_t i = 0; i < block.size(); i += 4096) ASSERT_EQ(block.data()[i], static_cast<char>(i >> 12));
  EXPECT_EQ(block.data()[block.size() - 1], 'z');
}

TEST(HugePageBlockTest, OtherSizesAreHeapMemory) {
  HugePageBlock block(100);
  ASSERT_NE(block.data(), nullptr);
  EXPECT_EQ(block.size(), 100u);
  std::memset(block.data(), 'x', block.size());
  EXPECT_EQ(block.data()[99], 'x');
}

TEST(HugePageBlockTest, AMovedBlockKeepsItsMemoryAndTheSourceIsEmpty) {
  HugePageBlock a(HugePageBlock::kHugePageBytes);
  a.data()[5] = 'q';
  char* const memory = a.data();
  HugePageBlock b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), memory);
  EXPECT_EQ(b.data()[5], 'q');
  HugePageBlock c(64);
  c = std::move(b);  // c's heap memory is freed (LeakSanitizer would see it if not)
  EXPECT_EQ(c.data(), memory);
  EXPECT_EQ(b.data(), nullptr);
}

}  // namespace
}  // namespace sfb
