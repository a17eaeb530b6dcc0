#include "writer/routed_entries.h"

#include <algorithm>
#include <cstring>

namespace sfb {
namespace {

using Entry = EntryBuffer::Entry;

// The entries of a key-group range of some buffers, key group by key group: each group's entries are
// taken out of the buffers (freeing their index as the cursor moves on), sorted, and yielded with only
// the newest of equal keys.
class KeyGroupCursor final : public EntryCursor {
 public:
  KeyGroupCursor(std::vector<EntryBuffer*> sources, const std::vector<EntryBuffer*>* all, int first, int last)
      : sources_(std::move(sources)), all_(all), next_kg_(first), last_kg_(last) {
    Load();
  }
  bool Valid() const override { return i_ < entries_.size(); }
  std::string_view key() const override { return std::string_view(Data(entries_[i_]), entries_[i_].key_size); }
  std::string_view value() const override {
    const Entry& e = entries_[i_];
    return std::string_view(Data(e) + e.key_size, e.value_size);
  }
  void Next() override {
    ++i_;
    if (i_ >= entries_.size()) {
      Load();
      return;
    }
    Settle();
  }
  Status status() const override { return Status::OK(); }

 private:
  const char* Data(const Entry& e) const {
    return (*all_)[static_cast<size_t>(EntryBuffer::BufferOf(e.locator))]->Data(e.locator);
  }
  bool SameKey(const Entry& a, const Entry& b) const {
    return a.prefix[0] == b.prefix[0] && a.prefix[1] == b.prefix[1] && a.key_size == b.key_size &&
           std::memcmp(Data(a), Data(b), a.key_size) == 0;
  }
  // Skips to the last of a run of equal keys; fetches the keys a few entries ahead (sorted entries point
  // all over the arena).
  void Settle() {
    while (i_ + 1 < entries_.size() && SameKey(entries_[i_], entries_[i_ + 1])) ++i_;
    constexpr size_t kPrefetch = 8;
    if (i_ + kPrefetch < entries_.size()) __builtin_prefetch(Data(entries_[i_ + kPrefetch]));
  }
  // Moves to the next key group that has entries.
  void Load() {
    std::vector<Entry>().swap(entries_);
    i_ = 0;
    while (entries_.empty() && next_kg_ <= last_kg_) {
      const int kg = next_kg_++;
      size_t total = 0;
      for (EntryBuffer* b : sources_) total += b->key_group(kg).size();
      if (total == 0) continue;
      for (EntryBuffer* b : sources_) {
        std::vector<Entry>& part = b->key_group(kg);
        if (entries_.empty()) {
          entries_.swap(part);
          entries_.reserve(total);
        } else {
          entries_.insert(entries_.end(), part.begin(), part.end());
        }
        std::vector<Entry>().swap(part);
      }
      SortEntries(&entries_, *all_);
    }
    if (!entries_.empty()) Settle();
  }

  std::vector<EntryBuffer*> sources_;
  const std::vector<EntryBuffer*>* all_;
  int next_kg_, last_kg_;
  std::vector<Entry> entries_;
  size_t i_ = 0;
};

}  // namespace

RoutedEntries::RoutedEntries(ShardStore* store, int key_groups, int writers, uint64_t memory_budget_bytes)
    : store_(store), budget_(memory_budget_bytes) {
  writers = std::clamp(writers, 1, EntryBuffer::kMaxBuffers);
  // Small blocks for small budgets, so a budget of a few MB still holds many records per thread, and
  // huge-page blocks (2 MB, common/huge_page_block.h) for larger ones; a thread reserves memory in steps
  // of a sixteenth of its share, so the threads' reserved but unused memory stays under a sixteenth of
  // the budget.
  const uint64_t share = memory_budget_bytes / static_cast<uint64_t>(writers);
  const size_t block = static_cast<size_t>(std::clamp<uint64_t>(share / 16, 16 << 10, HugePageBlock::kHugePageBytes));
  reserve_step_ = std::max<uint64_t>(block, share / 16);
  for (int i = 0; i < writers; ++i) {
    owned_.push_back(std::make_unique<EntryBuffer>(key_groups, i, block));
    buffers_.push_back(owned_.back().get());
    writers_.push_back(std::unique_ptr<Writer>(new Writer(this, owned_.back().get())));
  }
}

RoutedEntries::~RoutedEntries() = default;

bool RoutedEntries::Writer::Reserve() {
  const uint64_t used = buffer_->memory_bytes() + elsewhere_;
  if (used <= reserved_ && !buffer_->full()) return true;
  if (buffer_->full()) return false;
  MemoryBudget& budget = owner_->budget_;
  const uint64_t need = used > reserved_ ? used - reserved_ : 0;
  if (budget.TryReserve(std::max(need, owner_->reserve_step_))) {
    reserved_ += std::max(need, owner_->reserve_step_);
    return true;
  }
  if (budget.TryReserve(need)) {
    reserved_ += need;
    return true;
  }
  return false;
}

Status RoutedEntries::Writer::Fit(bool* spilled) {
  *spilled = false;
  if (Reserve()) return Status::OK();
  *spilled = true;
  return Spill();
}

Status RoutedEntries::Writer::Spill() {
  Status s;
  if (!buffer_->empty()) {
    const uint64_t entries = buffer_->entries();
    KeyGroupCursor cursor({buffer_}, &owner_->buffers_, 0, buffer_->key_groups() - 1);
    s = owner_->store_->AddSortedRun(&cursor);
    if (s.ok()) {
      owner_->spills_.fetch_add(1);
      owner_->spilled_entries_.fetch_add(entries);
    }
  }
  buffer_->Clear();
  owner_->budget_.Release(reserved_);
  reserved_ = 0;
  if (elsewhere_ > 0) {
    owner_->budget_.Reserve(elsewhere_);
    reserved_ = elsewhere_;
  }
  return s;
}

std::unique_ptr<EntryCursor> RoutedEntries::NewCursor(int first, int last) {
  auto memory = std::make_unique<KeyGroupCursor>(buffers_, &buffers_, first, last);
  if (store_->empty()) return memory;
  return MergeCursors(std::move(memory), store_->NewCursor(first, last));
}

}  // namespace sfb
