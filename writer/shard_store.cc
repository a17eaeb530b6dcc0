#include "writer/shard_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

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

namespace {

template <typename T>
T LoadBigEndian(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(v));
  if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(v));
  if constexpr (sizeof(T) == 8) return static_cast<T>(__builtin_bswap64(v));
}

}  // namespace

// Called once per entry when the shards are built: plain loads, no reader.
Status DecodeStoreKey(std::string_view key, StoreKey* out) {
  constexpr size_t kTail = 2 + 8 + 4;
  if (key.size() < 4 + 1 + kTail) return Status::Corruption("spill store key too short");
  const char* p = key.data();
  out->key_group = LoadBigEndian<uint16_t>(p);
  out->function = LoadBigEndian<uint16_t>(p + 2);
  out->id_bytes = key.substr(4, key.size() - 4 - kTail);
  const char* tail = p + key.size() - kTail;
  out->source = LoadBigEndian<uint16_t>(tail);
  out->position = LoadBigEndian<uint64_t>(tail + 2);
  out->seq = LoadBigEndian<uint32_t>(tail + 10);
  return Status::OK();
}

namespace {

Status SpillIoError(const std::string& what, const std::string& dir, const rocksdb::Status& s) {
  Status st = Status::IoError(what + " " + dir + ": " + s.ToString());
  const std::string text = s.ToString();
  if (s.IsNoSpace() || text.find("No space") != std::string::npos || text.find("File too large") != std::string::npos) {
    return st.WithHint("free space where the spill store lives (" + dir + "; it needs about as much as the input) "
                       "or point --tmp-dir at a larger file system");
  }
  return st.WithHint("free space where the spill store lives (" + dir + ") or point --tmp-dir at a larger file system");
}

// The store's entries of a key range, through a RocksDB iterator.
class StoreCursor final : public EntryCursor {
 public:
  StoreCursor(rocksdb::DB* db, int first, int last, size_t readahead) {
    ByteWriter(&lower_).U16(static_cast<uint16_t>(first));
    ByteWriter(&upper_).U16(static_cast<uint16_t>(last + 1));  // key group 32768 fits: 0x8000
    lo_ = rocksdb::Slice(lower_);
    hi_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = readahead;
    ro.iterate_lower_bound = &lo_;
    ro.iterate_upper_bound = &hi_;
    it_.reset(db->NewIterator(ro));
    it_->SeekToFirst();
  }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return std::string_view(it_->key().data(), it_->key().size()); }
  std::string_view value() const override { return std::string_view(it_->value().data(), it_->value().size()); }
  void Next() override { it_->Next(); }
  Status status() const override {
    if (it_->status().ok()) return Status::OK();
    return Status::IoError("reading the spill store: " + it_->status().ToString());
  }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lo_, hi_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

Result<std::unique_ptr<ShardStore>> ShardStore::Open(const Options& o) {
  auto options = std::make_unique<rocksdb::Options>();
  options->create_if_missing = !o.reopen;
  options->error_if_exists = !o.reopen;
  // Nothing is written through the memtable (loaders add sorted files), so it stays small.
  options->write_buffer_size = 4 << 20;
  options->disable_auto_compactions = true;
  options->level0_file_num_compaction_trigger = 1 << 30;
  options->level0_slowdown_writes_trigger = 1 << 30;
  options->level0_stop_writes_trigger = 1 << 30;
  options->max_background_jobs = 2;
  options->compression = rocksdb::kLZ4Compression;
  options->max_open_files = -1;
  options->info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options->keep_log_file_num = 1;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 64 << 10;
  table.no_block_cache = true;
  options->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(*options, o.dir, &db);
  if (s.IsInvalidArgument() && s.ToString().find("ompression") != std::string::npos) {
    options->compression = rocksdb::kNoCompression;
    s = rocksdb::DB::Open(*options, o.dir, &db);
  }
  if (!s.ok()) {
    return Status::IoError("cannot open the spill store in " + o.dir + ": " + s.ToString())
        .WithHint("point --tmp-dir at a writable directory with free space");
  }
  auto store = std::unique_ptr<ShardStore>(new ShardStore());
  store->dir_ = o.dir;
  store->db_.reset(db);
  store->options_ = std::move(options);
  store->read_ahead_bytes_ = o.read_ahead_bytes;
  store->cursors_ = o.cursors;
  // Table files are written beside the store and moved in (a hard link) once complete; a run killed
  // while writing one leaves a partial file here, never in the store.
  store->loads_dir_ = o.dir + "-loads";
  std::error_code ec;
  std::filesystem::remove_all(store->loads_dir_, ec);
  if (!std::filesystem::create_directories(store->loads_dir_, ec) && ec) {
    return Status::IoError("cannot create " + store->loads_dir_ + ": " + ec.message())
        .WithHint("point --tmp-dir at a writable directory with free space");
  }
  return store;
}

ShardStore::~ShardStore() = default;

Status ShardStore::AddSortedRun(EntryCursor* entries) {
  if (!entries->Valid()) return entries->status();
  const std::string path = loads_dir_ + "/" + std::to_string(next_file_.fetch_add(1)) + ".sst";
  // Written pages stay cached: the shards are built from them soon after.
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *options_, nullptr, /*invalidate_page_cache=*/false);
  rocksdb::Status s = writer.Open(path);
  for (; s.ok() && entries->Valid(); entries->Next()) {
    const std::string_view key = entries->key(), value = entries->value();
    s = writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  }
  if (s.ok()) s = writer.Finish();
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return SpillIoError("cannot write to the spill store in", loads_dir_, s);
  }
  SFB_RETURN_IF_ERROR(entries->status());
  return AddFile(path);
}

Status ShardStore::AddFile(const std::string& path) {
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  ingest.snapshot_consistency = false;  // nothing reads during the load
  ingest.write_global_seqno = false;    // the sequence number lives in the manifest, not in the file
  rocksdb::Status s = db_->IngestExternalFile({path}, ingest);
  if (!s.ok()) return SpillIoError("cannot add a sorted file to the spill store in", dir_, s);
  std::error_code ec;
  std::filesystem::remove(path, ec);  // the store holds its own link
  return Status::OK();
}

std::unique_ptr<EntryCursor> ShardStore::NewCursor(int first, int last) {
  constexpr uint64_t kMaxReadahead = 4 << 20, kMinReadahead = 256 << 10;
  uint64_t readahead = kMaxReadahead;
  if (read_ahead_bytes_ > 0) {
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    const uint64_t readers = std::max<uint64_t>(1, files.size()) * static_cast<uint64_t>(std::max(1, cursors_));
    readahead = std::min(kMaxReadahead, read_ahead_bytes_ / readers);
    if (readahead < kMinReadahead) readahead = 0;  // RocksDB's own, which starts small
  }
  return std::make_unique<StoreCursor>(db_.get(), first, last, static_cast<size_t>(readahead));
}

bool ShardStore::empty() const { return ApproximateDiskBytes() == 0; }

Status ShardStore::FinishLoad() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo);
  if (!s.ok()) return SpillIoError("cannot flush the spill store in", dir_, s);
  return Status::OK();
}

uint64_t ShardStore::ApproximateDiskBytes() const {
  uint64_t size = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &size);
  return size;
}

}  // namespace sfb
