// Bases written by real Flink 1.16.2 + statefun 3.3.0 (savepoint/testdata, taken with stop-with-savepoint,
// canonical format, by tests/restore: `app serve --stop-file`, see testdata/README.md) parse completely and
// re-serialize to the same bytes; refusals (native format, absolute files) and damaged bases fail naming
// what is wrong.

#include "savepoint/base_savepoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/file_io.h"
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

TEST(BaseSavepoint, RefusesSnapshotCompressionForNow) {
  auto base = BaseSavepoint::Open(TestData("flink116-rocksdb-compressed"));
  ASSERT_FALSE(base.ok());
  EXPECT_NE(base.status().ToUserString().find("compression"), std::string::npos) << base.status().ToUserString();
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
