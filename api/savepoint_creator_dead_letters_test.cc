// SavepointCreator's use of a dead-letter file (pipeline/read_and_route.h): a record is either routed
// whole or dead-lettered whole, parse rejections and route rejections both count, and the budget holds.
// (DeadLetterFile on its own is pipeline/dead_letter_test.cc.)

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "api/dead_letter.h"
#include "api/savepoint_creator.h"
#include "common/file_io.h"
#include "common/java_string.h"
#include "pipeline/testing_sources.h"
#include "savepoint/savepoint_reader.h"

namespace sfb {
namespace {

std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

class Keep : public StateBootstrapFunction {
 public:
  Status Bootstrap(Context&, const Record& r) override {
    n_.Set(r.Get("n").as_int());
    return Status::OK();
  }

 private:
  PersistedValue<int64_t> n_{this, "n", types::Long()};
};

std::set<std::string> Addresses(const std::string& dir) {
  std::set<std::string> ids;
  auto reader = SavepointReader::Open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status().ToUserString();
  if (!reader.ok()) return ids;
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE((*reader)->OpenStreams(&streams).ok());
  for (const auto& s : streams) {
    EXPECT_TRUE((*reader)->ForEachEntry(s, [&](const SavepointReader::Entry& e) {
      ids.insert(Utf16ToUtf8(e.id));
      return Status::OK();
    }).ok());
  }
  return ids;
}

struct RunResult {
  Status status;
  WriteSummary summary;
};

RunResult WriteWith(const std::string& dir, const DeadLetterOptions& dead_letter) {
  RemoveAll(dir);
  SavepointCreator creator(128);
  creator.WithParallelism(2).WithThreads(2);
  creator.WithStateBootstrapFunctionProvider("t/f", [] { return std::make_unique<Keep>(); });
  creator.WithBootstrapData("items", std::make_unique<TwoSplitSource>(std::vector<std::string>{
                                         "a", "xb", "!c", "d", "xe", "f", "!g", "h"}),
                            std::make_shared<IdAndCopy>());
  WriteOptions options;
  options.dead_letter = dead_letter;
  RunResult run;
  run.status = creator.Write(dir, options);
  run.summary = creator.summary();
  return run;
}

TEST(SavepointCreatorDeadLetters, RejectedRecordsLeaveNoStateAndAreAllCounted) {
  const std::string dir = ::testing::TempDir() + "/sfb-dead-letter-run";
  const std::string dl = ::testing::TempDir() + "/sfb-dead-letter-run.jsonl";
  RunResult run = WriteWith(dir, {dl, 4});
  ASSERT_TRUE(run.status.ok()) << run.status.ToUserString();
  EXPECT_EQ(run.summary.records_read, 8u);
  EXPECT_EQ(run.summary.records_dead_lettered, 4u);
  EXPECT_EQ(run.summary.records_forwarded, 8u);  // 4 good records, 2 addresses each
  EXPECT_EQ(Addresses(dir), (std::set<std::string>{"a", "a-copy", "d", "d-copy", "f", "f-copy", "h", "h-copy"}));

  std::map<std::string, nlohmann::json> by_position;
  for (auto& line : ReadLines(dl)) by_position[line["position"].get<std::string>()] = line;
  ASSERT_EQ(by_position.size(), 4u);
  EXPECT_EQ(by_position["item 1"]["stage"], "route");
  EXPECT_EQ(by_position["item 1"]["record"]["id"], "xb");
  EXPECT_EQ(by_position["item 1"]["error"], "ids starting with x are rejected");
  EXPECT_EQ(by_position["item 2"]["stage"], "parse");
  EXPECT_EQ(by_position["item 2"]["raw"]["line"], "!c");
  EXPECT_EQ(by_position["item 4"]["record"]["n"], 4);
  EXPECT_EQ(by_position["item 6"]["error"], "item 6: unparseable");
}

TEST(SavepointCreatorDeadLetters, OverTheBudgetFailsAndWritesNoSavepoint) {
  const std::string dir = ::testing::TempDir() + "/sfb-dead-letter-over";
  const std::string dl = ::testing::TempDir() + "/sfb-dead-letter-over.jsonl";
  RunResult run = WriteWith(dir, {dl, 3});
  ASSERT_EQ(run.status.code(), Status::Code::kBadRecord) << run.status.ToUserString();
  EXPECT_NE(run.status.message().find("more than 3 bad records"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(ReadLines(dl).size(), 4u);
}

TEST(SavepointCreatorDeadLetters, WithoutADeadLetterFileTheFirstBadRecordFails) {
  const std::string dir = ::testing::TempDir() + "/sfb-dead-letter-none";
  RunResult run = WriteWith(dir, {});
  ASSERT_EQ(run.status.code(), Status::Code::kBadRecord);
  const std::string text = run.status.ToString();
  EXPECT_TRUE(text.find("item 1: ids starting with x") != std::string::npos ||
              text.find("item 2: unparseable") != std::string::npos)
      << text;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SavepointCreatorDeadLetters, DeadLetterFileInsideTheSavepointIsRefused) {
  const std::string dir = ::testing::TempDir() + "/sfb-dead-letter-inside";
  RunResult run = WriteWith(dir, {dir + "/bad.jsonl", 10});
  EXPECT_EQ(run.status.code(), Status::Code::kInvalidSpec) << run.status.ToUserString();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace sfb
