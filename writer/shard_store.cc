#include "writer/shard_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/write_batch.h>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace sfb {

uint32_t SchemaRegistry::IdOf(const std::shared_ptr<const Schema>& schema) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_pointer_.find(schema.get());
  if (it != by_pointer_.end()) return it->second;
  std::string joined;
  for (const auto& n : schema->names()) {
    joined += n;
    joined.push_back('\0');
  }
  auto [named, inserted] = by_names_.emplace(joined, static_cast<uint32_t>(schemas_.size()));
  if (inserted) {
    schemas_.push_back(schema);
    if (listener_) listener_(named->second, schema->names());
  }
  keep_alive_.push_back(schema);
  by_pointer_.emplace(schema.get(), named->second);
  return named->second;
}

void SchemaRegistry::SetNewSchemaListener(std::function<void(uint32_t, const std::vector<std::string>&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

Status SchemaRegistry::Restore(uint32_t id, std::vector<std::string> names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id != schemas_.size()) return Status::Corruption("schema ids of the interrupted run are not in order");
  std::string joined;
  for (const auto& n : names) {
    joined += n;
    joined.push_back('\0');
  }
  auto schema = std::make_shared<const Schema>(std::move(names));
  by_names_.emplace(joined, id);
  schemas_.push_back(schema);
  keep_alive_.push_back(schema);
  return Status::OK();
}

std::shared_ptr<const Schema> SchemaRegistry::Get(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return id < schemas_.size() ? schemas_[id] : nullptr;
}

void EncodeStoreKey(std::string* out, int key_group, uint16_t function, std::string_view id_bytes,
                    uint16_t source, uint64_t position, uint32_t seq) {
  ByteWriter w(out);
  w.U16(static_cast<uint16_t>(key_group));
  w.U16(function);
  w.Bytes(id_bytes);
  w.U16(source);
  w.U64(position);
  w.U32(seq);
}

Status DecodeStoreKey(std::string_view key, StoreKey* out) {
  constexpr size_t kTail = 2 + 8 + 4;
  if (key.size() < 4 + 1 + kTail) return Status::Corruption("spill store key too short");
  ByteReader r(key);
  uint16_t kg;
  SFB_RETURN_IF_ERROR(r.U16("key group", &kg));
  SFB_RETURN_IF_ERROR(r.U16("function", &out->function));
  out->key_group = kg;
  out->id_bytes = key.substr(4, key.size() - 4 - kTail);
  ByteReader tail(key.substr(key.size() - kTail));
  int64_t pos;
  int32_t seq;
  SFB_RETURN_IF_ERROR(tail.U16("source", &out->source));
  SFB_RETURN_IF_ERROR(tail.I64("position", &pos));
  SFB_RETURN_IF_ERROR(tail.I32("seq", &seq));
  out->position = static_cast<uint64_t>(pos);
  out->seq = static_cast<uint32_t>(seq);
  return Status::OK();
}

Result<std::unique_ptr<ShardStore>> ShardStore::Open(const Options& o) {
  rocksdb::Options options;
  options.create_if_missing = !o.reopen;
  options.error_if_exists = !o.reopen;
  options.write_buffer_size = o.memtable_bytes;
  options.max_write_buffer_number = o.max_memtables;
  options.min_write_buffer_number_to_merge = 1;
  options.disable_auto_compactions = true;
  options.level0_file_num_compaction_trigger = 1 << 30;
  options.level0_slowdown_writes_trigger = 1 << 30;
  options.level0_stop_writes_trigger = 1 << 30;
  options.max_background_jobs = 2;
  // Entries are never read before the load ends, so the memtable only needs to collect them: a vector
  // memtable appends in O(1) and sorts once at flush, where the default skiplist pays a random-access
  // sorted insert per entry (measured: about half of all CPU time of a load).
  options.memtable_factory.reset(new rocksdb::VectorRepFactory());
  options.allow_concurrent_memtable_write = false;
  options.compression = rocksdb::kLZ4Compression;
  options.max_open_files = -1;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 1;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 64 << 10;
  table.no_block_cache = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, o.dir, &db);
  if (s.IsInvalidArgument() && s.ToString().find("ompression") != std::string::npos) {
    options.compression = rocksdb::kNoCompression;
    s = rocksdb::DB::Open(options, o.dir, &db);
  }
  if (!s.ok()) {
    return Status::IoError("cannot open the spill store in " + o.dir + ": " + s.ToString())
        .WithHint("point --tmp-dir at a writable directory with free space");
  }
  auto store = std::unique_ptr<ShardStore>(new ShardStore());
  store->dir_ = o.dir;
  store->db_.reset(db);
  return store;
}

ShardStore::~ShardStore() = default;

Status ShardStore::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::Status s = db_->Write(wo, batch);
  if (!s.ok()) {
    Status st = Status::IoError("cannot write to the spill store in " + dir_ + ": " + s.ToString());
    if (s.IsNoSpace() || s.ToString().find("No space") != std::string::npos ||
        s.ToString().find("File too large") != std::string::npos) {
      st.WithHint("free space where the spill store lives (" + dir_ + "; it needs about as much as the input) "
                  "or point --tmp-dir at a larger file system");
    }
    return st;
  }
  return Status::OK();
}

ShardStore::Cursor::~Cursor() = default;

std::unique_ptr<ShardStore::Cursor> ShardStore::NewCursor(int first, int last) {
  auto c = std::unique_ptr<Cursor>(new Cursor());
  ByteWriter(&c->lower_).U16(static_cast<uint16_t>(first));
  ByteWriter(&c->upper_).U16(static_cast<uint16_t>(last + 1));  // key group 32768 fits: 0x8000
  c->lo_ = std::make_unique<rocksdb::Slice>(c->lower_);
  c->hi_ = std::make_unique<rocksdb::Slice>(c->upper_);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 4 << 20;
  ro.iterate_lower_bound = c->lo_.get();
  ro.iterate_upper_bound = c->hi_.get();
  c->it_.reset(db_->NewIterator(ro));
  return c;
}

Status ShardStore::FinishLoad() { return Flush(); }

Status ShardStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo);
  if (!s.ok()) {
    return Status::IoError("cannot flush the spill store in " + dir_ + ": " + s.ToString())
        .WithHint("free space where the spill store lives (" + dir_ + ") or point --tmp-dir at a larger file system");
  }
  return Status::OK();
}

uint64_t ShardStore::ApproximateBytes() const {
  uint64_t memtables = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &memtables);
  return ApproximateDiskBytes() + memtables;
}

uint64_t ShardStore::ApproximateDiskBytes() const {
  uint64_t size = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &size);
  return size;
}

}  // namespace sfb
