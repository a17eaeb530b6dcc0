// Tests of SortEntries: whatever the keys (sharing long prefixes, shorter than the index's 16 prefix
// bytes, prefixes of each other, repeated within and across buffers) and however many of them, the
// order is bytewise by key, then by locator: the order a plain comparison of whole keys gives.

#include "writer/entry_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/byte_writer.h"

namespace sfb {
namespace {

// A key of key group 0 as the store encodes them: u16 key group, then the rest.
std::string Key(std::string_view rest) {
  std::string k;
  ByteWriter(&k).U16(0);
  k.append(rest);
  return k;
}

// Keys like a key group's addresses: one function, ids with a shared stem and a number of varying
// length, some ids repeated, and a few short or odd keys among them.
std::string RandomRest(std::mt19937* rng, int shape) {
  std::string rest;
  switch (shape % 4) {
    case 0: {  // "\0\1" function, "user-" stem, a number: the prefix bytes decide
      rest = std::string("\0\1", 2) + "user-" + std::to_string((*rng)() % 100000);
      break;
    }
    case 1: {  // ids longer than the prefix that differ only after it
      rest = std::string("\0\1", 2) + "a-very-long-shared-stem-" + std::to_string((*rng)() % 50);
      break;
    }
    case 2: {  // short keys and zero bytes, where the index pads
      for (int n = static_cast<int>((*rng)() % 6); n > 0; --n) rest.push_back("\0\1\x7f\x80\xff"[(*rng)() % 5]);
      break;
    }
    default: {  // arbitrary bytes
      for (int n = static_cast<int>((*rng)() % 30); n > 0; --n) rest.push_back(static_cast<char>((*rng)() % 256));
    }
  }
  return rest;
}

TEST(SortEntries, OrdersByKeyBytesThenLocatorWhateverTheKeysAndSizes) {
  std::mt19937 rng(20261203);
  for (size_t n : {0u, 1u, 2u, 63u, 64u, 65u, 500u, 5000u, 40000u}) {
    for (int mix : {0, 1, 2, 3, 4}) {
      EntryBuffer a(1, 0, 64 << 10), b(1, 1, 64 << 10), c(1, 2, 64 << 10);
      const std::vector<EntryBuffer*> buffers = {&a, &b, &c};
      for (size_t i = 0; i < n; ++i) {
        // mix 4: every shape at once; else mostly one shape with a few of the others.
        const int shape = mix == 4 || rng() % 10 == 0 ? static_cast<int>(rng() % 4) : mix;
        EntryBuffer* into = buffers[rng() % buffers.size()];
        into->BeginRecord();
        into->Put(0, Key(RandomRest(&rng, shape)), std::to_string(i));
      }
      std::vector<EntryBuffer::Entry> entries;
      for (EntryBuffer* buf : buffers) {
        entries.insert(entries.end(), buf->key_group(0).begin(), buf->key_group(0).end());
      }
      std::shuffle(entries.begin(), entries.end(), rng);
      SortEntries(&entries, buffers);

      auto key_of = [&buffers](const EntryBuffer::Entry& e) {
        return std::string(buffers[static_cast<size_t>(EntryBuffer::BufferOf(e.locator))]->Data(e.locator),
                           e.key_size);
      };
      std::vector<std::tuple<std::string, uint64_t>> expected, got;
      for (EntryBuffer* buf : buffers) {
        for (const auto& e : buf->key_group(0)) expected.emplace_back(key_of(e), e.locator);
      }
      std::sort(expected.begin(), expected.end());
      for (const auto& e : entries) got.emplace_back(key_of(e), e.locator);
      ASSERT_EQ(got.size(), n);
      EXPECT_TRUE(got == expected) << n << " entries, mix " << mix;
    }
  }
}

}  // namespace
}  // namespace sfb
