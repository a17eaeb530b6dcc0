// on_existing (writer/on_existing.h): the per-key-group resolution of each mode, and whole runs of a job on
// a base written by real Flink 1.16.2 + statefun 3.3.0 (savepoint/testdata/flink116-rocksdb: restore/counter's
// int state `seen` holds 6 for user-0..user-4 and 5 for user-5, user-6), one per merge rule, each read back
// value for value: addresses only in the base, only in the job, in both, and a job value that is NULL.

#include "writer/on_existing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/file_io.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "job/job_builder.h"
#include "job/job_spec.h"
#include "savepoint/savepoint_reader.h"

namespace sfb {
namespace {

namespace fs = std::filesystem;

const std::string kBase = std::string(SFB_SOURCE_DIR) + "/savepoint/testdata/flink116-rocksdb";

TEST(OnExisting, ParsesTheThreeChoicesOnly) {
  OnExisting m = OnExisting::kUnset;
  EXPECT_TRUE(ParseOnExisting("replace", &m));
  EXPECT_EQ(m, OnExisting::kReplace);
  EXPECT_TRUE(ParseOnExisting("keep", &m));
  EXPECT_EQ(m, OnExisting::kKeep);
  EXPECT_TRUE(ParseOnExisting("merge", &m));
  EXPECT_EQ(m, OnExisting::kMerge);
  EXPECT_FALSE(ParseOnExisting("overwrite", &m));
  EXPECT_FALSE(ParseOnExisting("", &m));
  EXPECT_STREQ(OnExistingName(OnExisting::kKeep), "keep");
  EXPECT_EQ(ChoiceFor({{"a.b.c", OnExisting::kMerge}}, "a.b.d"), OnExisting::kUnset);
}

// base {a:1, b:2}, job {b:20, c:30}
struct Sides {
  std::vector<StatePair> base{{"a", "1"}, {"b", "2"}};
  std::vector<StatePair> job{{"b", "20"}, {"c", "30"}};
};

std::string Joined(const std::vector<StatePair>& pairs) {
  std::string out;
  for (const auto& p : pairs) out += std::string(p.key) + "=" + std::string(p.value) + " ";
  return out;
}

TEST(OnExisting, ReplaceTakesTheJobsValueWhereItWritesAndKeepsTheRest) {
  Sides s;
  std::vector<StatePair> out;
  ExistingCounts c;
  ResolveExistingKeyGroup(OnExisting::kReplace, s.base, s.job, &out, &c);
  EXPECT_EQ(Joined(out), "a=1 b=20 c=30 ");
  EXPECT_EQ(c.kept, 1u);
  EXPECT_EQ(c.replaced, 1u);
  EXPECT_EQ(c.merged, 0u);
  EXPECT_EQ(c.added, 1u);
}

TEST(OnExisting, KeepLetsTheBaseWinWhereItHasAValue) {
  Sides s;
  std::vector<StatePair> out;
  ExistingCounts c;
  ResolveExistingKeyGroup(OnExisting::kKeep, s.base, s.job, &out, &c);
  EXPECT_EQ(Joined(out), "a=1 b=2 c=30 ");
  EXPECT_EQ(c.kept, 2u);
  EXPECT_EQ(c.replaced + c.merged, 0u);
  EXPECT_EQ(c.added, 1u);
}

TEST(OnExisting, MergeTakesTheJobsValueWhichStartedFromTheBase) {
  Sides s;
  std::vector<StatePair> out;
  ExistingCounts c;
  ResolveExistingKeyGroup(OnExisting::kMerge, s.base, s.job, &out, &c);
  EXPECT_EQ(Joined(out), "a=1 b=20 c=30 ");
  EXPECT_EQ(c.kept, 1u);
  EXPECT_EQ(c.merged, 1u);
  EXPECT_EQ(c.replaced, 0u);
  EXPECT_EQ(c.added, 1u);
}

TEST(OnExisting, AnEmptySideKeepsTheOther) {
  for (OnExisting mode : {OnExisting::kReplace, OnExisting::kKeep, OnExisting::kMerge}) {
    Sides s;
    std::vector<StatePair> out;
    ExistingCounts c;
    ResolveExistingKeyGroup(mode, s.base, {}, &out, &c);
    EXPECT_EQ(Joined(out), "a=1 b=2 ") << OnExistingName(mode);
    EXPECT_EQ(c.kept, 2u);
    out.clear();
    c = ExistingCounts();
    ResolveExistingKeyGroup(mode, {}, s.job, &out, &c);
    EXPECT_EQ(Joined(out), "b=20 c=30 ") << OnExistingName(mode);
    EXPECT_EQ(c.added, 2u);
  }
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/on_existing_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(dir_); }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// restore/counter's `seen` per id, decoded.
std::map<std::string, int32_t> SeenValues(const std::string& savepoint) {
  std::map<std::string, int32_t> out;
  auto reader = SavepointReader::Open(savepoint);
  EXPECT_TRUE(reader.ok()) << reader.status().ToUserString();
  if (!reader.ok()) return out;
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE((*reader)->OpenStreams(&streams).ok());
  for (const auto& s : streams) {
    EXPECT_TRUE((*reader)->ForEachEntry(s, [&](const SavepointReader::Entry& e) {
                          if (e.state->flink_name != "restore.counter.seen") return Status::OK();
                          StateValue v;
                          int64_t ts;
                          SFB_RETURN_IF_ERROR(e.state->descriptor.DecodeValue(e.value, &v, &ts));
                          const std::string id = Utf16ToUtf8(e.id);
                          EXPECT_FALSE(out.count(id)) << id << " twice";
                          out[id] = std::get<int32_t>(v);
                          return Status::OK();
                        }).ok());
  }
  return out;
}

struct RunResult {
  Status status;
  std::map<std::string, int32_t> seen;
  std::vector<StateSummary> states;
};

// A job on the base whose only state is restore/counter's `seen`, fed by rows.jsonl.
RunResult RunOnBase(const std::string& on_existing_yaml, const std::string& route_rules, const std::string& rows,
                    bool count_only = false, const std::string& base = kBase) {
  TempDir dir;
  EXPECT_TRUE(WriteStringToFileSynced(dir.path() + "/rows.jsonl", rows).ok());
  const std::string job_text = StrCat(R"(savepoint:
  path: out
  max_parallelism: 128
functions:
  restore/counter:
)", on_existing_yaml, R"(
sources:
  rows: { file: { path: rows.jsonl, format: jsonl } }
routes:
  - from: rows
    to: restore/counter
    id: "{id}"
    )", route_rules, "\n");
  RunResult r;
  auto spec = ParseJobSpec(job_text, "job.yaml", dir.path());
  if (!spec.ok()) {
    r.status = spec.status();
    return r;
  }
  JobOverrides o;
  o.parallelism = 2;
  o.threads = 2;
  auto job = BuildJob(*spec, o);
  if (!job.ok()) {
    r.status = job.status();
    return r;
  }
  WriteOptions options;
  options.base = base;
  options.count_only = count_only;
  r.status = job->creator->Write(job->output, options);
  r.states = job->creator->summary().states;
  if (r.status.ok() && !count_only) r.seen = SeenValues(job->output);
  if (count_only) {
    EXPECT_FALSE(fs::exists(job->output));
  }
  return r;
}

constexpr char kMergeSeen[] = "    on_existing: merge\n    states:\n      seen: { type: io.statefun.types/int }";

// user-0 has 6 in the base, user-5 has 5, new-1 none; user-1..4 and user-6 are only in the base.
constexpr char kRows[] = R"({"id": "user-0", "n": 10}
{"id": "user-5", "n": 3}
{"id": "user-0", "n": 2}
{"id": "new-1", "n": 7}
{"id": "user-5", "n": null}
{"id": "new-2", "n": null}
)";

std::map<std::string, int32_t> BaseSeen() {
  auto base = SeenValues(kBase);
  EXPECT_EQ(base.size(), 7u);
  EXPECT_EQ(base["user-0"], 6);
  EXPECT_EQ(base["user-5"], 5);
  return base;
}

// The base's values with `changes` applied.
std::map<std::string, int32_t> BaseWith(std::map<std::string, int32_t> changes) {
  auto out = BaseSeen();
  for (const auto& [k, v] : changes) out[k] = v;
  return out;
}

TEST(OnExistingRun, MergeCountAddsToTheBasesValue) {
  auto r = RunOnBase(kMergeSeen, "merge: { seen: count }", kRows);
  ASSERT_TRUE(r.status.ok()) << r.status.ToUserString();
  // count counts every record, NULL fields or not: user-0 2, user-5 2, new-1 1, new-2 1
  EXPECT_EQ(r.seen, BaseWith({{"user-0", 8}, {"user-5", 7}, {"new-1", 1}, {"new-2", 1}}));
  ASSERT_EQ(r.states.size(), 1u);
  EXPECT_EQ(r.states[0].on_existing, "merge");
  EXPECT_EQ(r.states[0].kept, 5u);
  EXPECT_EQ(r.states[0].merged, 2u);
  EXPECT_EQ(r.states[0].added, 2u);
  EXPECT_EQ(r.states[0].replaced, 0u);
}

TEST(OnExistingRun, MergeSumAddsAndANullOperandLeavesTheBasesValue) {
  auto r = RunOnBase(kMergeSeen, "merge: { seen: sum(n) }", kRows);
  ASSERT_TRUE(r.status.ok()) << r.status.ToUserString();
  // new-2's only operand is NULL: it gets no value
  EXPECT_EQ(r.seen, BaseWith({{"user-0", 18}, {"user-5", 8}, {"new-1", 7}}));
  EXPECT_EQ(r.states[0].merged, 2u);
  EXPECT_EQ(r.states[0].added, 1u);
}

TEST(OnExistingRun, MergeMinAndMaxCompareWithTheBasesValue) {
  auto min = RunOnBase(kMergeSeen, "merge: { seen: min(n) }", kRows);
  ASSERT_TRUE(min.status.ok()) << min.status.ToUserString();
  EXPECT_EQ(min.seen, BaseWith({{"user-0", 2}, {"user-5", 3}, {"new-1", 7}}));
  auto max = RunOnBase(kMergeSeen, "merge: { seen: max(n) }", kRows);
  ASSERT_TRUE(max.status.ok()) << max.status.ToUserString();
  // user-5: max(5, 3) is the base's own value, so its entry stays the base's (counted kept, not merged)
  EXPECT_EQ(max.seen, BaseWith({{"user-0", 10}, {"new-1", 7}}));
  EXPECT_EQ(max.states[0].merged, 1u);
  EXPECT_EQ(max.states[0].kept, 6u);
}

TEST(OnExistingRun, MergeFirstKeepsTheBasesValueAndLastOverwritesIt) {
  auto first = RunOnBase(kMergeSeen, "merge: { seen: first(n) }", kRows);
  ASSERT_TRUE(first.status.ok()) << first.status.ToUserString();
  EXPECT_EQ(first.seen, BaseWith({{"new-1", 7}}));
  auto last = RunOnBase(kMergeSeen, "merge: { seen: last(n) }", kRows);
  ASSERT_TRUE(last.status.ok()) << last.status.ToUserString();
  // last skips NULL operands: user-5's last non-NULL is 3
  EXPECT_EQ(last.seen, BaseWith({{"user-0", 2}, {"user-5", 3}, {"new-1", 7}}));
  auto set = RunOnBase(kMergeSeen, "set: { seen: \"{n}\" }", kRows);
  ASSERT_TRUE(set.status.ok()) << set.status.ToUserString();
  EXPECT_EQ(set.seen, last.seen);
}

TEST(OnExistingRun, ReplaceAndKeepWithTheStatesSettingWinningOverTheFunctions) {
  auto replace = RunOnBase("    on_existing: keep\n    states:\n      seen: { type: io.statefun.types/int, on_existing: replace }",
                           "merge: { seen: sum(n) }", kRows);
  ASSERT_TRUE(replace.status.ok()) << replace.status.ToUserString();
  // the job's sums, not started from the base
  EXPECT_EQ(replace.seen, BaseWith({{"user-0", 12}, {"user-5", 3}, {"new-1", 7}}));
  EXPECT_EQ(replace.states[0].on_existing, "replace");
  EXPECT_EQ(replace.states[0].replaced, 2u);
  EXPECT_EQ(replace.states[0].added, 1u);
  EXPECT_EQ(replace.states[0].kept, 5u);
  auto keep = RunOnBase("    on_existing: keep\n    states:\n      seen: { type: io.statefun.types/int }",
                        "merge: { seen: sum(n) }", kRows);
  ASSERT_TRUE(keep.status.ok()) << keep.status.ToUserString();
  EXPECT_EQ(keep.seen, BaseWith({{"new-1", 7}}));
  EXPECT_EQ(keep.states[0].kept, 7u);
  EXPECT_EQ(keep.states[0].added, 1u);
}

TEST(OnExistingRun, CountOnlyCountsWithoutWriting) {
  auto r = RunOnBase(kMergeSeen, "merge: { seen: sum(n) }", kRows, /*count_only=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToUserString();
  ASSERT_EQ(r.states.size(), 1u);
  EXPECT_EQ(r.states[0].kept, 5u);
  EXPECT_EQ(r.states[0].merged, 2u);
  EXPECT_EQ(r.states[0].added, 1u);
}

TEST(OnExistingRun, WithoutOnExistingTheRunIsRefusedNamingTheChoices) {
  auto r = RunOnBase("    states:\n      seen: { type: io.statefun.types/int }", "merge: { seen: sum(n) }", kRows);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.ToUserString().find("on_existing: replace | keep | merge"), std::string::npos)
      << r.status.ToUserString();
}

TEST(OnExistingRun, AMergeBaseValueThatDoesNotDecodeFailsNamingStateKeyGroupAndAddress) {
  // A copy of the base whose `seen` values (i32 length 5, then the SDK's IntWrapper: tag 0x0D = field 1
  // fixed32, 4 bytes) carry a varint tag (0x08) instead, which no int TypedValue has.
  TempDir damaged;
  int patched = 0;
  for (const auto& e : fs::directory_iterator(kBase)) {
    std::string bytes;
    ASSERT_TRUE(ReadFileToString(e.path().string(), &bytes).ok());
    for (const char n : {'\x05', '\x06'}) {
      const std::string pattern = std::string("\0\0\0\x05\x0d", 5) + n + std::string("\0\0\0", 3);
      for (size_t at = bytes.find(pattern); at != std::string::npos; at = bytes.find(pattern, at + 1)) {
        bytes[at + 4] = '\x08';
        ++patched;
      }
    }
    ASSERT_TRUE(WriteStringToFileSynced(damaged.path() + "/" + e.path().filename().string(), bytes).ok());
  }
  ASSERT_EQ(patched, 7);  // one per id
  // keep and replace never decode the base's values: they run
  std::string rows;
  for (int i = 0; i < 7; ++i) rows += "{\"id\": \"user-" + std::to_string(i) + "\", \"n\": 1}\n";
  auto replace = RunOnBase("    on_existing: replace\n    states:\n      seen: { type: io.statefun.types/int }",
                           "merge: { seen: sum(n) }", rows, false, damaged.path());
  ASSERT_TRUE(replace.status.ok()) << replace.status.ToUserString();
  auto r = RunOnBase(kMergeSeen, "merge: { seen: sum(n) }", rows, false, damaged.path());
  ASSERT_FALSE(r.status.ok());
  const std::string msg = r.status.ToUserString();
  EXPECT_NE(msg.find("the base's value of state restore.counter.seen for address restore/counter/user-"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("(key group "), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not decode as io.statefun.types/int"), std::string::npos) << msg;
  EXPECT_NE(msg.find("base savepoint stream"), std::string::npos) << msg;
}

TEST(OnExistingSpec, RejectsAnUnknownChoiceNamingWhere) {
  auto spec = ParseJobSpec(R"(savepoint: { path: out }
functions:
  ex/f:
    states:
      n: { type: io.statefun.types/int, on_existing: overwrite }
sources:
  s: { file: { path: x.csv } }
routes:
  - { from: s, to: ex/f, id: "{id}", set: { n: "{n}" } }
)",
                           "job.yaml", "/tmp");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().ToUserString().find("on_existing of state ex/f.n is 'overwrite'"), std::string::npos)
      << spec.status().ToUserString();
  EXPECT_NE(spec.status().ToUserString().find("job.yaml:5"), std::string::npos) << spec.status().ToUserString();
}

}  // namespace
}  // namespace sfb
