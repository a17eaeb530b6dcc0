// BaseValues: the base savepoint's values of the job states that merge with it (on_existing: merge,
// writer/on_existing.h), as the subtask builder needs them: one key group at a time, looked up by address.
//
// Open() finds the base's keyed-state stream of the subtask and, for each job state, the base state of
// the same Flink name in that stream's header (a subtask whose header lacks it has nothing to merge).
// Load(kg) indexes that key group's section (views into the mapped stream, so memory is one key group's
// index); Find() returns the value record an address has for a job state, or nothing.

#ifndef SFB_WRITER_BASE_VALUES_H_
#define SFB_WRITER_BASE_VALUES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/state_descriptor.h"
#include "writer/on_existing.h"

namespace sfb {

class BaseValues {
 public:
  // Null when no job state merges with a base state in this subtask.
  static Result<std::unique_ptr<BaseValues>> Open(const BaseSavepoint& base, int subtask,
                                                  const std::vector<StateDescriptor>& job_states,
                                                  const OnExistingChoices& choices);

  // Indexes key group `kg` (the previous one's index is dropped).
  Status Load(int kg);
  // The base's value record of job state `job_state` for the key `key` (after its key-group prefix:
  // StringValue(id) ++ VoidNamespace) in the loaded key group.
  std::optional<std::string_view> Find(size_t job_state, std::string_view key) const;
  bool Merges(size_t job_state) const { return base_state_of_[job_state] >= 0; }
  const std::string& stream_name() const { return stream_.name; }

 private:
  BaseValues() = default;

  int max_parallelism_ = 0;
  SavepointReader::Stream stream_;  // owns its mapping (or views the base's inline bytes)
  std::vector<int> base_state_of_;   // by job state: the base state id it merges with, or -1
  std::vector<int> job_state_of_;    // by base state id: the job state merging with it, or -1
  int loaded_ = -1;
  std::map<std::pair<int, std::string_view>, std::string_view> values_;  // (job state, key) -> value
  std::string decoded_;  // the loaded key group's bytes when the base's sections are snappy-compressed
};

}  // namespace sfb

#endif  // SFB_WRITER_BASE_VALUES_H_
