#include "writer/run_journal.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/file_io.h"

namespace sfb {
namespace {

class RunJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/run_journal_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RunJournalTest, AJournalOfThisVersionResumes) {
  const std::string path = dir_ + "/" + kRunJournalFile;
  RunJournal::Header header;
  header.fingerprint = "job-1";
  ASSERT_TRUE(RunJournal::Create(path, header).ok());
  auto resumed = RunJournal::Resume(path);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
}

TEST_F(RunJournalTest, AJournalOfAnotherVersionIsRefusedSayingWhichWroteIt) {
  // A store of the old form (fixed-width values) must not be read as the new one: the journal's
  // version says which form its store holds.
  const std::string path = dir_ + "/" + kRunJournalFile;
  ASSERT_TRUE(WriteStringToFileSynced(
                  path, "{\"journal\":1,\"fingerprint\":\"job-1\",\"ttl_timestamp\":0,\"spill_dir\":\"\",\"sources\":[]}\n")
                  .ok());
  auto resumed = RunJournal::Resume(path);
  ASSERT_FALSE(resumed.ok());
  const Status& s = resumed.status();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("was written by another version of statefun-bootstrap (journal version 1, this one "
                             "reads " + std::to_string(kJournalVersion) + ")"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_EQ(s.hint(), "run without --resume to start over");
}

}  // namespace
}  // namespace sfb
