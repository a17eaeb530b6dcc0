// Bases written by real Flink 1.16.2 + statefun 3.3.0 (savepoint/testdata, taken with stop-with-savepoint,
// canonical format, by tests/restore: `app serve --stop-file`, see testdata/README.md) parse completely and
// re-serialize to the same bytes; refusals (native format, absolute files) and damaged bases fail naming
// what is wrong.

#include "savepoint/base_savepoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/file_io.h"
#include "common/str_cat.h"
#include "savepoint/metadata.h"

namespace sfb {
namespace {

namespace fs = std::filesystem;

std::string TestData(const std::string& name) { return std::string(SFB_SOURCE_DIR) + "/savepoint/testdata/" + name; }

// A private copy of a test base, so a test can damage it.
class BaseCopy {
 public:
  explicit BaseCopy(const std::string& name) {
    char tmpl[] = "/tmp/base_savepoint_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::copy(TestData(name), dir_);
  }
  ~BaseCopy() { fs::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

std::string Slurp(const std::string& path) {
  std::string s;
  EXPECT_TRUE(ReadFileToString(path, &s).ok()) << path;
  return s;
}

void Spill(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

int CountEntries(const BaseSavepoint& base, const std::string& flink_name, std::set<std::u16string>* ids) {
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE(base.reader().OpenStreams(&streams).ok());
  int n = 0;
  for (const auto& s : streams) {
    Status st = base.reader().ForEachEntry(s, [&](const SavepointReader::Entry& e) -> Status {
      if (e.state->flink_name == flink_name) {
        ++n;
        ids->insert(e.id);
      }
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return n;
}

TEST(BaseSavepoint, ReadsARealRocksDbSavepointCompletely) {
  auto base = BaseSavepoint::Open(TestData("flink116-rocksdb"));
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  const SavepointMetadata& m = (*base)->metadata();
  EXPECT_EQ(m.version, 4);
  ASSERT_NE((*base)->functions_operator(), nullptr);
  EXPECT_EQ((*base)->functions_operator()->parallelism, 2);
  EXPECT_EQ((*base)->functions_operator()->max_parallelism, 128);
  // source+router chain, feedback union, functions (and the egress sink chain when it has state)
  EXPECT_GE(m.operators.size(), 3u);
  EXPECT_EQ((*base)->other_operators().size(), m.operators.size() - 1);
  int raw_keyed = 0, keyed = 0;
  for (const auto& op : m.operators) {
    for (const auto& st : op.subtasks) {
      keyed += st.has_keyed_state;
      raw_keyed += st.has_raw_keyed_state;
      if (st.has_raw_keyed_state) {
        EXPECT_EQ(st.raw_keyed.kind, KeyedStateHandle::Kind::kKeyGroupsWithId);  // feedback's raw keyed state
        EXPECT_FALSE(st.raw_keyed.handle_id.empty());
      }
    }
  }
  EXPECT_EQ(keyed, 2);      // functions_uid1, two subtasks
  EXPECT_EQ(raw_keyed, 2);  // feedback_union_uid1, two subtasks
  // every file of the directory is named by a handle, with its size
  std::set<std::string> on_disk, named;
  for (const auto& e : fs::directory_iterator(TestData("flink116-rocksdb"))) {
    if (e.path().filename() != kMetadataFileName) on_disk.insert(e.path().filename());
  }
  for (const auto& f : (*base)->files()) {
    named.insert(f.name);
    EXPECT_EQ(f.size, static_cast<int64_t>(fs::file_size(TestData("flink116-rocksdb/" + f.name))));
  }
  EXPECT_EQ(named, on_disk);
  std::set<std::u16string> ids;
  EXPECT_EQ(CountEntries(**base, "restore.counter.seen", &ids), 7);
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_TRUE(ids.count(u"user-0"));
}

// Parsing keeps every field: the parsed metadata serializes back to exactly Flink's V3 body.
TEST(BaseSavepoint, RealMetadataReserializesByteForByte) {
  for (const char* name : {"flink116-rocksdb", "flink116-hashmap-inline"}) {
    const std::string bytes = Slurp(TestData(std::string(name) + "/_metadata"));
    SavepointMetadata m;
    ASSERT_TRUE(ParseMetadata(bytes, &m).ok()) << name;
    ASSERT_EQ(m.version, 4);
    ASSERT_GT(m.v4_trailer.size(), 5u) << "a running job's savepoint has non-null CheckpointProperties";
    EXPECT_EQ(static_cast<uint8_t>(m.v4_trailer[0]), 0xAC);  // Java serialization stream magic
    auto ours = SerializeMetadata(m);
    ASSERT_TRUE(ours.ok());
    const std::string flink_body = bytes.substr(8, bytes.size() - 8 - m.v4_trailer.size());
    EXPECT_EQ(ours->substr(0, 4), bytes.substr(0, 4));
    EXPECT_EQ(ours->substr(8), flink_body) << name;
  }
}

TEST(BaseSavepoint, ReadsAHashmapSavepointWithEveryStreamInline) {
  auto base = BaseSavepoint::Open(TestData("flink116-hashmap-inline"));
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  EXPECT_TRUE((*base)->files().empty());
  int inline_streams = 0;
  for (const auto& op : (*base)->metadata().operators) {
    for (const StreamHandle* h : StreamHandlesOf(op)) {
      EXPECT_EQ(h->type, StreamHandle::Type::kInline);
      ++inline_streams;
    }
  }
  EXPECT_GE(inline_streams, 4);
  std::set<std::u16string> ids;
  EXPECT_EQ(CountEntries(**base, "restore.counter.seen", &ids), 7);
}

// Every entry of the functions operator, by (state, id): the values as the reader decodes them.
std::map<std::pair<std::string, std::u16string>, std::string> AllEntries(const BaseSavepoint& base) {
  std::map<std::pair<std::string, std::u16string>, std::string> all;
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE(base.reader().OpenStreams(&streams).ok());
  for (const auto& s : streams) {
    Status st = base.reader().ForEachEntry(s, [&](const SavepointReader::Entry& e) -> Status {
      if (e.state->supported) all[{e.state->flink_name, e.id}] = std::string(e.value);
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return all;
}

// Flink wrote the same application's state (40 messages to 7 ids) once with snapshot compression off and
// once on: the compressed base's key groups are snappy-framed, and decode to the same values.
TEST(BaseSavepoint, ReadsASnapshotCompressedBaseValueForValue) {
  auto base = BaseSavepoint::Open(TestData("flink116-rocksdb-compressed"));
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  std::vector<SavepointReader::Stream> streams;
  ASSERT_TRUE((*base)->reader().OpenStreams(&streams).ok());
  ASSERT_EQ(streams.size(), 2u);
  for (const auto& s : streams) {
    EXPECT_TRUE(s.header.compressed) << s.name;
    // Each non-empty key group starts with the snappy stream identifier (chunk 0xFF, length 6, "sNaPpY").
    for (int64_t off : s.handle->offsets) {
      if (off == 0) continue;
      EXPECT_EQ(s.bytes.substr(static_cast<size_t>(off), 10), std::string_view("\xff\x06\0\0sNaPpY", 10));
    }
  }
  auto plain = BaseSavepoint::Open(TestData("flink116-rocksdb"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToUserString();
  const auto compressed_entries = AllEntries(**base);
  const auto plain_entries = AllEntries(**plain);
  EXPECT_EQ(compressed_entries.size(), 7u);
  EXPECT_EQ(compressed_entries, plain_entries);
  std::set<std::u16string> ids;
  EXPECT_EQ(CountEntries(**base, "restore.counter.seen", &ids), 7);
}

// The first data chunk's CRC of subtask 0's first key group: a flipped byte fails reading with Corruption
// naming the file, the handle's subtask, the key group and the CRC.
TEST(BaseSavepoint, ABadCrcInACompressedBaseIsCorruptionNamingWhere) {
  BaseCopy copy("flink116-rocksdb-compressed");
  std::string file;
  int key_group = -1;
  {
    auto base = BaseSavepoint::Open(copy.dir());
    ASSERT_TRUE(base.ok()) << base.status().ToUserString();
    std::vector<SavepointReader::Stream> streams;
    ASSERT_TRUE((*base)->reader().OpenStreams(&streams).ok());
    const auto& s = streams[0];
    for (size_t i = 0; i < s.handle->offsets.size() && key_group < 0; ++i) {
      if (s.handle->offsets[i] == 0) continue;
      key_group = s.handle->start_key_group + static_cast<int>(i);
      file = s.name;
      std::string bytes = Slurp(file);
      // identifier chunk (10 bytes), then the data chunk's 4-byte header, then its CRC
      const size_t crc_at = static_cast<size_t>(s.handle->offsets[i]) + 10 + 4;
      bytes[crc_at] = static_cast<char>(bytes[crc_at] ^ 0x01);
      Spill(file + ".damaged", bytes);
    }
  }
  ASSERT_GE(key_group, 0);
  fs::rename(file + ".damaged", file);
  auto base = BaseSavepoint::Open(copy.dir());
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  std::vector<SavepointReader::Stream> streams;
  ASSERT_TRUE((*base)->reader().OpenStreams(&streams).ok());
  Status st = (*base)->reader().ForEachEntry(streams[0], [](const SavepointReader::Entry&) { return Status::OK(); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  const std::string msg = st.ToString();
  EXPECT_NE(msg.find("CRC mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find(fs::path(file).filename().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("subtask 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find(StrCat("key group ", std::to_string(key_group), " ")), std::string::npos) << msg;
}

TEST(BaseSavepoint, RefusesNativeFormatKeyedState) {
  BaseCopy copy("flink116-rocksdb");
  const std::string path = copy.dir() + "/_metadata";
  SavepointMetadata m;
  ASSERT_TRUE(ParseMetadata(Slurp(path), &m).ok());
  for (auto& op : m.operators) {
    for (auto& st : op.subtasks) {
      if (st.has_keyed_state) st.keyed.kind = KeyedStateHandle::Kind::kKeyGroups;  // what heap native writes
    }
  }
  Spill(path, *SerializeMetadata(m));
  auto base = BaseSavepoint::Open(copy.dir());
  ASSERT_FALSE(base.ok());
  const std::string msg = base.status().ToUserString();
  EXPECT_NE(msg.find("native-format"), std::string::npos) << msg;
  EXPECT_NE(msg.find("flink stop --type canonical"), std::string::npos) << msg;
}

TEST(BaseSavepoint, RefusesRocksDbIncrementalHandles) {
  BaseCopy copy("flink116-rocksdb");
  const std::string path = copy.dir() + "/_metadata";
  SavepointMetadata m;
  std::string bytes = Slurp(path);
  ASSERT_TRUE(ParseMetadata(bytes, &m).ok());
  // Turn the first managed keyed handle's type byte (7) into 11, RocksDB's incremental/native handle.
  std::string ours = *SerializeMetadata(m);
  const OperatorId fn = OperatorIdFromUid(kFunctionsOperatorUid);
  const size_t op_at = ours.find(std::string(reinterpret_cast<const char*>(fn.data()), fn.size()));
  ASSERT_NE(op_at, std::string::npos);
  const size_t handle_at = op_at + 16 + 4 + 4 + 1 + 4 + 4 + 4 + 4;  // id, p, maxP, coordinator, n, index, 2 slots
  ASSERT_EQ(ours[handle_at], 7);
  ours[handle_at] = 11;
  Spill(path, ours);
  auto base = BaseSavepoint::Open(copy.dir());
  ASSERT_FALSE(base.ok());
  const std::string msg = base.status().ToUserString();
  EXPECT_NE(msg.find("RocksDB incremental or native-format"), std::string::npos) << msg;
  EXPECT_NE(msg.find("managed keyed state"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--type canonical"), std::string::npos) << msg;
}

TEST(BaseSavepoint, RefusesAbsoluteFiles) {
  BaseCopy copy("flink116-rocksdb");
  const std::string path = copy.dir() + "/_metadata";
  SavepointMetadata m;
  ASSERT_TRUE(ParseMetadata(Slurp(path), &m).ok());
  StreamHandle* h = MutableStreamHandlesOf(&m.operators[0])[0];
  h->path = copy.dir() + "/" + h->path;
  h->type = StreamHandle::Type::kAbsoluteFile;
  Spill(path, *SerializeMetadata(m));
  auto base = BaseSavepoint::Open(copy.dir());
  ASSERT_FALSE(base.ok());
  EXPECT_NE(base.status().ToUserString().find("absolute file"), std::string::npos) << base.status().ToUserString();
}

TEST(BaseSavepoint, DamagedBasesNameTheFile) {
  std::string victim;
  {
    auto base = BaseSavepoint::Open(TestData("flink116-rocksdb"));
    ASSERT_TRUE(base.ok());
    for (const auto& f : (*base)->files()) {
      if (!f.of_functions_operator) victim = f.name;
    }
  }
  ASSERT_FALSE(victim.empty());
  {
    BaseCopy copy("flink116-rocksdb");
    fs::resize_file(copy.dir() + "/" + victim, 10);
    auto base = BaseSavepoint::Open(copy.dir());
    ASSERT_FALSE(base.ok());
    const std::string msg = base.status().ToUserString();
    EXPECT_NE(msg.find(victim), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  }
  {
    BaseCopy copy("flink116-rocksdb");
    fs::remove(copy.dir() + "/" + victim);
    auto base = BaseSavepoint::Open(copy.dir());
    ASSERT_FALSE(base.ok());
    const std::string msg = base.status().ToUserString();
    EXPECT_NE(msg.find(victim), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  }
  {
    BaseCopy copy("flink116-rocksdb");
    std::string bytes = Slurp(copy.dir() + "/_metadata");
    Spill(copy.dir() + "/_metadata", bytes.substr(0, bytes.size() / 2));
    auto base = BaseSavepoint::Open(copy.dir());
    ASSERT_FALSE(base.ok());
    EXPECT_NE(base.status().ToUserString().find("_metadata"), std::string::npos) << base.status().ToUserString();
  }
}

TEST(BaseSavepoint, NoticesABaseChangedDuringTheRun) {
  BaseCopy copy("flink116-rocksdb");
  auto base = BaseSavepoint::Open(copy.dir());
  ASSERT_TRUE(base.ok());
  EXPECT_TRUE((*base)->CheckUnchanged().ok());
  const std::string victim = (*base)->files()[0].name;
  std::ofstream(copy.dir() + "/" + victim, std::ios::binary | std::ios::app) << "x";
  Status s = (*base)->CheckUnchanged();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find(victim), std::string::npos) << s.ToUserString();
}

}  // namespace
}  // namespace sfb
