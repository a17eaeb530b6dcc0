// OnExisting: what a run on a base savepoint (`run --base`) does with a job state the base already holds
// (same Flink state name), per address of that state:
//
//   replace  an address the job writes gets the job's value; every other address keeps the base's.
//   keep     an address the base has keeps the base's value; the job's is written only where the base
//            has none.
//   merge    the job's rules start from the base's value (the builder loads it into the state before the
//            address's first record, writer/base_values.h): count and sum add to it, min and max compare
//            with it, set and last overwrite it, first keeps it. An address whose value the job leaves
//            equal to the base's keeps the base's entry byte for byte.
//   unset    refused before any input is read (writer/base_carry_over.h), naming the three choices.
// In every mode a job that writes no value for an address (no record set the state, or a delete_when
// removed it) leaves the base's value there: a run on a base adds and changes, it never deletes.
//
// ResolveExistingKeyGroup() applies a mode to one key group of one state; it is the only place the
// modes are told apart after the build, so `validate --base` counts exactly what `run --base` writes.

#ifndef SFB_WRITER_ON_EXISTING_H_
#define SFB_WRITER_ON_EXISTING_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sfb {

enum class OnExisting { kUnset, kReplace, kKeep, kMerge };
const char* OnExistingName(OnExisting mode);
// "replace", "keep" or "merge"; false for anything else.
bool ParseOnExisting(std::string_view text, OnExisting* mode);

// The job's choice per Flink state name (StateDescriptor::FlinkName()); a state not named is kUnset.
using OnExistingChoices = std::map<std::string, OnExisting>;
OnExisting ChoiceFor(const OnExistingChoices& choices, const std::string& flink_name);

// What the output holds of one state compared with the base, in addresses.
struct ExistingCounts {
  uint64_t kept = 0;      // the base's value, unchanged (the job did not write it, or `keep` won)
  uint64_t replaced = 0;  // both had a value; the job's replaced the base's
  uint64_t merged = 0;    // both had a value; the job's rules, started from the base's, changed it
  uint64_t added = 0;     // the job's value where the base had none
  ExistingCounts& operator+=(const ExistingCounts& o) {
    kept += o.kept;
    replaced += o.replaced;
    merged += o.merged;
    added += o.added;
    return *this;
  }
};

// One pair of a key-group section: the key after its key-group prefix, and the value record.
struct StatePair {
  std::string_view key;
  std::string_view value;
};

// `base` and `job` are one state's pairs in one key group, each in its stream's order with each key at
// most once. Appends to `out` the pairs the output holds: the base's it keeps, in their order, then the
// job's it keeps, in theirs (so the bytes depend only on the two inputs). `mode` must not be kUnset.
void ResolveExistingKeyGroup(OnExisting mode, const std::vector<StatePair>& base, const std::vector<StatePair>& job,
                             std::vector<StatePair>* out, ExistingCounts* counts);

}  // namespace sfb

#endif  // SFB_WRITER_ON_EXISTING_H_
