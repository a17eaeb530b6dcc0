// The carry-over against a base written by real Flink 1.16.2 + statefun 3.3.0 (savepoint/testdata): the
// output holds every operator, master state and keyed entry of the base unchanged plus the job's states;
// refusals (max parallelism, parallelism, a state the base has) come before any input is read.

#include "writer/base_carry_over.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/file_io.h"
#include "common/java_string.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"

namespace sfb {
namespace {

namespace fs = std::filesystem;

const std::string kBase = std::string(SFB_SOURCE_DIR) + "/savepoint/testdata/flink116-rocksdb";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/base_carry_over_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(dir_); }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

StateDescriptor Greeting() {
  return *StateDescriptor::Make("restore/greeter", "greeting", StateKind::kRemote, "io.statefun.types/string",
                                Codec::kBuiltin, TtlMode::kNone, 0);
}

// A job keyed-state file of one state, one entry per id, as the writer lays it out (one section per key group).
SubtaskBuildResult WriteJobFile(const std::string& path, int subtask, int parallelism,
                                const std::vector<std::string>& ids) {
  const int max_p = 128;
  const KeyGroupRange range = KeyGroupRangeForSubtask(max_p, parallelism, subtask);
  std::string out;
  EXPECT_TRUE(AppendKeyedStateHeader(&out, {Greeting()}).ok());
  std::map<int, std::vector<std::u16string>> by_kg;
  for (const auto& id : ids) {
    std::u16string u;
    EXPECT_TRUE(Utf8ToUtf16(id, &u));
    const int kg = KeyGroupForId(u, max_p);
    if (range.Contains(kg)) by_kg[kg].push_back(u);
  }
  SubtaskBuildResult r;
  r.start_key_group = range.start;
  r.offsets.assign(static_cast<size_t>(range.size()), 0);
  for (auto& [kg, kg_ids] : by_kg) {
    r.offsets[static_cast<size_t>(kg - range.start)] = static_cast<int64_t>(out.size());
    out.append("\0\0", 2);  // state id 0
    for (size_t i = 0; i < kg_ids.size(); ++i) {
      std::string key, value("\0\0\0\3hi!", 7);
      AppendFunctionKey(&key, kg, 1, kg_ids[i]);
      AppendKeyValuePair(&out, key, value, i + 1 == kg_ids.size());
    }
    out.append("\xff\xff", 2);
  }
  EXPECT_TRUE(WriteStringToFileSynced(path, out).ok());
  r.file_bytes = out.size();
  return r;
}

// Entries per state name over every subtask of a savepoint.
std::map<std::string, int> EntriesPerState(const SavepointReader& reader) {
  std::map<std::string, int> n;
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE(reader.OpenStreams(&streams).ok());
  for (const auto& s : streams) {
    EXPECT_TRUE(reader.ForEachEntry(s, [&](const SavepointReader::Entry& e) {
                        ++n[e.state->flink_name];
                        return Status::OK();
                      }).ok());
  }
  return n;
}

// Runs the carry-over as a run does and returns the output's directory contents' metadata.
void BuildOnBase(const BaseSavepoint& base, const std::string& dir, const std::vector<std::string>& ids,
                 int threads = 2) {
  const int p = base.functions_operator()->parallelism;
  std::vector<SubtaskBuildResult> results;
  SavepointMetadata m;
  OperatorStateMeta op;
  op.id = OperatorIdFromUid(kFunctionsOperatorUid);
  op.parallelism = p;
  op.max_parallelism = 128;
  for (int i = 0; i < p; ++i) {
    results.push_back(WriteJobFile(dir + "/keyed-state-functions-" + std::to_string(i), i, p, ids));
  }
  ASSERT_TRUE(MergeSubtasksWithBase(base, 128, dir, threads, {}, &results).ok());
  for (int i = 0; i < p; ++i) {
    SubtaskState st;
    st.index = i;
    st.has_keyed_state = true;
    st.keyed.start_key_group = results[i].start_key_group;
    st.keyed.offsets = results[i].offsets;
    st.keyed.stream.path = "keyed-state-functions-" + std::to_string(i);
    st.keyed.stream.size = static_cast<int64_t>(results[i].file_bytes);
    op.subtasks.push_back(st);
  }
  m.operators.push_back(op);
  Status s = CarryOverOperators(base, dir, &m);
  ASSERT_TRUE(s.ok()) << s.ToUserString();
  ASSERT_TRUE(WriteStringToFileSynced(dir + "/_metadata", *SerializeMetadata(m)).ok());
}

TEST(BaseCarryOver, KeepsEverythingOfARealBaseAndAddsTheJobsStates) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  TempDir out;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("guest-" + std::to_string(i));
  BuildOnBase(**base, out.path(), ids);

  auto merged = BaseSavepoint::Open(out.path());  // every handle and file checked again
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  // keyed state: every entry of the base, plus the job's
  std::map<std::string, int> expected = EntriesPerState((*base)->reader());
  ASSERT_EQ(expected["restore.counter.seen"], 7);
  expected["restore.greeter.greeting"] = 50;
  EXPECT_EQ(EntriesPerState((*merged)->reader()), expected);
  // the other operators and master states exactly as they were, their files copied byte for byte
  ASSERT_EQ((*merged)->metadata().operators.size(), (*base)->metadata().operators.size());
  for (size_t i = 0; i < (*base)->metadata().operators.size(); ++i) {
    const OperatorStateMeta& a = (*base)->metadata().operators[i];
    const OperatorStateMeta& b = (*merged)->metadata().operators[i];
    EXPECT_EQ(a.id, b.id);
    if (&a == (*base)->functions_operator()) continue;
    SavepointMetadata one_a, one_b;
    one_a.operators = {a};
    one_b.operators = {b};
    EXPECT_EQ(*SerializeMetadata(one_a), *SerializeMetadata(one_b)) << OperatorIdHex(a.id);
  }
  EXPECT_EQ((*merged)->metadata().master_states.size(), (*base)->metadata().master_states.size());
  for (const auto& f : (*base)->files()) {
    if (f.of_functions_operator) continue;
    std::string x, y;
    ASSERT_TRUE(ReadFileToString(kBase + "/" + f.name, &x).ok());
    ASSERT_TRUE(ReadFileToString(out.path() + "/" + f.name, &y).ok()) << f.name;
    EXPECT_EQ(x, y) << f.name;
  }
  // the base's statefun states keep their ids (0..b-1) and their snapshots, verbatim
  std::vector<SavepointReader::Stream> a, b;
  ASSERT_TRUE((*base)->reader().OpenStreams(&a).ok());
  ASSERT_TRUE((*merged)->reader().OpenStreams(&b).ok());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(b[i].header.states.size(), a[i].header.states.size() + 1);
    for (size_t s = 0; s < a[i].header.states.size(); ++s) {
      const auto [ab, ae] = a[i].header.meta_info_spans[s];
      const auto [bb, be] = b[i].header.meta_info_spans[s];
      EXPECT_EQ(a[i].bytes.substr(ab, ae - ab), b[i].bytes.substr(bb, be - bb));
    }
    EXPECT_EQ(b[i].header.states.back().flink_name, "restore.greeter.greeting");
  }
}

TEST(BaseCarryOver, SameInputsGiveTheSameBytesWhateverThreads) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  TempDir one, two;
  BuildOnBase(**base, one.path(), {"a", "b", "c"}, 1);
  BuildOnBase(**base, two.path(), {"a", "b", "c"}, 2);
  for (const auto& e : fs::directory_iterator(one.path())) {
    std::string x, y;
    ASSERT_TRUE(ReadFileToString(e.path().string(), &x).ok());
    ASSERT_TRUE(ReadFileToString(two.path() + "/" + e.path().filename().string(), &y).ok());
    EXPECT_EQ(x, y) << e.path();
  }
}

TEST(BaseCarryOver, RefusesADifferentMaxParallelismNamingBoth) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  Status s = CheckJobAgainstBase(**base, {Greeting()}, {}, 256, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find("256"), std::string::npos) << s.ToUserString();
  EXPECT_NE(s.ToUserString().find("128"), std::string::npos) << s.ToUserString();
  EXPECT_TRUE(CheckJobAgainstBase(**base, {Greeting()}, {}, 128, 2).ok());
}

TEST(BaseCarryOver, RefusesAnotherParallelismUntilReLayingExists) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  Status s = CheckJobAgainstBase(**base, {Greeting()}, {}, 128, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find("parallelism 3 differs from the base's 2"), std::string::npos) << s.ToUserString();
}

TEST(BaseCarryOver, RefusesAStateTheBaseHasWithoutOnExistingNamingTheChoices) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  auto seen = *StateDescriptor::Make("restore/counter", "seen", StateKind::kRemote, "io.statefun.types/int",
                                     Codec::kBuiltin, TtlMode::kNone, 0);
  Status s = CheckJobAgainstBase(**base, {Greeting(), seen}, {}, 128, 2);
  ASSERT_FALSE(s.ok());
  const std::string msg = s.ToUserString();
  EXPECT_NE(msg.find("'seen' of function restore/counter"), std::string::npos) << msg;
  EXPECT_NE(msg.find("on_existing: replace | keep | merge"), std::string::npos) << msg;
  EXPECT_NE(msg.find("restore/counter: { states: { seen: { on_existing"), std::string::npos) << msg;
  // a choice for another state does not count
  EXPECT_FALSE(CheckJobAgainstBase(**base, {Greeting(), seen}, {{"restore.greeter.greeting", OnExisting::kKeep}},
                                   128, 2)
                   .ok());
  for (OnExisting mode : {OnExisting::kReplace, OnExisting::kKeep, OnExisting::kMerge}) {
    Status ok = CheckJobAgainstBase(**base, {Greeting(), seen}, {{"restore.counter.seen", mode}}, 128, 2);
    EXPECT_TRUE(ok.ok()) << OnExistingName(mode) << ": " << ok.ToUserString();
  }
}

TEST(BaseCarryOver, RefusesAStateOfAnotherTypeOrExpirationWhateverOnExisting) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  const OnExistingChoices replace{{"restore.counter.seen", OnExisting::kReplace}};
  auto as_long = *StateDescriptor::Make("restore/counter", "seen", StateKind::kRemote, "io.statefun.types/long",
                                        Codec::kBuiltin, TtlMode::kNone, 0);
  Status s = CheckJobAgainstBase(**base, {as_long}, replace, 128, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find("as remote io.statefun.types/long without expiration, but the base savepoint holds "
                                  "it as"),
            std::string::npos)
      << s.ToUserString();
  EXPECT_NE(s.ToUserString().find("io.statefun.types/int"), std::string::npos) << s.ToUserString();
  auto with_ttl = *StateDescriptor::Make("restore/counter", "seen", StateKind::kRemote, "io.statefun.types/int",
                                         Codec::kBuiltin, TtlMode::kAfterWrite, 60000);
  s = CheckJobAgainstBase(**base, {with_ttl}, replace, 128, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToUserString().find("with expiration"), std::string::npos) << s.ToUserString();
  auto embedded = *StateDescriptor::Make("restore/counter", "seen", StateKind::kEmbedded, "java.lang.Integer",
                                         Codec::kBuiltin, TtlMode::kNone, 0);
  EXPECT_FALSE(CheckJobAgainstBase(**base, {embedded}, replace, 128, 2).ok());
}

TEST(BaseCarryOver, RefusesToWriteOverTheBase) {
  auto r = OpenBaseForRun(kBase, kBase, {Greeting()}, {}, 128, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToUserString().find("never modifies"), std::string::npos) << r.status().ToUserString();
}

}  // namespace
}  // namespace sfb
