// Byte-level tests of the savepoint format against the worked example in
// docs/flink-savepoint-format.md (section 8), which was checked against real Flink-written files, and
// against known hash vectors. Real Flink reading our output is tested separately (tests/flink).

#include <gtest/gtest.h>

#include "api/savepoint_creator.h"
#include "common/file_io.h"
#include "common/java_string.h"
#include "common/murmur.h"
#include "savepoint/key_groups.h"
#include "savepoint/metadata.h"
#include "savepoint/savepoint_reader.h"

namespace sfb {
namespace {

std::string Hex(std::string_view b) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(k[c >> 4]);
    s.push_back(k[c & 15]);
  }
  return s;
}

std::u16string U16(const std::string& s) {
  std::u16string out;
  EXPECT_TRUE(Utf8ToUtf16(s, &out));
  return out;
}

TEST(KeyGroups, MatchFlinkVectors) {
  EXPECT_EQ(JavaStringHashCode(U16("alice")), 92903040);
  EXPECT_EQ(JavaStringHashCode(U16("bob")), 97717);
  EXPECT_EQ(FlinkMurmurHash(92903040), 1795078388);
  EXPECT_EQ(FlinkMurmurHash(97717), 1928265815);
  EXPECT_EQ(FlinkMurmurHash(0), 593689054);
  EXPECT_EQ(KeyGroupForId(U16("alice"), 128), 116);
  EXPECT_EQ(KeyGroupForId(U16("bob"), 128), 87);
  EXPECT_EQ(KeyGroupForId(U16(""), 128), 94);
  EXPECT_EQ(FlinkMurmurHash(-1), 0x76293B50);
}

TEST(KeyGroups, SubtaskRangesCoverEveryGroupOnce) {
  for (int max_p : {1, 7, 128, 129, 32768}) {
    for (int p : {1, 2, 3, 5, 7}) {
      if (p > max_p) continue;
      int next = 0;
      for (int i = 0; i < p; ++i) {
        KeyGroupRange r = KeyGroupRangeForSubtask(max_p, p, i);
        EXPECT_EQ(r.start, next);
        for (int kg = r.start; kg <= r.end; ++kg) EXPECT_EQ(SubtaskForKeyGroup(max_p, p, kg), i);
        next = r.end + 1;
      }
      EXPECT_EQ(next, max_p);
    }
  }
}

TEST(OperatorId, FunctionsUid) {
  EXPECT_EQ(OperatorIdHex(OperatorIdFromUid("functions_uid1")), "6b87a4870d0e21cecbbe271bd893cfcc");
  EXPECT_EQ(OperatorIdHex(OperatorIdFromUid("feedback_union_uid1")), "31284d56d1e2112b0f20099ee448a6a9");
  // Guava Murmur3_128 vector: seed 0, "hell" -> h1=0x629942693e10f867, h2=0x92db0b82baeb5347.
  EXPECT_EQ(OperatorIdHex(Murmur3_128("hell")), "67f8103e69429962" "4753ebba820bdb92");
}

TEST(JavaString, PrepareJavaIdMatchesTheUtf16Path) {
  const std::string ids[] = {"alice", "", "user-1234567", std::string(200, 'a'), "caf\xc3\xa9",
                             "\xe6\x9d\xb1\xe4\xba\xac", "\xf0\x9f\x98\x80 smile", std::string("a\0b", 3)};
  for (const std::string& id : ids) {
    std::u16string scratch;
    int32_t hash = 0;
    std::string fast = "prefix";
    ASSERT_TRUE(PrepareJavaId(id, &scratch, &hash, &fast)) << id;
    std::string slow = "prefix";
    AppendStringValue(&slow, U16(id));
    EXPECT_EQ(Hex(fast), Hex(slow)) << id;
    EXPECT_EQ(hash, JavaStringHashCode(U16(id))) << id;
    EXPECT_EQ(KeyGroupForHash(hash, 128), KeyGroupForId(U16(id), 128)) << id;
    std::string value = "prefix";
    ASSERT_TRUE(AppendStringValueUtf8(&value, id, &scratch)) << id;
    EXPECT_EQ(Hex(value), Hex(slow)) << id;
    // And back, from a reader positioned after other bytes, leaving it after the string.
    const std::string bytes = value + "tail";
    ByteReader in(bytes);
    in.Seek(6);
    std::string back;
    ASSERT_TRUE(ReadStringValueUtf8(&in, &scratch, &back).ok()) << id;
    EXPECT_EQ(back, id);
    EXPECT_EQ(in.remaining(), 4u) << id;
  }
  std::u16string scratch;
  int32_t hash;
  std::string out;
  EXPECT_FALSE(PrepareJavaId("bad \xff byte", &scratch, &hash, &out));
  EXPECT_FALSE(PrepareJavaId("\xc3", &scratch, &hash, &out));  // truncated
  EXPECT_FALSE(AppendStringValueUtf8(&out, "bad \xff byte", &scratch));
  EXPECT_EQ(out, "");
  const std::string null_bytes(1, '\0');
  ByteReader null_string(null_bytes);
  EXPECT_EQ(ReadStringValueUtf8(&null_string, &scratch, &out).message(), "null string where a key was expected");
  ByteReader truncated("\x06" "ali");  // says 5 code units, holds 3
  EXPECT_FALSE(ReadStringValueUtf8(&truncated, &scratch, &out).ok());
}

TEST(JavaString, StringValueAndModifiedUtf8) {
  std::string out;
  AppendStringValue(&out, U16("alice"));
  EXPECT_EQ(Hex(out), "06616c696365");
  out.clear();
  AppendStringValue(&out, U16("\xc3\xa9"));  // é
  EXPECT_EQ(Hex(out), "02e901");
  out.clear();
  AppendStringValue(&out, std::u16string(200, u'a'));
  EXPECT_EQ(Hex(out.substr(0, 2)), "c901");
  out.clear();
  ASSERT_TRUE(AppendJavaUtf(&out, std::string("a\0b", 3)).ok());
  EXPECT_EQ(Hex(out), "000461c08062");
  out.clear();
  ASSERT_TRUE(AppendJavaUtf(&out, "\xf0\x9f\x98\x80").ok());  // U+1F600 as two 3-byte surrogates
  EXPECT_EQ(Hex(out), "0006eda0bdedb880");
  std::string back;
  ASSERT_TRUE(ModifiedUtf8ToUtf8(out.substr(2), &back));
  EXPECT_EQ(back, "\xf0\x9f\x98\x80");
}

// Section 8 of the format document: example.greeter.seen_count (io.statefun.types/int), alice=3, bob=1,
// max parallelism 128, parallelism 1, metadata V3.
class GreeterCount : public StateBootstrapFunction {
 public:
  Status Bootstrap(Context&, const Record& r) override {
    seen_.Set(static_cast<int32_t>(r.Get("count").as_int()));
    return Status::OK();
  }

 private:
  PersistedValue<int32_t> seen_{this, "seen_count", types::Int()};
};

class VectorSource : public Source {
 public:
  explicit VectorSource(std::vector<Record> records) : records_(std::move(records)) {}
  Status Prepare() override { return Status::OK(); }
  size_t num_splits() const override { return 1; }
  Status ReadSplit(size_t, RecordConsumer& c, const std::atomic<bool>&) override {
    for (size_t i = 0; i < records_.size(); ++i) SFB_RETURN_IF_ERROR(c.Consume(records_[i], i));
    return Status::OK();
  }
  std::string DescribePosition(uint64_t p) const override { return "record " + std::to_string(p); }

 private:
  std::vector<Record> records_;
};

class ById : public Router {
 public:
  Status Route(const Record& r, Downstream& d) const override {
    return d.Forward("example/greeter", r.Get("id").as_string());
  }
};

constexpr char kExpectedStateFile[] =
    "0000000600000000020054"
    "6f72672e6170616368652e666c696e6b2e6170692e636f6d6d6f6e2e747970657574696c732e626173652e537472696e67"
    "53657269616c697a657224537472696e6753657269616c697a6572536e617073686f74"
    "000000030001001a6578616d706c652e677265657465722e7365656e5f636f756e74"
    "000000000000000100104b455945445f53544154455f5459504500055641 4c5545"
    "0000000200105641 4c55455f53455249414c495a455200000002004f"
    "6f72672e6170616368652e666c696e6b2e73746174656675 6e2e666c696e6b2e636f72652e74797065732e72656d6f74652e"
    "52656d6f746556616c756553657269616c697a6572536e617073686f74"
    "00000001001169 6f2e73746174656675 6e2e7479706573000369 6e74"
    "00144e414d4553504143455f53455249414c495a45520000000200566f72672e6170616368652e666c696e6b2e72756e74696d65"
    "2e73746174652e566f69644e616d65737061636553657269616c697a657224566f69644e616d65737061636553657269616c69"
    "7a6572536e617073686f7400000003"
    "00000000 0006d7 04626f6200 00000009 000000050d01000000 ffff"
    "0000 00000008 f406616c69636500 00000009 000000050d03000000 ffff";

std::string Compact(const char* s) {
  std::string out;
  for (; *s; ++s) if (*s != ' ') out.push_back(*s);
  return out;
}

TEST(WorkedExample, StateFileAndMetadataMatchByteForByte) {
  const std::string dir = ::testing::TempDir() + "/sfb-worked-example";
  RemoveAll(dir);
  SavepointCreator creator(128);
  creator.WithParallelism(1).WithThreads(2);
  creator.WithStateBootstrapFunctionProvider("example/greeter", [] { return std::make_unique<GreeterCount>(); });
  std::vector<Record> records = {MakeRecord({{"id", Value::Text("alice")}, {"count", Value::Int(3)}}),
                                 MakeRecord({{"id", Value::Text("bob")}, {"count", Value::Int(1)}})};
  creator.WithBootstrapData("people", std::make_unique<VectorSource>(records), std::make_shared<ById>());
  Status s = creator.Write(dir);
  ASSERT_TRUE(s.ok()) << s.ToUserString();

  std::string state;
  ASSERT_TRUE(ReadFileToString(dir + "/keyed-state-functions-0", &state).ok());
  EXPECT_EQ(Hex(state), Compact(kExpectedStateFile));
  EXPECT_EQ(state.size(), 471u);

  std::string meta;
  ASSERT_TRUE(ReadFileToString(dir + "/_metadata", &meta).ok());
  ASSERT_EQ(meta.size(), 1141u);
  EXPECT_EQ(Hex(meta.substr(0, 0x4a)),
            "4960672d00000003000000000000000000000000000000016b87a4870d0e21cecbbe271bd893cfcc"
            "0000000100000080000000000100000000000000000000000007000000000000008" "0");
  EXPECT_EQ(Hex(meta.substr(0x302, 8)), "000000000000019f");
  EXPECT_EQ(Hex(meta.substr(0x3ea, 8)), "00000000000001ba");
  EXPECT_EQ(Hex(meta.substr(0x44a)),
            "0600176b657965642d73746174652d66756e6374696f6e732d3000000000000001d7000000000000000000");

  // Our reader reads it back.
  auto reader = SavepointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status().ToUserString();
  std::vector<SavepointReader::Stream> streams;
  ASSERT_TRUE((*reader)->OpenStreams(&streams).ok());
  ASSERT_EQ(streams.size(), 1u);
  std::map<std::string, int32_t> got;
  ASSERT_TRUE((*reader)->ForEachEntry(streams[0], [&](const SavepointReader::Entry& e) {
    StateValue v;
    int64_t ts;
    EXPECT_TRUE(e.state->supported);
    SFB_RETURN_IF_ERROR(e.state->descriptor.DecodeValue(e.value, &v, &ts));
    got[Utf16ToUtf8(e.id)] = std::get<int32_t>(v);
    return Status::OK();
  }).ok());
  EXPECT_EQ(got, (std::map<std::string, int32_t>{{"alice", 3}, {"bob", 1}}));
  RemoveAll(dir);
}

}  // namespace
}  // namespace sfb
