// ShardStore: the on-disk store of routed records, sorted the way the savepoint must be written.
//
// Every record a Router forwards becomes one RocksDB entry:
//
//   key   = u16 key group | u16 function index | StringValue(id) | u16 source index | u64 position | u32 seq
//   value = varint schema id | Record values (api/record.h)
//
// all integers big-endian, so RocksDB's bytewise order is: key group, then function, then id (in the
// byte order of Flink's own key encoding), then the record's place in its source. A subtask's shard is
// the key range of its key groups, so one store serves every shard and the writer builds them in
// parallel with one iterator each. Keys are unique (position and seq come from the source), so the
// order in which reader threads insert does not matter: the same input always yields the same store.
//
// Tuned for a one-shot bulk load: no WAL, large memtables, no compaction during the load (entries are
// read once, merged across files by the iterator). Memory stays bounded by the memtable budget; the
// rest lives on disk, so state larger than RAM works.

#ifndef SFB_WRITER_SHARD_STORE_H_
#define SFB_WRITER_SHARD_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/record.h"
#include "common/status.h"

namespace rocksdb {
class DB;
class Iterator;
class Slice;
class WriteBatch;
}  // namespace rocksdb

namespace sfb {

// Assigns small ids to record schemas so spilled records need not repeat field names.
class SchemaRegistry {
 public:
  uint32_t IdOf(const std::shared_ptr<const Schema>& schema);
  std::shared_ptr<const Schema> Get(uint32_t id) const;
  // Called (under the registry's lock) for each schema given a new id, so it can be journaled.
  void SetNewSchemaListener(std::function<void(uint32_t, const std::vector<std::string>&)> listener);
  // Re-creates the ids of an interrupted run (in id order, before any IdOf).
  Status Restore(uint32_t id, std::vector<std::string> names);

 private:
  mutable std::mutex mu_;
  // Pointer lookups are the fast path; the registry keeps every schema it has seen alive, so a pointer
  // is never reused for a different schema. Sources reuse Schema objects (one per file, table or key set).
  std::unordered_map<const Schema*, uint32_t> by_pointer_;
  std::unordered_map<std::string, uint32_t> by_names_;
  std::vector<std::shared_ptr<const Schema>> schemas_;    // by id
  std::vector<std::shared_ptr<const Schema>> keep_alive_;
  std::function<void(uint32_t, const std::vector<std::string>&)> listener_;
};

struct StoreKey {
  int key_group;
  uint16_t function;
  std::string_view id_bytes;  // StringValue encoding of the id
  uint16_t source;
  uint64_t position;
  uint32_t seq;
};
void EncodeStoreKey(std::string* out, int key_group, uint16_t function, std::string_view id_bytes,
                    uint16_t source, uint64_t position, uint32_t seq);
Status DecodeStoreKey(std::string_view key, StoreKey* out);

class ShardStore {
 public:
  struct Options {
    std::string dir;
    bool reopen = false;  // open the store an interrupted run left in dir (run --resume)
    size_t memtable_bytes = 64 << 20;
    int max_memtables = 3;
  };
  static Result<std::unique_ptr<ShardStore>> Open(const Options& options);
  ~ShardStore();

  // Thread-safe.
  Status Write(rocksdb::WriteBatch* batch);
  // Writes what the memtables hold to the store's files (so it survives the process) and waits.
  Status Flush();
  // An iterator over the entries of key groups [first_key_group, last_key_group], in key order.
  class Cursor {
   public:
    ~Cursor();
    rocksdb::Iterator* it() { return it_.get(); }

   private:
    friend class ShardStore;
    Cursor() = default;
    std::string lower_, upper_;
    std::unique_ptr<rocksdb::Slice> lo_, hi_;
    std::unique_ptr<rocksdb::Iterator> it_;
  };
  std::unique_ptr<Cursor> NewCursor(int first_key_group, int last_key_group);
  // Flushes memtables (so iteration reads sorted files and memory is released).
  Status FinishLoad();
  // What the store holds in all: its files plus its memtables (not yet written).
  uint64_t ApproximateBytes() const;
  uint64_t ApproximateDiskBytes() const;
  const std::string& dir() const { return dir_; }

 private:
  ShardStore() = default;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace sfb

#endif  // SFB_WRITER_SHARD_STORE_H_
