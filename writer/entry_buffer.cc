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
  if (blocks_.empty() || used_in_block_ + bytes > block_sizes_.back()) {
    const size_t size = std::max(bytes, block_bytes_);
    blocks_.emplace_back(new char[size]);
    block_sizes_.push_back(size);
    memory_bytes_ += size;
    used_in_block_ = 0;
  }
  *locator = index_bits_ | (static_cast<uint64_t>(blocks_.size() - 1) << 32) | used_in_block_;
  char* out = blocks_.back().get() + used_in_block_;
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
    memory_bytes_ -= block_sizes_.back();
    blocks_.pop_back();
    block_sizes_.pop_back();
  }
  used_in_block_ = record_used_;
}

void EntryBuffer::Clear() {
  for (auto& v : index_) std::vector<Entry>().swap(v);
  blocks_.clear();
  block_sizes_.clear();
  used_in_block_ = 0;
  entries_ = 0;
  record_key_groups_.clear();
  record_blocks_ = 0;
  record_used_ = 0;
  memory_bytes_ = index_.capacity() * sizeof(std::vector<Entry>);
}

void SortEntries(std::vector<EntryBuffer::Entry>* entries, const std::vector<EntryBuffer*>& buffers) {
  using Entry = EntryBuffer::Entry;
  auto data = [&buffers](const Entry& e) {
    return buffers[static_cast<size_t>(EntryBuffer::BufferOf(e.locator))]->Data(e.locator);
  };
  std::sort(entries->begin(), entries->end(), [&data](const Entry& a, const Entry& b) {
    if (a.prefix[0] != b.prefix[0]) return a.prefix[0] < b.prefix[0];
    if (a.prefix[1] != b.prefix[1]) return a.prefix[1] < b.prefix[1];
    const int c = std::string_view(data(a), a.key_size).compare(std::string_view(data(b), b.key_size));
    if (c != 0) return c < 0;
    return a.locator < b.locator;
  });
}

}  // namespace sfb
