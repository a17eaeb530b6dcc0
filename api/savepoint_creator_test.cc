// Tests of SavepointCreator's pipeline as a whole: the savepoint's bytes depend only on the inputs and
// the layout, never on the thread count or on whether routed records stayed in memory or spilled (at a
// budget that makes every thread spill several times), and the memory budget is honoured.

#include "api/savepoint_creator.h"

#include <gtest/gtest.h>

#include <map>

#include "common/file_io.h"

namespace sfb {
namespace {

// Records 0..n-1 in `splits` splits; a record's position is its number.
class SplitSource : public Source {
 public:
  SplitSource(std::vector<Record> records, size_t splits) : records_(std::move(records)), splits_(splits) {}
  Status Prepare() override { return Status::OK(); }
  size_t num_splits() const override { return splits_; }
  Status ReadSplit(size_t split, RecordConsumer& c, const std::atomic<bool>&) override {
    for (size_t i = split; i < records_.size(); i += splits_) SFB_RETURN_IF_ERROR(c.Consume(records_[i], i));
    return Status::OK();
  }
  std::string DescribePosition(uint64_t p) const override { return "record " + std::to_string(p); }

 private:
  std::vector<Record> records_;
  size_t splits_;
};

// Every record goes to a user and to an item, so a record makes two entries in different key groups.
class ToUserAndItem : public Router {
 public:
  Status Route(const Record& r, Downstream& d) const override {
    SFB_RETURN_IF_ERROR(d.Forward("ex/user", r.Get("user").as_string()));
    return d.Forward("ex/item", r.Get("item").as_string());
  }
};

// Order-sensitive state: the trail of the last tags seen, so records met out of order change the bytes.
class Trail : public StateBootstrapFunction {
 public:
  Status Bootstrap(Context& ctx, const Record& r) override {
    count_.Set(count_.GetOrDefault(0) + 1);
    std::string trail = trail_.GetOrDefault("") + ctx.source() + ":" + r.Get("tag").as_string() + ";";
    if (trail.size() > 80) trail.erase(0, trail.size() - 80);
    trail_.Set(trail);
    return Status::OK();
  }

 private:
  PersistedValue<int64_t> count_{this, "count", types::Long()};
  PersistedValue<std::string> trail_{this, "trail", types::String()};
};

std::vector<Record> Events(int n, int users, int items, const std::string& tag) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(MakeRecord({{"user", Value::Text("user-" + std::to_string((i * 7919) % users))},
                              {"item", Value::Text("item-with-a-longer-id-" + std::to_string((i * 31) % items))},
                              {"tag", Value::Text(tag + std::to_string(i))}}));
  }
  return out;
}

struct Output {
  std::map<std::string, std::string> files;  // the files Flink reads, by name
  WriteSummary summary;
};

Output Write(const std::string& dir, int threads, uint64_t memory_budget) {
  RemoveAll(dir);
  SavepointCreator creator(128);
  creator.WithParallelism(3).WithThreads(threads).WithMemoryBudget(memory_budget).WithTtlTimestamp(0);
  for (const char* type : {"ex/user", "ex/item"}) {
    creator.WithStateBootstrapFunctionProvider(type, [] { return std::make_unique<Trail>(); });
  }
  auto router = std::make_shared<ToUserAndItem>();
  creator.WithBootstrapData("clicks", std::make_unique<SplitSource>(Events(30000, 5000, 700, "c"), 7), router);
  creator.WithBootstrapData("views", std::make_unique<SplitSource>(Events(12000, 3000, 900, "v"), 3), router);
  Status s = creator.Write(dir);
  EXPECT_TRUE(s.ok()) << s.ToUserString();
  Output run;
  run.summary = creator.summary();
  for (const char* name : {"_metadata", "keyed-state-functions-0", "keyed-state-functions-1", "keyed-state-functions-2"}) {
    EXPECT_TRUE(ReadFileToString(dir + "/" + name, &run.files[name]).ok()) << name;
  }
  RemoveAll(dir);
  return run;
}

TEST(SavepointCreatorTest, BytesAreTheSameInMemoryAndSpilledWhateverTheThreads) {
  const std::string dir = ::testing::TempDir() + "/sfb-creator-spill";
  const Output reference = Write(dir, 1, 1ull << 30);
  EXPECT_EQ(reference.summary.spills, 0u);
  EXPECT_EQ(reference.summary.spill_bytes, 0u);
  EXPECT_EQ(reference.summary.records_forwarded, 84000u);
  EXPECT_EQ(reference.summary.addresses, 5000u + 900u);
  // The routed entries take about 7 MB: 1 MB makes each thread spill several times.
  for (int threads : {1, 2, 4}) {
    for (uint64_t budget : {1ull << 30, 1ull << 20, 3ull << 20}) {
      const Output run = Write(dir, threads, budget);
      EXPECT_EQ(run.files, reference.files) << threads << " threads, budget " << budget;
      EXPECT_LE(run.summary.memory_peak, budget);
      if (budget == 1ull << 20) {
        EXPECT_GE(run.summary.spills, 3u * static_cast<uint64_t>(threads)) << threads << " threads";
        EXPECT_GT(run.summary.spill_bytes, 0u);
        EXPECT_GE(run.summary.memory_peak, budget / 2) << "the budget was used before spilling";
      }
      if (budget == 1ull << 30) {
        EXPECT_EQ(run.summary.spills, 0u);
      }
    }
  }
}

// Checks, for every record, that context.self() names the address the record was routed to: the builder
// decodes an address's id from its key only when a function asks, so ASCII ids, ids with characters
// beyond ASCII and ids too long for the one-byte length are all asked for. Fails the address `poison`.
class SelfChecker : public StateBootstrapFunction {
 public:
  explicit SelfChecker(std::string poison) : poison_(std::move(poison)) {}
  Status Bootstrap(Context& ctx, const Record& r) override {
    const std::string& routed = r.Get("user").as_string();
    if (ctx.self().function_type != "ex/user" || ctx.self().id != routed) {
      return Status::Internal("self() is " + ctx.self().function_type + "/" + ctx.self().id + ", routed to " + routed);
    }
    if (routed == poison_) return Status::BadRecord("poisoned");
    seen_.Set(seen_.GetOrDefault(0) + 1);
    return Status::OK();
  }

 private:
  std::string poison_;
  PersistedValue<int64_t> seen_{this, "seen", types::Long()};
};

class ToUser : public Router {
 public:
  Status Route(const Record& r, Downstream& d) const override { return d.Forward("ex/user", r.Get("user").as_string()); }
};

Status WriteSelfChecked(const std::string& dir, const std::vector<std::string>& ids, const std::string& poison,
                        WriteSummary* summary) {
  RemoveAll(dir);
  std::vector<Record> records;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& id : ids) records.push_back(MakeRecord({{"user", Value::Text(id)}}));
  }
  SavepointCreator creator(128);
  creator.WithParallelism(2).WithThreads(2).WithTtlTimestamp(0);
  creator.WithStateBootstrapFunctionProvider("ex/user", [poison] { return std::make_unique<SelfChecker>(poison); });
  creator.WithBootstrapData("users", std::make_unique<SplitSource>(std::move(records), 3), std::make_shared<ToUser>());
  Status s = creator.Write(dir);
  *summary = creator.summary();
  RemoveAll(dir);
  return s;
}

std::vector<std::string> SelfCheckIds() {
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    ids.push_back("user-" + std::to_string(i));
    ids.push_back("\xc3\xbcser-\xe2\x82\xac-" + std::to_string(i));  // "üser-€-i"
    ids.push_back(std::string(150, 'x') + std::to_string(i));
  }
  return ids;
}

TEST(SavepointCreatorTest, SelfNamesTheAddressBeingBuilt) {
  const std::string dir = ::testing::TempDir() + "/sfb-creator-self";
  const std::vector<std::string> ids = SelfCheckIds();
  WriteSummary summary;
  Status s = WriteSelfChecked(dir, ids, "", &summary);
  ASSERT_TRUE(s.ok()) << s.ToUserString();
  EXPECT_EQ(summary.addresses, ids.size());
}

TEST(SavepointCreatorTest, AFunctionsErrorNamesTheAddressWithItsDecodedId) {
  const std::string dir = ::testing::TempDir() + "/sfb-creator-self-error";
  WriteSummary summary;
  Status s = WriteSelfChecked(dir, SelfCheckIds(), "\xc3\xbcser-\xe2\x82\xac-13", &summary);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find("address ex/user/\xc3\xbcser-\xe2\x82\xac-13"), std::string::npos)
      << s.ToUserString();
  EXPECT_NE(s.ToUserString().find("poisoned"), std::string::npos) << s.ToUserString();
}

}  // namespace
}  // namespace sfb
