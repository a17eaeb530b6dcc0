#include "writer/entry_cursor.h"

namespace sfb {
namespace {

class MergingCursor final : public EntryCursor {
 public:
  MergingCursor(std::unique_ptr<EntryCursor> newer, std::unique_ptr<EntryCursor> older)
      : newer_(std::move(newer)), older_(std::move(older)) {
    Pick();
  }
  bool Valid() const override { return current_ != nullptr; }
  std::string_view key() const override { return current_->key(); }
  std::string_view value() const override { return current_->value(); }
  void Next() override {
    if (current_ == newer_.get() && older_->Valid() && older_->key() == newer_->key()) older_->Next();
    current_->Next();
    Pick();
  }
  Status status() const override {
    Status s = newer_->status();
    return s.ok() ? older_->status() : s;
  }

 private:
  void Pick() {
    current_ = nullptr;
    if (!newer_->status().ok() || !older_->status().ok()) return;
    if (!newer_->Valid()) {
      current_ = older_->Valid() ? older_.get() : nullptr;
    } else if (!older_->Valid() || newer_->key() <= older_->key()) {
      current_ = newer_.get();
    } else {
      current_ = older_.get();
    }
  }

  std::unique_ptr<EntryCursor> newer_, older_;
  EntryCursor* current_ = nullptr;
};

}  // namespace

std::unique_ptr<EntryCursor> MergeCursors(std::unique_ptr<EntryCursor> newer, std::unique_ptr<EntryCursor> older) {
  return std::make_unique<MergingCursor>(std::move(newer), std::move(older));
}

}  // namespace sfb
