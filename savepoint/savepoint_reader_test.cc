// The reader refuses crafted handles that point outside the savepoint, and reads in-memory savepoints.

#include "savepoint/savepoint_reader.h"

#include <gtest/gtest.h>

#include "common/file_io.h"
#include "savepoint/keyed_state_file.h"

namespace sfb {
namespace {

std::string MetadataWithStream(StreamHandle::Type type, const std::string& path,
                               const std::vector<int64_t>& offsets = {0, 0, 0, 0}) {
  SavepointMetadata m;
  OperatorStateMeta op;
  op.id = OperatorIdFromUid(kFunctionsOperatorUid);
  op.parallelism = 1;
  op.max_parallelism = 4;
  SubtaskState st;
  st.has_keyed_state = true;
  st.keyed.offsets = offsets;
  st.keyed.stream.type = type;
  st.keyed.stream.path = path;
  op.subtasks.push_back(st);
  m.operators.push_back(op);
  return *SerializeMetadata(m);
}

std::string EmptyStateFile() {
  std::string header;
  EXPECT_TRUE(AppendKeyedStateHeader(&header, {}).ok());
  return header;
}

TEST(SavepointReader, RefusesRelativePathsThatEscape) {
  for (const std::string bad : {"../etc/passwd", "sub/file", "..", "", "a\\b"}) {
    auto reader = SavepointReader::FromMemory(MetadataWithStream(StreamHandle::Type::kRelativeFile, bad),
                                              {{bad, EmptyStateFile()}});
    ASSERT_TRUE(reader.ok());
    std::vector<SavepointReader::Stream> streams;
    Status s = (*reader)->OpenStreams(&streams);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << bad;
    EXPECT_NE(s.message().find("is not a plain file name inside the savepoint"), std::string::npos) << bad;
  }
}

TEST(SavepointReader, RefusesAbsolutePathsOutsideTheDirectory) {
  const std::string dir = ::testing::TempDir() + "/sfb-reader-abs";
  RemoveAll(dir);
  ASSERT_EQ(::system(("mkdir -p " + dir).c_str()), 0);
  ASSERT_TRUE(WriteStringToFileSynced(dir + "/_metadata",
                                      MetadataWithStream(StreamHandle::Type::kAbsoluteFile, "file:/etc/hostname")).ok());
  auto reader = SavepointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<SavepointReader::Stream> streams;
  Status s = (*reader)->OpenStreams(&streams);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("lies outside the savepoint directory"), std::string::npos);

  // An absolute handle naming a file inside the directory is fine (Flink writes such handles).
  ASSERT_TRUE(WriteStringToFileSynced(dir + "/data", EmptyStateFile()).ok());
  ASSERT_TRUE(WriteStringToFileSynced(dir + "/_metadata",
                                      MetadataWithStream(StreamHandle::Type::kAbsoluteFile, "file:" + dir + "/data")).ok());
  reader = SavepointReader::Open(dir);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->OpenStreams(&streams).ok());
  EXPECT_EQ(streams.size(), 1u);
  RemoveAll(dir);
}

// A key-group offset inside the stream's header or past its end is Corruption naming the group, the
// offset, the stream's size and the stream: what every walk over a stream (the reader's, a base's values,
// the carry-over's merge) reports through Stream::SectionOffset.
TEST(SavepointReader, AKeyGroupOffsetOutsideTheStreamIsCorruptionNamingIt) {
  const std::string file = EmptyStateFile();
  for (const int64_t bad : {int64_t{2}, static_cast<int64_t>(file.size()) + 5}) {
    auto reader =
        SavepointReader::FromMemory(MetadataWithStream(StreamHandle::Type::kRelativeFile, "f", {0, bad, 0, 0}),
                                    {{"f", file}});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<SavepointReader::Stream> streams;
    ASSERT_TRUE((*reader)->OpenStreams(&streams).ok());
    ASSERT_EQ(streams.size(), 1u);
    const SavepointReader::Stream& stream = streams[0];
    EXPECT_TRUE(stream.HoldsKeyGroup(1));
    EXPECT_FALSE(stream.HoldsKeyGroup(4));
    const std::string expected = "key group 1 starts at offset " + std::to_string(bad) + ", outside the data of a " +
                                 std::to_string(file.size()) + "-byte stream";
    auto off = stream.SectionOffset(1);
    ASSERT_FALSE(off.ok()) << bad;
    EXPECT_EQ(off.status().code(), Status::Code::kCorruption);
    EXPECT_NE(off.status().ToUserString().find(expected), std::string::npos) << off.status().ToUserString();
    EXPECT_NE(off.status().ToUserString().find("(memory)/f: " + expected), std::string::npos);  // the stream
    auto empty = stream.SectionOffset(0);  // an empty group, and one outside the range: no section
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(*empty, 0u);
    auto outside = stream.SectionOffset(7);
    ASSERT_TRUE(outside.ok());
    EXPECT_EQ(*outside, 0u);
    Status walk = (*reader)->ForEachEntry(stream, [](const SavepointReader::Entry&) { return Status::OK(); });
    EXPECT_EQ(walk.code(), Status::Code::kCorruption);
    EXPECT_NE(walk.ToUserString().find(expected), std::string::npos) << walk.ToUserString();
  }
}

TEST(SavepointReader, TruncatedMetadataIsCorruptionNotACrash) {
  const std::string meta = MetadataWithStream(StreamHandle::Type::kRelativeFile, "f");
  for (size_t n = 0; n < meta.size(); n += 3) {
    auto reader = SavepointReader::FromMemory(std::string_view(meta).substr(0, n), {});
    EXPECT_FALSE(reader.ok()) << n;
  }
}

}  // namespace
}  // namespace sfb
