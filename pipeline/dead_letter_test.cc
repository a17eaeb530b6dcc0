// DeadLetterFile on its own: each rejection is one JSON line, the budget holds, a resumed run cuts the
// file back to what its journal counted, and an unwritable path is a clear error.
// (How a run uses it, a record routed whole or dead-lettered whole, is api/savepoint_creator_dead_letters_test.cc.)

#include "pipeline/dead_letter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace sfb {
namespace {

std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(DeadLetterFile, WritesEachRejectionAndEnforcesTheBudget) {
  const std::string path = ::testing::TempDir() + "/sfb-dead-letter-unit.jsonl";
  auto file = DeadLetterFile::Create({path, 2});
  ASSERT_TRUE(file.ok()) << file.status().ToUserString();
  Status bad = Status::BadRecord("the line has 2 fields").WithContext("a.csv:3").WithHint("quote it");
  std::string pending;
  EXPECT_TRUE((*file)->Add("users", "a.csv:3", "parse", bad, {{"line", JsonBytes("u2,\xff")}}, &pending).ok());
  EXPECT_TRUE((*file)->Add("users", "a.csv:4", "route", Status::BadRecord("not an int"), {{"id", "u4"}}, &pending).ok());
  uint64_t size = 0;
  ASSERT_TRUE((*file)->Commit(pending, &size).ok());
  EXPECT_EQ(size, pending.size());
  pending.clear();
  Status over = (*file)->Add("users", "a.csv:5", "route", Status::BadRecord("no id"), {{"id", nullptr}}, &pending);
  EXPECT_EQ(over.code(), Status::Code::kBadRecord);
  EXPECT_NE(over.message().find("more than 2 bad records"), std::string::npos) << over.message();
  EXPECT_NE(over.message().find("no id"), std::string::npos) << over.message();
  EXPECT_NE(over.hint().find(path), std::string::npos) << over.hint();
  EXPECT_EQ((*file)->count(), 3u);
  ASSERT_TRUE((*file)->Commit(pending).ok());
  ASSERT_TRUE((*file)->Close().ok());

  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 3u);  // the record over the budget is kept too: it is why the run failed
  EXPECT_EQ(lines[0]["source"], "users");
  EXPECT_EQ(lines[0]["position"], "a.csv:3");
  EXPECT_EQ(lines[0]["stage"], "parse");
  EXPECT_EQ(lines[0]["error"], "a.csv:3: the line has 2 fields");
  EXPECT_EQ(lines[0]["hint"], "quote it");
  EXPECT_EQ(lines[0]["raw"]["line"]["base64"], "dTIs/w==");  // not UTF-8: every byte kept
  EXPECT_EQ(lines[1]["stage"], "route");
  EXPECT_EQ(lines[1]["record"]["id"], "u4");
  EXPECT_FALSE(lines[1].contains("hint"));
  EXPECT_TRUE(lines[2]["record"]["id"].is_null());
}

TEST(DeadLetterFile, ResumingCutsTheFileBackToWhatTheJournalCounted) {
  const std::string path = ::testing::TempDir() + "/sfb-dead-letter-resume.jsonl";
  std::string kept, lost;
  {
    auto file = DeadLetterFile::Create({path, 10});
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Add("s", "p1", "route", Status::BadRecord("a"), {{"x", 1}}, &kept).ok());
    ASSERT_TRUE((*file)->Add("s", "p2", "route", Status::BadRecord("b"), {{"x", 2}}, &lost).ok());
    ASSERT_TRUE((*file)->Commit(kept).ok());
    ASSERT_TRUE((*file)->Commit(lost).ok());  // a split the journal never saw finish
  }
  auto file = DeadLetterFile::Create({path, 2}, kept.size(), 1);  // 1 of the 2 allowed already used
  ASSERT_TRUE(file.ok());
  std::string more;
  EXPECT_TRUE((*file)->Add("s", "p2", "route", Status::BadRecord("b"), {{"x", 2}}, &more).ok());
  ASSERT_TRUE((*file)->Commit(more).ok());
  ASSERT_TRUE((*file)->Close().ok());
  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["position"], "p1");
  EXPECT_EQ(lines[1]["position"], "p2");
}

TEST(DeadLetterFile, UnwritableDirectoryIsAClearError) {
  auto file = DeadLetterFile::Create({"/nonexistent-dir/bad.jsonl", 1});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().ToUserString().find("/nonexistent-dir/bad.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace sfb
