#include "writer/entry_buffer.h"

#include <algorithm>
#include <cstring>

namespace sfb {
namespace {

// Big-endian number of key bytes [from, from + 8), zero-padded. Zero padding keeps the order bytewise:
// where a shorter key's padding first differs from a longer key, the longer one has a non-zero byte
// there and the shorter key is its prefix so far.
inline uint64_t KeyPrefix(std::string_view key, size_t from) {
  if (key.size() >= from + 8) {
    uint64_t v;
    std::memcpy(&v, key.data() + from, 8);
    return __builtin_bswap64(v);
  }
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (key.size() > from) std::memcpy(b, key.data() + from, key.size() - from);
  uint64_t v;
  std::memcpy(&v, b, 8);
  return __builtin_bswap64(v);
}

}  // namespace

EntryBuffer::EntryBuffer(int key_groups, int index, size_t block_bytes)
    : index_bits_(static_cast<uint64_t>(index) << 54), block_bytes_(block_bytes),
      index_(static_cast<size_t>(key_groups)) {
  memory_bytes_ = index_.capacity() * sizeof(std::vector<Entry>);
}

char* EntryBuffer::Allocate(size_t bytes, uint64_t* locator) {
  if (blocks_.empty() || used_in_block_ + bytes > blocks_.back().size()) {
    const size_t size = std::max(bytes, block_bytes_);
    blocks_.emplace_back(size);
    memory_bytes_ += size;
    used_in_block_ = 0;
  }
  *locator = index_bits_ | (static_cast<uint64_t>(blocks_.size() - 1) << 32) | used_in_block_;
  char* out = blocks_.back().data() + used_in_block_;
  used_in_block_ += bytes;
  return out;
}

void EntryBuffer::ChargeIndexGrowth(std::vector<Entry>* v) {
  // Grown by half rather than doubled: the capacity not yet used is charged to the budget too.
  const size_t old = v->capacity();
  const size_t want = std::max<size_t>(16, old + old / 2);
  v->reserve(want);
  memory_bytes_ += (v->capacity() - old) * sizeof(Entry);
}

void EntryBuffer::BeginRecord() {
  record_key_groups_.clear();
  record_blocks_ = blocks_.size();
  record_used_ = used_in_block_;
}

void EntryBuffer::Put(int key_group, std::string_view key, std::string_view value) {
  uint64_t locator;
  char* p = Allocate(key.size() + value.size(), &locator);
  std::memcpy(p, key.data(), key.size());
  std::memcpy(p + key.size(), value.data(), value.size());
  std::vector<Entry>& v = index_[static_cast<size_t>(key_group)];
  if (v.size() == v.capacity()) ChargeIndexGrowth(&v);
  v.push_back(Entry{{KeyPrefix(key, 2), KeyPrefix(key, 10)}, locator, static_cast<uint32_t>(key.size()),
                    static_cast<uint32_t>(value.size())});
  ++entries_;
  record_key_groups_.push_back(key_group);
}

void EntryBuffer::AbandonRecord() {
  for (int kg : record_key_groups_) index_[static_cast<size_t>(kg)].pop_back();
  entries_ -= record_key_groups_.size();
  record_key_groups_.clear();
  while (blocks_.size() > record_blocks_) {
    memory_bytes_ -= blocks_.back().size();
    blocks_.pop_back();
  }
  used_in_block_ = record_used_;
}

void EntryBuffer::Clear() {
  for (auto& v : index_) std::vector<Entry>().swap(v);
  blocks_.clear();
  used_in_block_ = 0;
  entries_ = 0;
  record_key_groups_.clear();
  record_blocks_ = 0;
  record_used_ = 0;
  memory_bytes_ = index_.capacity() * sizeof(std::vector<Entry>);
}

namespace {

using Entry = EntryBuffer::Entry;

// Byte `i` (0-15) of an entry's key prefix, key byte 2 + i.
inline unsigned PrefixByte(const Entry& e, int i) {
  return static_cast<unsigned>(e.prefix[i >> 3] >> (56 - 8 * (i & 7))) & 0xFF;
}

// Ranges this small are left to std::sort: a radix step's passes cost more than its comparisons save.
constexpr size_t kComparisonSortBelow = 64;
// A radix step scatters through a scratch copy of the range; past this many entries (64 MB of scratch)
// the index is sorted by comparison instead, so a sort needs at most that beyond what the budget holds.
constexpr size_t kRadixScratchLimit = size_t{2} << 20;

// Most-significant-byte radix sort of the key prefix, from byte `from` on (earlier bytes are equal in
// `a`): a pass finds the first prefix byte that differs within the range (keys of one function and key
// group share their first bytes, so those cost no step), entries are distributed by that byte, and each
// bucket goes on from the next byte. Equal prefixes, and small buckets, are sorted by `less`, which
// orders by prefix first, so the result is exactly std::sort's with `less`.
template <typename Less>
void RadixSort(Entry* a, Entry* scratch, size_t n, int from, const Less& less) {
  if (n < kComparisonSortBelow || from >= 16) {
    std::sort(a, a + n, less);
    return;
  }
  uint64_t diff0 = 0, diff1 = 0;
  for (size_t i = 1; i < n; ++i) {
    diff0 |= a[i].prefix[0] ^ a[0].prefix[0];
    diff1 |= a[i].prefix[1] ^ a[0].prefix[1];
  }
  int byte;
  if (diff0 != 0) {
    byte = __builtin_clzll(diff0) / 8;
  } else if (diff1 != 0) {
    byte = 8 + __builtin_clzll(diff1) / 8;
  } else {
    std::sort(a, a + n, less);  // one prefix: the rest of the key and the locator decide
    return;
  }
  size_t start[257] = {0};
  for (size_t i = 0; i < n; ++i) ++start[PrefixByte(a[i], byte) + 1];
  for (int b = 0; b < 256; ++b) start[b + 1] += start[b];
  size_t next[256];
  std::memcpy(next, start, sizeof next);
  for (size_t i = 0; i < n; ++i) scratch[next[PrefixByte(a[i], byte)]++] = a[i];
  std::memcpy(a, scratch, n * sizeof(Entry));
  for (int b = 0; b < 256; ++b) {
    const size_t size = start[b + 1] - start[b];
    if (size > 1) RadixSort(a + start[b], scratch + start[b], size, byte + 1, less);
  }
}

}  // namespace

void SortEntries(std::vector<Entry>* entries, const std::vector<EntryBuffer*>& buffers) {
  auto data = [&buffers](const Entry& e) {
    return buffers[static_cast<size_t>(EntryBuffer::BufferOf(e.locator))]->Data(e.locator);
  };
  auto less = [&data](const Entry& a, const Entry& b) {
    if (a.prefix[0] != b.prefix[0]) return a.prefix[0] < b.prefix[0];
    if (a.prefix[1] != b.prefix[1]) return a.prefix[1] < b.prefix[1];
    const int c = std::string_view(data(a), a.key_size).compare(std::string_view(data(b), b.key_size));
    if (c != 0) return c < 0;
    return a.locator < b.locator;
  };
  if (entries->size() > kRadixScratchLimit) {
    std::sort(entries->begin(), entries->end(), less);
    return;
  }
  std::unique_ptr<Entry[]> scratch(new Entry[entries->size()]);  // not zeroed: every slot is written first
  RadixSort(entries->data(), scratch.get(), entries->size(), 0, less);
}

}  // namespace sfb
