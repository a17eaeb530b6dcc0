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
// The store holds what a run spills: entries wait in reader threads' memory (writer/entry_buffer.h,
// writer/routed_entries.h) until the run's memory budget runs out, and then one thread's buffer is
// sorted and added as one table file (SstFileWriter + IngestExternalFile). That skips the WAL, the
// memtable's copy and locking, and RocksDB's generic comparator during the sort. There is no
// compaction: a cursor merges the files when the shards are built. So state larger than RAM works, and
// a run that fits its budget never writes here at all.

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

#include "common/record.h"
#include "common/status.h"
#include "writer/entry_cursor.h"

namespace rocksdb {
class DB;
struct Options;
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
    // What the read-ahead of `cursors` cursors open at once may take in all (0: no bound). A cursor
    // reads every table file at once, each with its own read-ahead buffer, so a run that spilled many
    // times would otherwise take files x cursors x 4 MB while it builds.
    uint64_t read_ahead_bytes = 0;
    int cursors = 1;
  };
  static Result<std::unique_ptr<ShardStore>> Open(const Options& options);
  ~ShardStore();

  // Writes `entries` (strictly increasing keys) as one table file, synced, and adds it to the store. A
  // key the store already holds is replaced. Thread-safe.
  Status AddSortedRun(EntryCursor* entries);

  // The entries of key groups [first_key_group, last_key_group], in key order.
  // Each table file is read ahead by up to 4 MB, less when Options::read_ahead_bytes would not hold
  // that for every file and cursor (below 256 KB: RocksDB's own read-ahead, 8 KB growing to 256 KB).
  std::unique_ptr<EntryCursor> NewCursor(int first_key_group, int last_key_group);
  // Whether any table file was added (by this run or by the interrupted run it resumes).
  bool empty() const;
  // Ends the load (after the last AddSortedRun).
  Status FinishLoad();
  // What the store's files hold.
  uint64_t ApproximateDiskBytes() const;
  const std::string& dir() const { return dir_; }

 private:
  ShardStore() = default;
  Status AddFile(const std::string& path);
  std::string dir_;
  std::string loads_dir_;  // where table files are written before the store takes them in
  std::unique_ptr<rocksdb::Options> options_;
  std::atomic<uint64_t> next_file_{0};
  uint64_t read_ahead_bytes_ = 0;
  int cursors_ = 1;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace sfb

#endif  // SFB_WRITER_SHARD_STORE_H_
