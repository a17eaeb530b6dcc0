// HugePageBlock: a block of anonymous memory for an arena, asked to be backed by transparent huge pages.
//
// An arena that holds a run's routed entries (writer/entry_buffer.h) is up to gigabytes, written once in
// order and then read in key order, which jumps all over it. With 4 KB pages each of those reads is a TLB
// miss and a page-table walk, and writing it takes one page fault per 4 KB. A block of a multiple of
// kHugePageBytes is mapped at a 2 MB boundary with madvise(MADV_HUGEPAGE), so where the kernel's
// transparent huge pages are "always" or "madvise" (the default of most distributions) it is faulted in
// and mapped 2 MB at a time. Where they are off, or madvise is refused, it is ordinary memory: the advice
// changes speed, never behaviour. Smaller blocks come from the heap.
//
// Contract: Allocate never returns null (it aborts, as operator new does, when no memory is left); the
// memory is zeroed on first touch only if it came from mmap, so callers must not rely on its contents.

#ifndef SFB_COMMON_HUGE_PAGE_BLOCK_H_
#define SFB_COMMON_HUGE_PAGE_BLOCK_H_

#include <cstddef>

namespace sfb {

class HugePageBlock {
 public:
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

  HugePageBlock() = default;
  // `bytes` > 0. A multiple of kHugePageBytes is mapped for huge pages; anything else is heap memory.
  explicit HugePageBlock(size_t bytes);
  ~HugePageBlock();
  HugePageBlock(HugePageBlock&& other) noexcept;
  HugePageBlock& operator=(HugePageBlock&& other) noexcept;
  HugePageBlock(const HugePageBlock&) = delete;
  HugePageBlock& operator=(const HugePageBlock&) = delete;

  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void Free();

  char* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;  // from mmap (freed with munmap), else from the heap
};

}  // namespace sfb

#endif  // SFB_COMMON_HUGE_PAGE_BLOCK_H_
