#include "common/file_io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sfb {
namespace {

// Bytes that differ at every offset (a shifted or repeated piece would not compare equal).
std::string Pattern(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : out) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

// Appends pieces of the sizes a keyed-state file sees (headers of a few bytes, runs of up to 4 MB, pieces
// larger than a chunk) and checks that the file holds exactly them.
void ExpectSinkWritesExactly(const std::string& path) {
  auto sink = FileSink::CreateDirect(path);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::string expected;
  const std::vector<size_t> sizes = {0, 1, 17, 4096, (4 << 20) - 18, 1, (4 << 20), 3 << 20, (9 << 20) + 5, 2, 4095};
  uint32_t seed = 1;
  for (const size_t n : sizes) {
    const std::string piece = Pattern(n, seed++);
    ASSERT_TRUE((*sink)->Append(piece).ok());
    expected += piece;
    EXPECT_EQ((*sink)->position(), expected.size());
  }
  ASSERT_TRUE((*sink)->Close().ok());
  std::string got;
  ASSERT_TRUE(ReadFileToString(path, &got).ok());
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "the file's bytes differ from what was appended";
}

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/file_io_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileSinkTest, DirectSinkWritesExactlyTheAppendedBytes) { ExpectSinkWritesExactly(dir_ + "/direct"); }

TEST_F(FileSinkTest, DirectSinkWritesExactlyWhereTheFileSystemHasNoODirect) {
  // tmpfs refuses O_DIRECT at open: the sink falls back to the page cache.
  if (!std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  char tmpl[] = "/dev/shm/file_io_test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ExpectSinkWritesExactly(dir + "/fallback");
  std::filesystem::remove_all(dir);
}

TEST_F(FileSinkTest, DirectSinkOfNothingIsAnEmptyFile) {
  auto sink = FileSink::CreateDirect(dir_ + "/empty");
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Close().ok());
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/empty").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(FileSinkTest, DirectSinkDroppedWithoutCloseWaitsForItsWrite) {
  // A builder that fails drops its sink mid-file: the background write must finish before the file
  // descriptor closes (ASan and TSan see it if not).
  {
    auto sink = FileSink::CreateDirect(dir_ + "/dropped");
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Append(Pattern(5 << 20, 7)).ok());
  }
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/dropped").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4 << 20);  // the one whole chunk
}

TEST_F(FileSinkTest, AFullDeviceNamesTheFileAndHowFarItGot) {
  auto sink = FileSink::CreateDirect("/dev/full");
  if (!sink.ok()) GTEST_SKIP() << "cannot open /dev/full: " << sink.status().ToString();
  Status s = (*sink)->Append(Pattern(9 << 20, 3));
  if (s.ok()) s = (*sink)->Close();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("/dev/full"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("No space left on device"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("bytes of this file"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sfb
