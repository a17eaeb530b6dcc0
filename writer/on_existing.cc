#include "writer/on_existing.h"

#include <unordered_set>

namespace sfb {

const char* OnExistingName(OnExisting mode) {
  switch (mode) {
    case OnExisting::kReplace: return "replace";
    case OnExisting::kKeep: return "keep";
    case OnExisting::kMerge: return "merge";
    case OnExisting::kUnset: break;
  }
  return "unset";
}

bool ParseOnExisting(std::string_view text, OnExisting* mode) {
  if (text == "replace") *mode = OnExisting::kReplace;
  else if (text == "keep") *mode = OnExisting::kKeep;
  else if (text == "merge") *mode = OnExisting::kMerge;
  else return false;
  return true;
}

OnExisting ChoiceFor(const OnExistingChoices& choices, const std::string& flink_name) {
  auto it = choices.find(flink_name);
  return it == choices.end() ? OnExisting::kUnset : it->second;
}

void ResolveExistingKeyGroup(OnExisting mode, const std::vector<StatePair>& base, const std::vector<StatePair>& job,
                             std::vector<StatePair>* out, ExistingCounts* counts) {
  std::unordered_set<std::string_view> base_keys, job_keys;
  for (const StatePair& p : base) base_keys.insert(p.key);
  for (const StatePair& p : job) job_keys.insert(p.key);
  const bool job_wins = mode != OnExisting::kKeep;
  for (const StatePair& p : base) {
    if (job_wins && job_keys.count(p.key)) continue;  // counted with the job's pair below
    out->push_back(p);
    ++counts->kept;
  }
  for (const StatePair& p : job) {
    if (!base_keys.count(p.key)) {
      out->push_back(p);
      ++counts->added;
    } else if (job_wins) {
      out->push_back(p);
      ++(mode == OnExisting::kMerge ? counts->merged : counts->replaced);
    }
    // keep: the base's pair, already out and counted as kept
  }
}

}  // namespace sfb
