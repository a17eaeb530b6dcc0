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
// Tuned for a one-shot bulk load. Entries never pass through RocksDB's write path: each reader thread
// has a Loader that collects entries in memory, sorts them itself and adds them to the store as one
// sorted table file (SstFileWriter + IngestExternalFile). That skips the WAL, the memtable's copy and
// locking, and RocksDB's generic comparator during the sort (measured: a third of a load's CPU time).
// There is no compaction: the iterator merges the files when the shards are built. Memory stays bounded
// by the loaders' buffers; the rest lives on disk, so state larger than RAM works.

#ifndef SFB_WRITER_SHARD_STORE_H_
#define SFB_WRITER_SHARD_STORE_H_

#include <atomic>
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
struct Options;
class Slice;
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
  };
  static Result<std::unique_ptr<ShardStore>> Open(const Options& options);
  ~ShardStore();

  // Collects one thread's entries and adds them to the store, sorted, one table file per Flush. Not
  // thread-safe; use one per thread (Flush may run concurrently with other loaders' Flush).
  class Loader {
   public:
    // Adds an entry. An entry whose key was already added replaces it (in this loader or in the store).
    void Put(std::string_view key, std::string_view value);
    // Rolls back to a mark: the entries Put after mark() are dropped.
    struct Mark {
      size_t entries, bytes;
    };
    Mark mark() const { return Mark{entries_.size(), arena_.size()}; }
    void RollbackTo(const Mark& m);
    // Whether the buffer has reached its budget (time to Flush).
    bool full() const { return arena_.size() + entries_.size() * sizeof(Entry) >= budget_; }
    size_t buffered_entries() const { return entries_.size(); }
    // Sorts what the loader holds and adds it to the store as one file (synced), then empties the loader.
    Status Flush();

   private:
    friend class ShardStore;
    // The first 16 key bytes (as two big-endian numbers, zero-padded) decide most comparisons without
    // touching the arena: keys of one function in one key group share their first 5 bytes or more.
    struct Entry {
      uint64_t prefix[2];
      uint32_t offset;  // of the key in arena_; the value follows it
      uint32_t key_size;
      uint32_t value_size;
    };
    Loader(ShardStore* store, size_t budget) : store_(store), budget_(budget) { arena_.reserve(budget); }
    ShardStore* store_;
    size_t budget_;
    std::string arena_;
    std::vector<Entry> entries_;
  };
  // budget_bytes: memory the loader may hold before it must be flushed (keys, values and their index);
  // under 4 GiB.
  std::unique_ptr<Loader> NewLoader(size_t budget_bytes);

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
  // Ends the load (after every loader's Flush): what the store holds is in its files.
  Status FinishLoad();
  // What the store's files hold (loaders' buffers are not counted).
  uint64_t ApproximateDiskBytes() const;
  const std::string& dir() const { return dir_; }

 private:
  ShardStore() = default;
  Status AddFile(const std::string& path);
  std::string dir_;
  std::string loads_dir_;  // where loaders write their files before the store takes them in
  std::unique_ptr<rocksdb::Options> options_;
  std::atomic<uint64_t> next_file_{0};
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace sfb

#endif  // SFB_WRITER_SHARD_STORE_H_
