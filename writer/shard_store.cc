#include "writer/shard_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

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

// Big-endian number of key bytes [from, from + 8), zero-padded.
uint64_t KeyPrefix(std::string_view key, size_t from) {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (key.size() > from) std::memcpy(b, key.data() + from, std::min<size_t>(8, key.size() - from));
  uint64_t p = 0;
  for (unsigned char c : b) p = (p << 8) | c;
  return p;
}

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
  // Loaders' files are written beside the store and moved in (a hard link) once complete; a run killed
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

std::unique_ptr<ShardStore::Loader> ShardStore::NewLoader(size_t budget_bytes) {
  return std::unique_ptr<Loader>(new Loader(this, budget_bytes));
}

void ShardStore::Loader::Put(std::string_view key, std::string_view value) {
  entries_.push_back(Entry{{KeyPrefix(key, 0), KeyPrefix(key, 8)}, static_cast<uint32_t>(arena_.size()),
                           static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
  arena_.append(key);
  arena_.append(value);
}

void ShardStore::Loader::RollbackTo(const Mark& m) {
  entries_.resize(m.entries);
  arena_.resize(m.bytes);
}

Status ShardStore::Loader::Flush() {
  if (entries_.empty()) return Status::OK();
  const char* base = arena_.data();
  // Bytewise key order (RocksDB's), ties by insertion so the newest of equal keys comes last.
  // Zero padding keeps the order bytewise: where a shorter key's padding first differs from a longer
  // key, the longer one has a non-zero byte there and the shorter key is its prefix so far.
  auto same_prefix = [](const Entry& a, const Entry& b) {
    return a.prefix[0] == b.prefix[0] && a.prefix[1] == b.prefix[1];
  };
  std::sort(entries_.begin(), entries_.end(), [base, &same_prefix](const Entry& a, const Entry& b) {
    if (!same_prefix(a, b)) return a.prefix[0] != b.prefix[0] ? a.prefix[0] < b.prefix[0] : a.prefix[1] < b.prefix[1];
    const int c = std::string_view(base + a.offset, a.key_size).compare(std::string_view(base + b.offset, b.key_size));
    if (c != 0) return c < 0;
    return a.offset < b.offset;
  });
  const std::string path = store_->loads_dir_ + "/" + std::to_string(store_->next_file_.fetch_add(1)) + ".sst";
  // Written pages stay cached: the shards are built from them soon after.
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *store_->options_, nullptr, /*invalidate_page_cache=*/false);
  rocksdb::Status s = writer.Open(path);
  for (size_t i = 0; s.ok() && i < entries_.size(); ++i) {
    // Sorted entries point all over the arena: fetch a few ahead so their keys are cached when needed.
    constexpr size_t kPrefetch = 8;
    if (i + kPrefetch < entries_.size()) __builtin_prefetch(base + entries_[i + kPrefetch].offset);
    const Entry& e = entries_[i];
    const std::string_view key(base + e.offset, e.key_size);
    if (i + 1 < entries_.size()) {
      const Entry& next = entries_[i + 1];
      if (same_prefix(next, e) && std::string_view(base + next.offset, next.key_size) == key) continue;
    }
    s = writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(base + e.offset + e.key_size, e.value_size));
  }
  if (s.ok()) s = writer.Finish();
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return SpillIoError("cannot write to the spill store in", store_->loads_dir_, s);
  }
  entries_.clear();
  arena_.clear();
  return store_->AddFile(path);
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
