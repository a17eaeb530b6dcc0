// SavepointReader: reads a canonical Flink savepoint of a statefun application (ours or Flink's own).
//
// Opens `_metadata`, finds the `functions_uid1` operator, and walks each subtask's keyed-state stream
// (a relative or absolute file, or bytes inlined in the metadata). Everything read is checked: stream
// names must stay inside the savepoint directory, offsets must lie inside the stream and after its
// header, and every entry's key group must match both its section and Flink's hash of its id. A
// violation is a Corruption status naming the file and offset; nothing is trusted to size allocations.

#ifndef SFB_SAVEPOINT_SAVEPOINT_READER_H_
#define SFB_SAVEPOINT_SAVEPOINT_READER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "common/status.h"
#include "savepoint/keyed_state_file.h"
#include "savepoint/metadata.h"

namespace sfb {

class SavepointReader {
 public:
  // `path` is the savepoint directory or its _metadata file.
  static Result<std::unique_ptr<SavepointReader>> Open(const std::string& path);
  // A savepoint held in memory: _metadata bytes and its relative files by name (for tests and fuzzing).
  static Result<std::unique_ptr<SavepointReader>> FromMemory(std::string_view metadata,
                                                             std::map<std::string, std::string> files);

  const std::string& directory() const { return dir_; }
  const SavepointMetadata& metadata() const { return metadata_; }
  // The statefun functions operator, or null when the savepoint has none.
  const OperatorStateMeta* functions_operator() const { return functions_; }

  // One subtask's keyed-state stream, opened and with its header parsed.
  struct Stream {
    int subtask = 0;
    const KeyedStateHandle* handle = nullptr;
    std::string name;  // file name or inline handle name, for messages
    KeyedStateHeader header;
    std::string_view bytes;
    std::unique_ptr<MappedFile> file;

    // Whether key group `kg` is in this stream's range (written or not).
    bool HoldsKeyGroup(int kg) const;
    // Where key group `kg`'s section starts in `bytes`: 0 when the group is empty or not in this
    // stream's range. An offset inside the header or past the end is Corruption naming the group and
    // offset, with this stream's name as context.
    Result<size_t> SectionOffset(int kg) const;
  };
  // Opens every keyed-state stream of the functions operator, in subtask order.
  Status OpenStreams(std::vector<Stream>* streams) const;

  // A decoded function-state entry.
  struct Entry {
    const ParsedStateMeta* state;
    int key_group;
    std::u16string id;
    std::string_view value;
  };
  // Calls `fn` for every entry of `stream` (all states, including ones we cannot decode), in key-group order.
  Status ForEachEntry(const Stream& stream, const std::function<Status(const Entry&)>& fn) const;

 private:
  Status FindFunctionsOperator();

  std::string dir_;
  bool in_memory_ = false;
  std::map<std::string, std::string> files_;  // in-memory savepoints only
  SavepointMetadata metadata_;
  const OperatorStateMeta* functions_ = nullptr;
};

}  // namespace sfb

#endif  // SFB_SAVEPOINT_SAVEPOINT_READER_H_
