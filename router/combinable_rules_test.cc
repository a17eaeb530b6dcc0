// Combining early (writer/partial_combiner.h, router/combinable_rules.h) against the per-record replay
// through RuleFunction: every rule on random records spread over splits and threads, with positions
// interleaved, NULL operands, rejected records and flushes at random points; overflow; and whole runs of
// a job whose bytes must not change whether it combines or not, whatever the threads and the budget.

#include "router/combinable_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "common/file_io.h"
#include "job/job_builder.h"
#include "job/job_spec.h"
#include "router/rule_function.h"
#include "savepoint/key_groups.h"

namespace sfb {
namespace {

class FakeContext : public Context {
 public:
  const Address& self() const override { return address; }
  const std::string& source() const override { return source_name; }
  Address address{"ex/f", "id"};
  std::string source_name = "s";
};

StateRule Rule(size_t slot, const std::string& name, ValueRepr repr, MergeOp op) {
  StateRule r;
  r.slot = slot;
  r.state_name = name;
  r.repr = repr;
  r.op = op;
  return r;
}

std::shared_ptr<CompiledRoute> Route(int index, std::vector<StateRule> rules) {
  auto route = std::make_shared<CompiledRoute>();
  route->index = index;
  route->function_type = "ex/f";
  std::vector<std::string> names = {"route"};
  for (const auto& r : rules) names.push_back(r.state_name);
  route->payload_schema = std::make_shared<const Schema>(std::move(names));
  route->rules = std::move(rules);
  return route;
}

// One function with a state per combinable rule; route 0 (source 0) feeds them all, route 1 (source 1)
// feeds `last_text` and `events` again, so rules of two routes and sources meet on one state.
struct Job {
  Job() {
    specs = {{"events", types::Long().type, {}},     {"total", types::Int().type, {}},
             {"total64", types::Long().type, {}},    {"lo", types::Long().type, {}},
             {"hi", types::Int().type, {}},          {"lo_text", types::String().type, {}},
             {"hi_text", types::String().type, {}},  {"first_text", types::String().type, {}},
             {"last_double", types::Double().type, {}}, {"last_text", types::String().type, {}},
             {"first_long", types::Long().type, {}}, {"seen", types::Int().type, {}}};
    std::vector<StateRule> a = {
        Rule(0, "events", ValueRepr::kInt64, MergeOp::kCount),      Rule(1, "total", ValueRepr::kInt32, MergeOp::kSum),
        Rule(2, "total64", ValueRepr::kInt64, MergeOp::kSum),       Rule(3, "lo", ValueRepr::kInt64, MergeOp::kMin),
        Rule(4, "hi", ValueRepr::kInt32, MergeOp::kMax),            Rule(5, "lo_text", ValueRepr::kBytes, MergeOp::kMin),
        Rule(6, "hi_text", ValueRepr::kBytes, MergeOp::kMax),       Rule(7, "first_text", ValueRepr::kBytes, MergeOp::kFirst),
        Rule(8, "last_double", ValueRepr::kDouble, MergeOp::kLast), Rule(9, "last_text", ValueRepr::kBytes, MergeOp::kLast),
        Rule(10, "first_long", ValueRepr::kInt64, MergeOp::kFirst), Rule(11, "seen", ValueRepr::kInt32, MergeOp::kCount)};
    std::vector<StateRule> b = {Rule(9, "last_text", ValueRepr::kBytes, MergeOp::kLast),
                                Rule(0, "events", ValueRepr::kInt64, MergeOp::kCount)};
    routes = std::make_shared<std::vector<std::shared_ptr<const CompiledRoute>>>(
        std::vector<std::shared_ptr<const CompiledRoute>>{Route(0, a), Route(1, b)});
    combinable = FindCombinableRoutes(*routes);
  }
  std::vector<StateSpec> specs;
  std::shared_ptr<std::vector<std::shared_ptr<const CompiledRoute>>> routes;
  std::shared_ptr<const CombinableRoutes> combinable;
};

// A record routed to an address: its place in the order and its payload.
struct Forward {
  std::string id;
  RecordOrder at;
  Record payload;
};

Value RandomOperand(const StateRule& rule, std::mt19937_64& rng) {
  if (rng() % 5 == 0) return Value::Null();
  switch (rule.repr) {
    case ValueRepr::kInt32:
    case ValueRepr::kInt64: return Value::Int(static_cast<int64_t>(rng() % 2001) - 1000);
    case ValueRepr::kDouble: return Value::Double(static_cast<double>(rng() % 100000) / 7.0);
    default: {
      std::string s;
      for (size_t n = rng() % 6; n > 0; --n) s.push_back(static_cast<char>('a' + rng() % 4));
      return Value::Bytes(s);
    }
  }
}

using Slots = std::vector<std::optional<StateValue>>;

Slots SlotValues(const StateBootstrapFunction& fn) {
  Slots out;
  for (const auto& s : fn.slots()) out.push_back(s.value);
  return out;
}

TEST(CombinableRulesTest, EveryRuleEqualsTheReplayAcrossSplitsThreadsAndFlushes) {
  Job job;
  ASSERT_EQ(job.combinable->by_payload_schema.size(), 2u);
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937_64 rng(seed);
    const int addresses = 40, splits = 9, threads = 3;
    std::vector<Forward> forwards;
    for (uint64_t position = 0; position < 4000; ++position) {
      const int route = rng() % 4 == 0 ? 1 : 0;
      const CompiledRoute& r = *(*job.routes)[static_cast<size_t>(route)];
      std::vector<Value> values = {Value::Int(route)};
      for (const auto& rule : r.rules) values.push_back(RandomOperand(rule, rng));
      // Source 1's positions overlap source 0's: the order is by source first.
      const uint16_t source = static_cast<uint16_t>(route);
      forwards.push_back(Forward{"user-" + std::to_string(rng() % addresses), RecordOrder{source, position, 0},
                                 Record(r.payload_schema, std::move(values))});
    }

    // The replay: each address's records in (source, position, seq) order, one Bootstrap each.
    std::map<std::string, Slots> replayed;
    {
      std::vector<const Forward*> order;
      for (const auto& f : forwards) order.push_back(&f);
      std::sort(order.begin(), order.end(), [](const Forward* a, const Forward* b) { return a->at < b->at; });
      std::map<std::string, std::unique_ptr<RuleFunction>> fns;
      FakeContext ctx;
      for (const Forward* f : order) {
        auto& fn = fns[f->id];
        if (!fn) fn = std::make_unique<RuleFunction>(job.specs, job.routes);
        ASSERT_TRUE(fn->Bootstrap(ctx, f->payload).ok());
      }
      for (const auto& [id, fn] : fns) replayed[id] = SlotValues(*fn);
    }

    // Combined: split = position % splits (so splits interleave), split s read by thread s % threads;
    // flushes at random points; a rejected record staged and abandoned now and then.
    std::vector<PartialCombiner> combiners(threads);
    std::vector<std::pair<std::string, std::string>> entries;  // (address key, partial entry value)
    auto flush = [&](int t) {
      combiners[static_cast<size_t>(t)].Flush(
          rng(), static_cast<uint32_t>(t), 128, [&](int key_group, std::string_view key, std::string_view value) {
            // key group | function 0 | the id's StringValue (ASCII: its length + 1, its bytes) | 14 bytes.
            ASSERT_GT(key.size(), 4u + 1 + 14);
            const std::string id(key.substr(5, key.size() - 5 - 14));
            EXPECT_EQ(static_cast<uint8_t>(key[4]), id.size() + 1);
            EXPECT_EQ(key_group, KeyGroupForId(std::u16string(id.begin(), id.end()), 128)) << id;
            const std::string head = {static_cast<char>(key_group >> 8), static_cast<char>(key_group), 0, 0};
            EXPECT_EQ(key.substr(0, 4), head);
            entries.emplace_back(id, std::string(value));
          });
    };
    for (int s = 0; s < splits; ++s) {
      const int t = s % threads;
      PartialCombiner& c = combiners[static_cast<size_t>(t)];
      for (const auto& f : forwards) {
        if (static_cast<int>(f.at.position % splits) != s) continue;
        if (rng() % 50 == 0) {
          c.Stage(0, f.id, job.combinable->Find(f.payload.schema_ptr().get()), f.payload, f.at);
          c.Abandon();
        }
        c.Stage(0, f.id, job.combinable->Find(f.payload.schema_ptr().get()), f.payload, f.at);
        c.Commit();
        if (rng() % 200 == 0) flush(t);
      }
    }
    for (int t = 0; t < threads; ++t) flush(t);
    std::shuffle(entries.begin(), entries.end(), rng);
    std::map<std::string, PartialAccumulator> accumulated;
    for (const auto& [id, value] : entries) ASSERT_TRUE(accumulated[id].Add(value).ok());
    ASSERT_EQ(accumulated.size(), replayed.size());
    for (const auto& [id, acc] : accumulated) {
      RuleFunction fn(job.specs, job.routes);
      ASSERT_TRUE(acc.ResolveInto(&fn.mutable_slots(), "ex/f/" + id).ok());
      EXPECT_EQ(SlotValues(fn), replayed[id]) << "seed " << seed << " address " << id;
    }
  }
}

TEST(CombinableRulesTest, RoutesThatMustReplayAreNotCombined) {
  // A double sum, a set and a merge of different ops on one state, delete_when: replayed; and a route
  // sharing a state with a replayed route is replayed too.
  std::vector<StateRule> sum_double = {Rule(0, "score", ValueRepr::kDouble, MergeOp::kSum)};
  std::vector<StateRule> base = {Rule(1, "total", ValueRepr::kInt64, MergeOp::kLast)};
  std::vector<StateRule> add = {Rule(1, "total", ValueRepr::kInt64, MergeOp::kSum),
                                Rule(2, "n", ValueRepr::kInt64, MergeOp::kCount)};
  std::vector<StateRule> also_n = {Rule(2, "n", ValueRepr::kInt64, MergeOp::kCount)};
  std::vector<StateRule> deleted = {Rule(3, "page", ValueRepr::kBytes, MergeOp::kLast)};
  std::vector<StateRule> fine = {Rule(4, "hits", ValueRepr::kInt32, MergeOp::kCount),
                                 Rule(5, "max_text", ValueRepr::kBytes, MergeOp::kMax)};
  auto with_delete = Route(4, deleted);
  with_delete->delete_when.push_back(*ParseCondition("{gone}"));
  std::vector<std::shared_ptr<const CompiledRoute>> routes = {Route(0, sum_double), Route(1, base), Route(2, add),
                                                              Route(3, also_n), with_delete, Route(5, fine)};
  auto combinable = FindCombinableRoutes(routes);
  ASSERT_EQ(combinable->by_payload_schema.size(), 1u);
  EXPECT_NE(combinable->Find(routes[5]->payload_schema.get()), nullptr);
}

StatePartial SumOf(std::vector<int64_t> operands) {
  StatePartial p;
  p.op = CombineOp::kSum;
  for (uint32_t i = 0; i < operands.size(); ++i) p.Add(Value::Int(operands[i]), RecordOrder{0, i, 0});
  return p;
}

TEST(CombinableRulesTest, OverflowFailsNamingTheAddress) {
  // int: 2^30 three times overflows in the replay, and combined.
  auto r = ResolvePartial(SumOf({1 << 30, 1 << 30, 1 << 30}), ValueRepr::kInt32, "total", "ex/f/user-7");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ex/f/user-7"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("overflows"), std::string::npos);
  // The same spread over two partials (two threads).
  StatePartial a = SumOf({1 << 30, 1 << 30}), b = SumOf({1 << 30});
  a.Merge(b);
  EXPECT_FALSE(ResolvePartial(a, ValueRepr::kInt32, "total", "ex/f/user-7").ok());
  // long: past int64, whichever the grouping.
  StatePartial c = SumOf({INT64_MAX}), d = SumOf({1});
  c.Merge(d);
  EXPECT_FALSE(ResolvePartial(c, ValueRepr::kInt64, "total", "ex/f/user-7").ok());
  EXPECT_FALSE(ResolvePartial(SumOf({INT64_MIN, -1}), ValueRepr::kInt64, "t", "a").ok());
  // Both signs, each sum within the range: no running sum can leave it, exact.
  auto ok = ResolvePartial(SumOf({2000000000, -2000000000, 147483647, -5}), ValueRepr::kInt32, "t", "a");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<int32_t>(**ok), 147483642);
  // Both signs past the range: order-dependent, so the run fails saying so rather than guessing.
  auto unsure = ResolvePartial(SumOf({2000000000, 2000000000, -2000000000}), ValueRepr::kInt32, "t", "ex/f/u");
  ASSERT_FALSE(unsure.ok());
  EXPECT_NE(unsure.status().message().find("may overflow"), std::string::npos);
  EXPECT_NE(unsure.status().message().find("ex/f/u"), std::string::npos);
  // A count past an int state's range.
  StatePartial count;
  count.op = CombineOp::kCount;
  count.has = true;
  count.number = int64_t{1} << 31;
  EXPECT_FALSE(ResolvePartial(count, ValueRepr::kInt32, "n", "a").ok());
  count.number = (int64_t{1} << 31) - 1;
  EXPECT_TRUE(ResolvePartial(count, ValueRepr::kInt32, "n", "a").ok());
  // Only NULL operands: the state stays unset.
  StatePartial nulls;
  nulls.op = CombineOp::kSum;
  nulls.Add(Value::Null(), RecordOrder{});
  auto unset = ResolvePartial(nulls, ValueRepr::kInt64, "t", "a");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->has_value());
}

TEST(CombinableRulesTest, PartialsRoundTripTheirEncoding) {
  std::vector<StatePartial> in(3);
  in[0].slot = 2, in[0].op = CombineOp::kLast;
  in[0].Add(Value::Bytes(std::string("a\0b", 3)), RecordOrder{3, 77, 2});
  in[1].slot = 5, in[1].op = CombineOp::kSum;
  in[1].Add(Value::Int(-5), RecordOrder{});
  in[1].Add(Value::Int(9), RecordOrder{});
  in[2].slot = 7, in[2].op = CombineOp::kMax;
  in[2].Add(Value::Double(2.5), RecordOrder{});
  std::string bytes;
  EncodePartials(in, &bytes);
  std::vector<StatePartial> out;
  ASSERT_TRUE(DecodePartials(bytes, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text, std::string("a\0b", 3));
  EXPECT_EQ(out[0].position, 77u);
  EXPECT_EQ(out[0].source, 3);
  EXPECT_EQ(out[1].number, 9);
  EXPECT_EQ(out[1].negative, -5);
  EXPECT_EQ(out[2].number, in[2].number);
  EXPECT_FALSE(DecodePartials(bytes.substr(0, bytes.size() - 1), &out).ok());
}

// A whole job through the CLI's path (spec, file sources, RuleRouter): the bytes are the same whether
// the job combines or replays, with 1, 2 or 4 threads and at budgets that hold everything or spill.
class CombinedJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/sfb-combined-job";
    RemoveAll(dir_);
    std::filesystem::create_directories(dir_);
    std::string users = "id,name\n", events = "user,amount,ts,page,score,kind\n";
    for (int i = 0; i < 3000; ++i) users += "user-" + std::to_string(i) + ",Name " + std::to_string(i) + "\n";
    std::mt19937_64 rng(7);
    for (int i = 0; i < 60000; ++i) {
      const auto u = rng() % 3500;  // some events for users the users file does not have
      events += "user-" + std::to_string(u) + "," + (rng() % 9 == 0 ? "" : std::to_string(rng() % 1000)) + "," +
                std::to_string(1700000000000 + rng() % 1000000) + ",/p" + std::to_string(rng() % 50) + "," +
                std::to_string(rng() % 100) + ".25," + (rng() % 40 == 0 ? "gone" : "view") + "\n";
    }
    ASSERT_TRUE(WriteStringToFileSynced(dir_ + "/users.csv", users).ok());
    ASSERT_TRUE(WriteStringToFileSynced(dir_ + "/events.csv", events).ok());
  }
  void TearDown() override { RemoveAll(dir_); }

  struct Run {
    std::map<std::string, std::string> files;
    WriteSummary summary;
  };
  Run Write(bool combine, int threads, uint64_t memory) {
    const std::string out = dir_ + "/sp";
    RemoveAll(out);
    const std::string spec_text = R"(
savepoint: { path: )" + out + R"(, max_parallelism: 128, parallelism: 2 }
functions:
  bench/user:
    states:
      events: { type: io.statefun.types/long }
      amount: { type: io.statefun.types/long }
      last_ts: { type: io.statefun.types/long }
      page: { type: io.statefun.types/string }
      first_page: { type: io.statefun.types/string }
      name: { type: io.statefun.types/string }
      score: { type: io.statefun.types/double }
  bench/page:
    states:
      views: { type: io.statefun.types/int }
      last_user: { type: io.statefun.types/string }
sources:
  users: { file: { path: )" + dir_ + R"(/users.csv, split_size: 4KB } }
  events: { file: { path: )" + dir_ + R"(/events.csv, split_size: 64KB } }
routes:
  - from: users
    to: bench/user
    id: "{id}"
    set: { name: "{name}" }
  - from: events
    to: bench/user
    id: "{user}"
    merge: { events: count, amount: sum(amount), last_ts: max(ts), page: last(page), first_page: first(page) }
  - from: events
    to: bench/user
    id: "{user}"
    merge: { score: sum(score) }
  - from: events
    to: bench/page
    id: "{page}"
    merge: { views: count }
  - from: events
    to: bench/page
    id: "{page}"
    set: { last_user: "{user}" }
    delete_when: ["{kind} == 'gone'"]
)";
    auto spec = ParseJobSpec(spec_text, "job.yaml", dir_);
    EXPECT_TRUE(spec.ok()) << spec.status().ToUserString();
    JobOverrides o;
    o.threads = threads;
    o.memory = memory;
    o.ttl_timestamp = 0;
    auto job = BuildJob(*spec, o);
    EXPECT_TRUE(job.ok()) << job.status().ToUserString();
    if (!combine) job->creator->WithCombinableRoutes(nullptr);
    WriteOptions options;
    options.combine_early = combine;
    Status s = job->creator->Write(out, options);
    EXPECT_TRUE(s.ok()) << s.ToUserString();
    Run run;
    run.summary = job->creator->summary();
    for (const char* name : {"_metadata", "keyed-state-functions-0", "keyed-state-functions-1"}) {
      EXPECT_TRUE(ReadFileToString(out + "/" + name, &run.files[name]).ok()) << name;
    }
    RemoveAll(out);
    return run;
  }
  std::string dir_;
};

TEST_F(CombinedJobTest, BytesEqualTheReplayWhateverTheThreadsAndBudget) {
  const Run reference = Write(/*combine=*/false, 1, 1ull << 30);
  EXPECT_EQ(reference.summary.spills, 0u);
  EXPECT_EQ(reference.summary.addresses, 3500u + 50u);
  for (int threads : {1, 2, 4}) {
    for (uint64_t budget : {1ull << 30, 1ull << 20}) {
      const Run run = Write(/*combine=*/true, threads, budget);
      EXPECT_EQ(run.files, reference.files) << threads << " threads, budget " << budget;
      EXPECT_LE(run.summary.memory_peak, budget);
      if (budget == 1ull << 20) {
        // The partials do not fit 1 MB: several spills of them, still the same bytes. Not a count per
        // thread: which thread reads how many splits depends on scheduling (one may read them all).
        EXPECT_GE(run.summary.spills, 2u) << threads << " threads";
      } else {
        EXPECT_EQ(run.summary.spills, 0u);
      }
    }
  }
  // Spilling replayed records (no combining) at the small budget gives the same bytes too.
  EXPECT_EQ(Write(/*combine=*/false, 2, 1ull << 20).files, reference.files);
}

}  // namespace
}  // namespace sfb
