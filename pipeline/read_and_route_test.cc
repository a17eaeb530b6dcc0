// Tests of the first two stages together, ReadAndRoute into an Accumulator: the entries the builders
// will walk are the same whatever the thread count and however often the budget made them spill; a
// record's forwards are all or nothing; bad input and interrupts end the stage with a clear status.

#include "pipeline/read_and_route.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/accumulate.h"
#include "pipeline/testing_sources.h"

namespace sfb {
namespace {

constexpr int kKeyGroups = 8;

struct Routed {
  Status status;
  std::vector<std::pair<std::string, std::string>> entries;  // as the builders see them
  uint64_t read = 0, forwarded = 0, dead_lettered = 0, spills = 0;
};

class ReadAndRouteTest : public ::testing::Test {
 protected:
  ReadAndRouteTest()
      : dir_(std::filesystem::temp_directory_path() / ("sfb-read-and-route-test-" + std::to_string(::getpid()))) {}
  void SetUp() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Routed Run(const std::vector<std::string>& ids, int threads, uint64_t budget, DeadLetterFile* dead_letter = nullptr,
             bool cancelled = false, bool knows_function = true) {
    Routed out;
    std::filesystem::remove_all(dir_ + "/store");
    Accumulator::Options o;
    o.store_dir = dir_ + "/store";
    o.max_parallelism = kKeyGroups;
    o.threads = threads;
    o.memory_budget = budget;
    auto accumulator = Accumulator::Open(o);
    EXPECT_TRUE(accumulator.ok()) << accumulator.status().ToString();
    if (!accumulator.ok()) return out;
    TwoSplitSource source(ids);
    IdAndCopy router;
    std::vector<SourceInput> inputs{SourceInput{"items", &source, &router}};
    std::unordered_map<std::string, uint16_t> function_index;
    if (knows_function) function_index["t/f"] = 0;
    SchemaRegistry schemas;
    RunCounters counters;
    std::atomic<bool> cancel{cancelled};
    ReadAndRouteJob job;
    job.inputs = &inputs;
    job.tasks = {SplitTask{0, 0}, SplitTask{0, 1}};
    job.entries = (*accumulator)->entries();
    job.schemas = &schemas;
    job.function_index = &function_index;
    job.max_parallelism = kKeyGroups;
    job.threads = threads;
    job.counters = &counters;
    job.cancel = &cancel;
    job.dead_letter = dead_letter;
    out.status = ReadAndRoute(job);
    out.read = counters.records_read;
    out.forwarded = counters.records_forwarded;
    out.dead_lettered = counters.records_dead_lettered;
    out.spills = (*accumulator)->entries()->spills();
    if (!out.status.ok()) return out;
    out.status = (*accumulator)->FinishLoad(out.forwarded);
    if (!out.status.ok()) return out;
    auto cursor = (*accumulator)->entries()->NewCursor(0, kKeyGroups - 1);
    for (; cursor->Valid(); cursor->Next()) out.entries.emplace_back(cursor->key(), cursor->value());
    EXPECT_TRUE(cursor->status().ok()) << cursor->status().ToString();
    return out;
  }

  const std::string dir_;
};

std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("user-" + std::to_string(i * 7919 % n));
  return ids;
}

TEST_F(ReadAndRouteTest, EntriesAreTheSameWhateverTheThreadsAndHoweverOftenTheySpilled) {
  const std::vector<std::string> ids = Ids(5000);
  const Routed one = Run(ids, 1, 1ull << 30);
  ASSERT_TRUE(one.status.ok()) << one.status.ToString();
  EXPECT_EQ(one.read, 5000u);
  EXPECT_EQ(one.forwarded, 10000u);
  EXPECT_EQ(one.entries.size(), 10000u);
  EXPECT_EQ(one.spills, 0u);
  for (size_t i = 1; i < one.entries.size(); ++i) ASSERT_LT(one.entries[i - 1].first, one.entries[i].first);

  const Routed two = Run(ids, 2, 1ull << 30);
  ASSERT_TRUE(two.status.ok()) << two.status.ToString();
  EXPECT_EQ(two.spills, 0u);
  EXPECT_TRUE(two.entries == one.entries);

  // One thread spills the same entries at the same points every time; two share the budget as timing
  // has it, so they spill at least once.
  const Routed spilled_one = Run(ids, 1, 256 << 10);
  ASSERT_TRUE(spilled_one.status.ok()) << spilled_one.status.ToString();
  EXPECT_GT(spilled_one.spills, 1u) << spilled_one.spills;
  EXPECT_LT(spilled_one.spills, 100u) << spilled_one.spills;  // a few spills, not one per record
  EXPECT_TRUE(spilled_one.entries == one.entries);
  const Routed spilled_two = Run(ids, 2, 512 << 10);
  ASSERT_TRUE(spilled_two.status.ok()) << spilled_two.status.ToString();
  EXPECT_GE(spilled_two.spills, 1u);
  EXPECT_TRUE(spilled_two.entries == one.entries);
}

TEST_F(ReadAndRouteTest, WithoutADeadLetterFileARejectedRecordEndsTheStage) {
  const Routed r = Run({"a", "b", "xc", "d"}, 2, 1ull << 30);
  EXPECT_EQ(r.status.code(), Status::Code::kBadRecord);
  EXPECT_NE(r.status.ToString().find("ids starting with x are rejected"), std::string::npos) << r.status.ToString();
  EXPECT_NE(r.status.ToString().find("item 2"), std::string::npos) << r.status.ToString();
}

TEST_F(ReadAndRouteTest, ARejectedRecordLeavesOnlyItsDeadLetter) {
  const std::string path = dir_ + "/bad.jsonl";
  auto dead_letter = DeadLetterFile::Create({path, 10});
  ASSERT_TRUE(dead_letter.ok()) << dead_letter.status().ToString();
  const Routed r = Run({"a", "xb", "c", "xd", "e"}, 2, 1ull << 30, dead_letter->get());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_TRUE((*dead_letter)->Close().ok());
  EXPECT_EQ(r.read, 5u);
  EXPECT_EQ(r.dead_lettered, 2u);
  EXPECT_EQ(r.forwarded, 6u);  // a, c, e and their copies: nothing of xb or xd
  EXPECT_EQ(r.entries.size(), 6u);
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    EXPECT_NE(line.find("ids starting with x are rejected"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 2);
}

TEST_F(ReadAndRouteTest, AForwardToAnUndeclaredFunctionIsASpecError) {
  const Routed r = Run({"a"}, 1, 1ull << 30, nullptr, false, /*knows_function=*/false);
  EXPECT_EQ(r.status.code(), Status::Code::kInvalidSpec);
  EXPECT_NE(r.status.ToString().find("t/f"), std::string::npos) << r.status.ToString();
}

TEST_F(ReadAndRouteTest, AnInterruptedRunIsCancelled) {
  const Routed r = Run(Ids(100), 2, 1ull << 30, nullptr, /*cancelled=*/true);
  EXPECT_EQ(r.status.code(), Status::Code::kCancelled);
  EXPECT_EQ(r.forwarded, 0u);
}

TEST(AccumulatorTest, AFullDiskSaysHowMuchTheSpillStoreHeld) {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sfb-accumulator-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Accumulator::Options o;
  o.store_dir = dir + "/store";
  o.max_parallelism = kKeyGroups;
  auto accumulator = Accumulator::Open(o);
  ASSERT_TRUE(accumulator.ok()) << accumulator.status().ToString();
  EXPECT_GT((*accumulator)->memory_budget(), 0u);  // the default, from the memory available
  const Status full = (*accumulator)->WithSpillUse(Status::IoError("write: No space left on device"), 10);
  EXPECT_EQ(full.code(), Status::Code::kIoError);
  EXPECT_NE(full.message().find("the spill store held"), std::string::npos) << full.message();
  EXPECT_NE(full.message().find("for 10 routed records"), std::string::npos) << full.message();
  const Status other = (*accumulator)->WithSpillUse(Status::IoError("permission denied"), 10);
  EXPECT_EQ(other.message(), "permission denied");
  EXPECT_TRUE((*accumulator)->WithSpillUse(Status::OK(), 10).ok());
  accumulator->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sfb
