// EntryBuffer: one reader thread's routed entries, held in memory by key group until they are built
// or spilled.
//
// An entry is a (key, value) pair in the spill store's encoding (writer/shard_store.h): the key starts
// with its big-endian u16 key group, and bytewise key order is the order the savepoint is built in.
// Key and value bytes are appended to an arena of fixed-size blocks (never moved, so views into them
// stay valid; blocks of 2 MB are huge-page backed where the kernel allows, common/huge_page_block.h); each key group has an index of fixed-size Entry records pointing into the arena, with
// the first 16 key bytes after the key group held in the record, so sorting a key group compares
// numbers and touches the arena only when two keys share those bytes.
//
// A record's entries are added between BeginRecord() and the next BeginRecord(); AbandonRecord()
// drops them again (a record the router rejects halfway leaves nothing).
//
// Every Entry has a locator: the buffer's index (so the entries of several buffers can be sorted
// together), the arena block and the offset in it. Locators grow with insertion, so among equal keys
// the newest has the largest locator within a buffer.
//
// Not thread-safe: one writer. Several buffers may be read at once (they are then no longer written).

#ifndef SFB_WRITER_ENTRY_BUFFER_H_
#define SFB_WRITER_ENTRY_BUFFER_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/huge_page_block.h"

namespace sfb {

class EntryBuffer {
 public:
  struct Entry {
    uint64_t prefix[2];  // key bytes [2, 18) as two big-endian numbers, zero-padded
    uint64_t locator;
    uint32_t key_size;
    uint32_t value_size;
  };
  static constexpr int kMaxBuffers = 1 << 10;

  // `key_groups`: the max parallelism; `index` < kMaxBuffers tells this buffer's locators apart.
  // `block_bytes`: the arena's block size (entries larger than a block get a block of their own).
  EntryBuffer(int key_groups, int index, size_t block_bytes);
  EntryBuffer(const EntryBuffer&) = delete;
  EntryBuffer& operator=(const EntryBuffer&) = delete;

  void BeginRecord();
  // `key` must start with key_group as a big-endian u16.
  void Put(int key_group, std::string_view key, std::string_view value);
  void AbandonRecord();

  // Memory held: arena blocks plus index capacity (what the run's MemoryBudget is charged).
  uint64_t memory_bytes() const { return memory_bytes_; }
  uint64_t entries() const { return entries_; }
  bool empty() const { return entries_ == 0; }
  // Whether the arena has run out of block numbers (4M blocks): time to spill, whatever the budget.
  bool full() const { return blocks_.size() >= kBlockMask; }
  int key_groups() const { return static_cast<int>(index_.size()); }

  // The index of one key group, in insertion order until sorted. Readers may sort it in place or take
  // it (swap it out); the arena stays until Clear().
  std::vector<Entry>& key_group(int kg) { return index_[static_cast<size_t>(kg)]; }
  // The key and value bytes of an entry of this buffer (locator from this buffer's entries).
  const char* Data(uint64_t locator) const {
    return blocks_[static_cast<size_t>((locator >> 32) & kBlockMask)].data() + (locator & 0xFFFFFFFFu);
  }
  static int BufferOf(uint64_t locator) { return static_cast<int>(locator >> 54); }

  // Frees every entry, block and index.
  void Clear();

 private:
  static constexpr uint64_t kBlockMask = (1ull << 22) - 1;
  char* Allocate(size_t bytes, uint64_t* locator);
  void ChargeIndexGrowth(std::vector<Entry>* v);

  const uint64_t index_bits_;
  const size_t block_bytes_;
  std::vector<std::vector<Entry>> index_;
  std::vector<HugePageBlock> blocks_;
  size_t used_in_block_ = 0;  // of blocks_.back()
  uint64_t memory_bytes_ = 0;
  uint64_t entries_ = 0;
  // Since BeginRecord: the key group of each Put, and where the arena stood.
  std::vector<int> record_key_groups_;
  size_t record_blocks_ = 0;
  size_t record_used_ = 0;
};

// Sorts entries of one key group (of any of `buffers`, indexed by EntryBuffer::BufferOf) into bytewise
// key order; equal keys by locator, so the newest of one buffer comes last. A radix sort on the index's
// 16 prefix bytes, skipping the bytes all entries share, with comparisons only where prefixes tie or few
// entries are left; it takes a scratch copy of the index (up to 64 MB; larger ones sort in place).
void SortEntries(std::vector<EntryBuffer::Entry>* entries, const std::vector<EntryBuffer*>& buffers);

}  // namespace sfb

#endif  // SFB_WRITER_ENTRY_BUFFER_H_
