#include "formats/field_selection.h"

#include <algorithm>

namespace sfb {
namespace {

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Sets are a handful of names: a binary search over a sorted vector beats hashing the path.
bool Contains(const std::vector<std::string>& sorted, std::string_view s) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), s,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != sorted.end() && *it == s;
}

}  // namespace

FieldSelection::FieldSelection(std::vector<std::string> names, std::vector<std::string> only_null_tested)
    : names_(std::move(names)) {
  SortUnique(&names_);
  for (std::string& n : only_null_tested) {
    if (Contains(names_, n)) only_null_tested_.push_back(std::move(n));
  }
  SortUnique(&only_null_tested_);
  for (const std::string& n : names_) {
    for (size_t dot = n.find('.'); dot != std::string::npos; dot = n.find('.', dot + 1)) {
      parents_.push_back(n.substr(0, dot));
    }
  }
  SortUnique(&parents_);
}

bool FieldSelection::Selects(std::string_view path) const { return Contains(names_, path); }

bool FieldSelection::OnlyNullTested(std::string_view path) const { return Contains(only_null_tested_, path); }

bool FieldSelection::SelectsBeneath(std::string_view path) const { return Contains(parents_, path); }

}  // namespace sfb
