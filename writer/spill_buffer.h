// RunBuffer: collects the key/value pairs of one state within one key group, in order, and writes
// them as a run of Flink's key-group section format (see savepoint/keyed_state_file.h).
//
// A run's last pair must carry the 0x80 flag on its key, and we only know which pair is last when the
// run ends, so pairs are encoded as they come and the newest one always stays in memory, where its flag
// is set when the run is written. Pairs beyond a memory limit spill to an unlinked temporary file (all
// but the newest), so one huge key group (max parallelism 1, say) needs no more than that limit of
// memory per state.

#ifndef SFB_WRITER_SPILL_BUFFER_H_
#define SFB_WRITER_SPILL_BUFFER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/file_io.h"
#include "common/status.h"

namespace sfb {

class RunBuffer {
 public:
  RunBuffer(std::string spill_dir, size_t memory_limit) : spill_dir_(std::move(spill_dir)), limit_(memory_limit) {}
  ~RunBuffer();
  RunBuffer(const RunBuffer&) = delete;
  RunBuffer& operator=(const RunBuffer&) = delete;
  RunBuffer(RunBuffer&& other) noexcept;

  Status Append(std::string_view key, std::string_view value);
  bool empty() const { return pairs_ == 0; }
  uint64_t pairs() const { return pairs_; }
  // Writes all pairs (the last one flagged) to `sink` and empties the buffer.
  Status WriteTo(FileSink* sink);

 private:
  Status Spill();

  std::string spill_dir_;
  size_t limit_;
  std::string memory_;        // encoded pairs; the newest starts at last_
  size_t last_ = 0;
  bool last_key_empty_ = false;
  uint64_t pairs_ = 0;
  int spill_fd_ = -1;
  uint64_t spilled_ = 0;
};

}  // namespace sfb

#endif  // SFB_WRITER_SPILL_BUFFER_H_
