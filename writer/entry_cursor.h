// EntryCursor: a stream of routed entries (writer/shard_store.h's key and value encoding) in bytewise
// key order, each key once: what a subtask's builder walks, wherever the entries wait (in memory,
// spilled to the store, or both, merged).
//
// A cursor starts at its first entry. key() and value() stay valid until Next(). When Valid() turns
// false, status() says whether the stream ended or failed.

#ifndef SFB_WRITER_ENTRY_CURSOR_H_
#define SFB_WRITER_ENTRY_CURSOR_H_

#include <memory>
#include <string_view>

#include "common/status.h"

namespace sfb {

class EntryCursor {
 public:
  virtual ~EntryCursor() = default;
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual void Next() = 0;
  virtual Status status() const = 0;
};

// The entries of both, in key order; of two equal keys only `newer`'s (a split read again by a resumed
// run replaces what the interrupted run had spilled of it).
std::unique_ptr<EntryCursor> MergeCursors(std::unique_ptr<EntryCursor> newer, std::unique_ptr<EntryCursor> older);

}  // namespace sfb

#endif  // SFB_WRITER_ENTRY_CURSOR_H_
