#include "common/huge_page_block.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>
#include <utility>

namespace sfb {
namespace {

// `bytes` at a kHugePageBytes boundary: a mapping one huge page larger, with its unaligned head and tail
// unmapped again. Null when mmap refuses.
char* MapAligned(size_t bytes) {
  const size_t align = HugePageBlock::kHugePageBytes;
  void* p = ::mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + align - 1) & ~(align - 1);
  if (aligned > start) ::munmap(p, aligned - start);
  const uintptr_t end = start + bytes + align;
  if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  char* out = reinterpret_cast<char*>(aligned);
  // Advice only: without transparent huge pages the block is plain memory.
  (void)::madvise(out, bytes, MADV_HUGEPAGE);
  return out;
}

}  // namespace

HugePageBlock::HugePageBlock(size_t bytes) : size_(bytes) {
  if (bytes % kHugePageBytes == 0) {
    data_ = MapAligned(bytes);
    mapped_ = data_ != nullptr;
  }
  if (!data_) data_ = static_cast<char*>(::operator new(bytes));
}

HugePageBlock::~HugePageBlock() { Free(); }

HugePageBlock::HugePageBlock(HugePageBlock&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, false)) {}

HugePageBlock& HugePageBlock::operator=(HugePageBlock&& other) noexcept {
  if (this != &other) {
    Free();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
  }
  return *this;
}

void HugePageBlock::Free() {
  if (!data_) return;
  if (mapped_) {
    ::munmap(data_, size_);
  } else {
    ::operator delete(data_);
  }
  data_ = nullptr;
}

}  // namespace sfb
