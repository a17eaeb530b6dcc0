// BaseValues: the base savepoint's values of the job states that merge with it (on_existing: merge,
// writer/on_existing.h), as the subtask builder needs them: one key group at a time, looked up by address.
//
// Open() opens the base's keyed-state streams and, for each job state, the base state of the same Flink
// name in each stream's header (a stream whose header lacks it has nothing to merge). Every stream is kept,
// not only the one of the same subtask index: when the output's parallelism differs from the base's
// (writer/base_carry_over.h), a subtask's key groups come from whichever base stream held them.
// Load(kg) indexes that key group's section of the stream that holds it (views into the mapped stream,
// so memory is one key group's index); Find() returns the value record an address has for a job state,
// or nothing.

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
  // Null when no job state merges with a base state.
  static Result<std::unique_ptr<BaseValues>> Open(const BaseSavepoint& base,
                                                  const std::vector<StateDescriptor>& job_states,
                                                  const OnExistingChoices& choices);

  // Indexes key group `kg` (the previous one's index is dropped).
  Status Load(int kg);
  // The base's value record of job state `job_state` for the key `key` (after its key-group prefix:
  // StringValue(id) ++ VoidNamespace) in the loaded key group.
  std::optional<std::string_view> Find(size_t job_state, std::string_view key) const;
  bool Merges(size_t job_state) const { return merges_[job_state]; }
  // The stream of the loaded key group (empty when no base stream holds it), for messages.
  const std::string& stream_name() const { return loaded_name_; }

 private:
  BaseValues() = default;

  int max_parallelism_ = 0;
  struct Source {
    SavepointReader::Stream stream;  // owns its mapping (or views the base's inline bytes)
    std::vector<int> job_state_of;   // by this stream's state id: the job state merging with it, or -1
  };
  std::vector<Source> sources_;  // the base's streams in subtask order
  std::vector<bool> merges_;     // by job state: some stream has a base state of its name
  int loaded_ = -1;
  std::string loaded_name_;
  std::map<std::pair<int, std::string_view>, std::string_view> values_;  // (job state, key) -> value
  std::string decoded_;  // the loaded key group's bytes when the base's sections are snappy-compressed
};

}  // namespace sfb

#endif  // SFB_WRITER_BASE_VALUES_H_
