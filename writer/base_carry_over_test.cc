// The carry-over against a base written by real Flink 1.16.2 + statefun 3.3.0 (savepoint/testdata): the
// output holds every operator, master state and keyed entry of the base unchanged plus the job's states;
// refusals (max parallelism, a state the base has) come before any input is read. At another parallelism
// the base's keyed state is re-laid by key group (a real base 2 -> 3, 1; a base built here 3 -> 1, 2, 4).

#include "writer/base_carry_over.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <tuple>

#include "common/byte_writer.h"
#include "common/file_io.h"
#include "common/java_string.h"
#include "common/str_cat.h"
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

// A state of the job that no base here has.
StateDescriptor Nickname() {
  return *StateDescriptor::Make("restore/greeter", "nickname", StateKind::kRemote, "io.statefun.types/string",
                                Codec::kBuiltin, TtlMode::kNone, 0);
}

// Appends one key group's section: a run per (state id, ids) in the given order, each value `value` followed
// by `suffixes[run]` when given.
void AppendSection(std::string* out, int kg, const std::vector<std::pair<uint16_t, std::vector<std::u16string>>>& runs,
                   const std::string& value, const std::vector<std::string>& suffixes = {}) {
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& [id, ids] = runs[r];
    ByteWriter(out).U16(id);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string key;
      AppendFunctionKey(&key, kg, 1, ids[i]);
      AppendKeyValuePair(out, key, r < suffixes.size() ? value + suffixes[r] : value, i + 1 == ids.size());
    }
  }
  out->append("\xff\xff", 2);
}

std::u16string U16(const std::string& s) {
  std::u16string u;
  EXPECT_TRUE(Utf8ToUtf16(s, &u));
  return u;
}

// A job keyed-state file of one state, one entry per id, as the writer lays it out (one section per key group).
SubtaskBuildResult WriteJobFile(const std::string& path, int subtask, int parallelism,
                                const std::vector<std::string>& ids, const StateDescriptor& state = Greeting(),
                                const std::string& value = std::string("\0\0\0\3hi!", 7)) {
  const int max_p = 128;
  const KeyGroupRange range = KeyGroupRangeForSubtask(max_p, parallelism, subtask);
  std::string out;
  EXPECT_TRUE(AppendKeyedStateHeader(&out, {state}).ok());
  std::map<int, std::vector<std::u16string>> by_kg;
  for (const auto& id : ids) {
    const std::u16string u = U16(id);
    const int kg = KeyGroupForId(u, max_p);
    if (range.Contains(kg)) by_kg[kg].push_back(u);
  }
  SubtaskBuildResult r;
  r.start_key_group = range.start;
  r.offsets.assign(static_cast<size_t>(range.size()), 0);
  for (auto& [kg, kg_ids] : by_kg) {
    r.offsets[static_cast<size_t>(kg - range.start)] = static_cast<int64_t>(out.size());
    AppendSection(&out, kg, {{0, kg_ids}}, value);
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

// Runs the carry-over as a run does, at `p` subtasks (0: the base's parallelism), and writes the output's
// _metadata; returns the first step's failure instead.
Status TryBuildOnBase(const BaseSavepoint& base, const std::string& dir, const std::vector<std::string>& ids,
                      int threads = 2, int p = 0, const StateDescriptor& state = Greeting(),
                      const OnExistingChoices& choices = {},
                      const std::string& value = std::string("\0\0\0\3hi!", 7)) {
  if (p == 0) p = base.functions_operator()->parallelism;
  SFB_RETURN_IF_ERROR(CheckJobAgainstBase(base, {state}, choices, 128, p));
  std::vector<SubtaskBuildResult> results;
  SavepointMetadata m;
  OperatorStateMeta op;
  op.id = OperatorIdFromUid(kFunctionsOperatorUid);
  op.parallelism = p;
  op.max_parallelism = 128;
  for (int i = 0; i < p; ++i) {
    results.push_back(WriteJobFile(dir + "/keyed-state-functions-" + std::to_string(i), i, p, ids, state, value));
  }
  SFB_RETURN_IF_ERROR(MergeSubtasksWithBase(base, 128, dir, threads, choices, &results));
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
  SFB_RETURN_IF_ERROR(CarryOverOperators(base, dir, &m));
  SFB_ASSIGN_OR_RETURN(const std::string bytes, SerializeMetadata(m));
  return WriteStringToFileSynced(dir + "/_metadata", bytes);
}

void BuildOnBase(const BaseSavepoint& base, const std::string& dir, const std::vector<std::string>& ids,
                 int threads = 2, int p = 0, const StateDescriptor& state = Greeting(),
                 const OnExistingChoices& choices = {}, const std::string& value = std::string("\0\0\0\3hi!", 7)) {
  Status s = TryBuildOnBase(base, dir, ids, threads, p, state, choices, value);
  ASSERT_TRUE(s.ok()) << s.ToUserString();
}

// One keyed entry as a savepoint holds it, with the subtask whose stream it is in.
struct Placed {
  std::string state;
  int key_group;
  std::u16string id;
  std::string value;
  bool operator<(const Placed& o) const {
    return std::tie(state, key_group, id, value) < std::tie(o.state, o.key_group, o.id, o.value);
  }
};
std::map<Placed, std::vector<int>> SubtasksOfEntries(const SavepointReader& reader) {
  std::map<Placed, std::vector<int>> where;
  std::vector<SavepointReader::Stream> streams;
  EXPECT_TRUE(reader.OpenStreams(&streams).ok());
  for (const auto& s : streams) {
    EXPECT_TRUE(reader.ForEachEntry(s, [&](const SavepointReader::Entry& e) {
                        where[Placed{e.state->flink_name, e.key_group, e.id, std::string(e.value)}].push_back(s.subtask);
                        return Status::OK();
                      }).ok());
  }
  return where;
}

// Every entry of `base` is in `out` exactly once, in the subtask of `p` that owns its key group; returns how
// many entries `out` has that the base does not.
size_t ExpectEveryBaseEntryOnceInItsOwner(const SavepointReader& base, const SavepointReader& out, int p) {
  const auto in_base = SubtasksOfEntries(base);
  const auto in_out = SubtasksOfEntries(out);
  EXPECT_FALSE(in_base.empty());
  size_t extra = 0;
  for (const auto& [e, subtasks] : in_out) {
    EXPECT_EQ(subtasks.size(), 1u) << e.state << " kg " << e.key_group;
    for (int st : subtasks) EXPECT_EQ(st, SubtaskForKeyGroup(128, p, e.key_group)) << e.state << " kg " << e.key_group;
    if (!in_base.count(e)) ++extra;
  }
  for (const auto& [e, subtasks] : in_base) EXPECT_TRUE(in_out.count(e)) << e.state << " kg " << e.key_group;
  return extra;
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

StateDescriptor Seen() {
  return *StateDescriptor::Make("restore/counter", "seen", StateKind::kRemote, "io.statefun.types/int",
                                Codec::kBuiltin, TtlMode::kNone, 0);
}

// A real base at 2 re-laid to 3 and to 1: every base entry (all states) once, in the subtask owning its
// key group, plus the job's; the output's subtasks have Flink's ranges of P; other operators unchanged.
TEST(BaseCarryOver, ReLaysARealBaseByKeyGroupAtAnotherParallelism) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("guest-" + std::to_string(i));
  for (int p : {3, 1}) {
    TempDir out;
    BuildOnBase(**base, out.path(), ids, 2, p);
    auto merged = BaseSavepoint::Open(out.path());
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    const OperatorStateMeta* fn = (*merged)->functions_operator();
    ASSERT_NE(fn, nullptr);
    EXPECT_EQ(fn->parallelism, p);
    ASSERT_EQ(fn->subtasks.size(), static_cast<size_t>(p));
    for (int i = 0; i < p; ++i) {
      const KeyGroupRange r = KeyGroupRangeForSubtask(128, p, i);
      EXPECT_EQ(fn->subtasks[i].keyed.start_key_group, r.start);
      EXPECT_EQ(fn->subtasks[i].keyed.offsets.size(), static_cast<size_t>(r.size()));
    }
    EXPECT_EQ(ExpectEveryBaseEntryOnceInItsOwner((*base)->reader(), (*merged)->reader(), p), ids.size()) << p;
    std::map<std::string, int> expected = EntriesPerState((*base)->reader());
    expected["restore.greeter.greeting"] = 50;
    EXPECT_EQ(EntriesPerState((*merged)->reader()), expected) << p;
    // every file's header lists the base's states (the union) in the base's order, then the job's
    std::vector<SavepointReader::Stream> a, b;
    ASSERT_TRUE((*base)->reader().OpenStreams(&a).ok());
    ASSERT_TRUE((*merged)->reader().OpenStreams(&b).ok());
    for (const auto& stream : b) {
      ASSERT_EQ(stream.header.states.size(), a[0].header.states.size() + 1);
      for (size_t i = 0; i < a[0].header.states.size(); ++i) {
        EXPECT_EQ(stream.header.states[i].flink_name, a[0].header.states[i].flink_name);
      }
    }
    for (size_t i = 0; i < (*base)->metadata().operators.size(); ++i) {
      const OperatorStateMeta& x = (*base)->metadata().operators[i];
      const OperatorStateMeta& y = (*merged)->metadata().operators[i];
      ASSERT_EQ(x.id, y.id);
      if (&x == (*base)->functions_operator()) continue;
      SavepointMetadata one_x, one_y;
      one_x.operators = {x};
      one_y.operators = {y};
      EXPECT_EQ(*SerializeMetadata(one_x), *SerializeMetadata(one_y)) << OperatorIdHex(x.id);
    }
  }
}

TEST(BaseCarryOver, ReLaidOutputHasTheSameBytesWhateverThreads) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  TempDir one, two, four;
  BuildOnBase(**base, one.path(), {"a", "b", "c", "d"}, 1, 3);
  BuildOnBase(**base, two.path(), {"a", "b", "c", "d"}, 2, 3);
  BuildOnBase(**base, four.path(), {"a", "b", "c", "d"}, 4, 3);
  int files = 0;
  for (const auto& e : fs::directory_iterator(one.path())) {
    std::string x, y, z;
    ASSERT_TRUE(ReadFileToString(e.path().string(), &x).ok());
    ASSERT_TRUE(ReadFileToString(two.path() + "/" + e.path().filename().string(), &y).ok());
    ASSERT_TRUE(ReadFileToString(four.path() + "/" + e.path().filename().string(), &z).ok());
    EXPECT_EQ(x, y) << e.path();
    EXPECT_EQ(x, z) << e.path();
    ++files;
  }
  EXPECT_GE(files, 4);  // _metadata and three keyed-state files at least
}

// on_existing applies across a re-lay: the job's value of a base address of `seen` replaces or keeps the
// base's, whichever base subtask held it.
TEST(BaseCarryOver, OnExistingStillAppliesWhenReLaid) {
  auto base = BaseSavepoint::Open(kBase);
  ASSERT_TRUE(base.ok());
  std::vector<std::string> seen_ids;
  std::map<std::u16string, std::string> base_value;
  for (const auto& [e, st] : SubtasksOfEntries((*base)->reader())) {
    if (e.state != "restore.counter.seen") continue;
    seen_ids.push_back(Utf16ToUtf8(e.id));
    base_value[e.id] = e.value;
  }
  ASSERT_EQ(seen_ids.size(), 7u);
  const std::string job_value("\0\0\0\4\x08\x2a\0\0", 8);  // any bytes: replace and keep do not decode
  for (OnExisting mode : {OnExisting::kReplace, OnExisting::kKeep}) {
    for (int p : {3, 1}) {
      TempDir out;
      std::vector<std::string> ids = seen_ids;
      ids.push_back("new-one");
      BuildOnBase(**base, out.path(), ids, 2, p, Seen(), {{"restore.counter.seen", mode}}, job_value);
      auto merged = BaseSavepoint::Open(out.path());
      ASSERT_TRUE(merged.ok()) << merged.status().ToString();
      std::map<std::u16string, std::string> got;
      for (const auto& [e, st] : SubtasksOfEntries((*merged)->reader())) {
        if (e.state != "restore.counter.seen") continue;
        EXPECT_EQ(st.size(), 1u);
        EXPECT_EQ(st[0], SubtaskForKeyGroup(128, p, e.key_group));
        EXPECT_TRUE(got.emplace(e.id, e.value).second);
      }
      ASSERT_EQ(got.size(), 8u) << p;
      EXPECT_EQ(got[U16("new-one")], job_value);
      for (const auto& [id, v] : base_value) {
        EXPECT_EQ(got[id], mode == OnExisting::kReplace ? job_value : v) << OnExistingName(mode) << " p=" << p;
      }
    }
  }
}

// A base of 3 subtasks built here: their headers list the states in different orders (and one lacks a
// state), subtask 0 has managed operator state, every subtask raw keyed state (one group not written).
size_t IdsInRange(int n, const KeyGroupRange& r) {
  size_t in = 0;
  for (int k = 0; k < n; ++k) in += r.Contains(KeyGroupForId(U16("user-" + std::to_string(k)), 128)) ? 1 : 0;
  return in;
}
struct SyntheticBase {
  std::map<int, std::string> raw_of_kg;  // what the base's raw keyed state holds per key group
};
SyntheticBase WriteSyntheticBase(const std::string& dir, bool operator_state_on_last) {
  SyntheticBase sb;
  const int n = 3;
  const StateDescriptor a = Greeting(), b = Seen();
  const std::vector<std::vector<StateDescriptor>> headers = {{a, b}, {b, a}, {b}};
  SavepointMetadata m;
  m.checkpoint_id = 7;
  OperatorStateMeta fn;
  fn.id = OperatorIdFromUid(kFunctionsOperatorUid);
  fn.parallelism = n;
  fn.max_parallelism = 128;
  for (int i = 0; i < n; ++i) {
    const KeyGroupRange r = KeyGroupRangeForSubtask(128, n, i);
    std::string keyed;
    EXPECT_TRUE(AppendKeyedStateHeader(&keyed, headers[i]).ok());
    std::map<int, std::vector<std::u16string>> by_kg;
    for (int k = 0; k < 90; ++k) {
      const std::u16string id = U16("user-" + std::to_string(k));
      if (r.Contains(KeyGroupForId(id, 128))) by_kg[KeyGroupForId(id, 128)].push_back(id);
    }
    SubtaskState st;
    st.index = i;
    st.has_keyed_state = true;
    st.keyed.start_key_group = r.start;
    st.keyed.offsets.assign(static_cast<size_t>(r.size()), 0);
    for (const auto& [kg, kg_ids] : by_kg) {
      st.keyed.offsets[static_cast<size_t>(kg - r.start)] = static_cast<int64_t>(keyed.size());
      std::vector<std::pair<uint16_t, std::vector<std::u16string>>> runs;
      std::vector<std::string> of_state;  // a value per state name, so a wrong state id shows
      for (size_t s = 0; s < headers[i].size(); ++s) {
        runs.push_back({static_cast<uint16_t>(s), kg_ids});
        of_state.push_back(StrCat("-", headers[i][s].FlinkName()));
      }
      AppendSection(&keyed, kg, runs, StrCat("v", std::to_string(kg)), of_state);
    }
    st.keyed.stream.path = "keyed-" + std::to_string(i);
    st.keyed.stream.size = static_cast<int64_t>(keyed.size());
    EXPECT_TRUE(WriteStringToFileSynced(dir + "/" + st.keyed.stream.path, keyed).ok());
    // raw keyed state: group bytes of varying length; the range's second group not written (-1)
    std::string raw;
    st.has_raw_keyed_state = true;
    st.raw_keyed.kind = KeyedStateHandle::Kind::kKeyGroupsWithId;
    st.raw_keyed.handle_id = "raw-" + std::to_string(i);
    st.raw_keyed.start_key_group = r.start;
    for (int kg = r.start; kg <= r.end; ++kg) {
      if (kg == r.start + 1) {
        st.raw_keyed.offsets.push_back(-1);
        continue;
      }
      st.raw_keyed.offsets.push_back(static_cast<int64_t>(raw.size()));
      const std::string bytes = "timers-of-" + std::string(static_cast<size_t>(kg % 5), 'x') + std::to_string(kg);
      sb.raw_of_kg[kg] = bytes;
      raw += bytes;
    }
    st.raw_keyed.stream.path = "raw-" + std::to_string(i);
    st.raw_keyed.stream.size = static_cast<int64_t>(raw.size());
    EXPECT_TRUE(WriteStringToFileSynced(dir + "/" + st.raw_keyed.stream.path, raw).ok());
    if (i == 0 || (operator_state_on_last && i == n - 1)) {
      st.has_managed_operator_state = true;
      st.managed_operator.partitions = {{"pending", 0, {0}}};
      st.managed_operator.stream.path = "op-" + std::to_string(i);
      st.managed_operator.stream.size = 4;
      EXPECT_TRUE(WriteStringToFileSynced(dir + "/" + st.managed_operator.stream.path, "opst").ok());
    }
    fn.subtasks.push_back(st);
  }
  OperatorStateMeta other;
  other.id = OperatorIdFromUid("feedback_union_uid1");
  other.parallelism = n;
  for (int i = 0; i < n; ++i) {
    SubtaskState st;
    st.index = i;
    st.has_managed_operator_state = true;
    st.managed_operator.partitions = {{"offsets", 1, {0}}};
    st.managed_operator.stream.path = "other-" + std::to_string(i);
    st.managed_operator.stream.size = 2;
    EXPECT_TRUE(WriteStringToFileSynced(dir + "/" + st.managed_operator.stream.path, "ok").ok());
    other.subtasks.push_back(st);
  }
  m.operators = {other, fn};
  auto bytes = SerializeMetadata(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToUserString();
  EXPECT_TRUE(WriteStringToFileSynced(dir + "/_metadata", *bytes).ok());
  return sb;
}

TEST(BaseCarryOver, ReLaysABaseOfThreeSubtasksWithDifferentHeadersAndRawKeyedStateToOne) {
  TempDir in;
  const SyntheticBase sb = WriteSyntheticBase(in.path(), false);
  auto base = BaseSavepoint::Open(in.path());
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  const StateDescriptor nickname = Nickname();
  for (int p : {1, 2, 4}) {
    TempDir out;
    BuildOnBase(**base, out.path(), {"user-1", "someone"}, 2, p, nickname);
    auto merged = BaseSavepoint::Open(out.path());
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(ExpectEveryBaseEntryOnceInItsOwner((*base)->reader(), (*merged)->reader(), p), 2u) << p;
    int base_entries = 0;
    for (const auto& [e, st] : SubtasksOfEntries((*merged)->reader())) {
      if (e.state == "restore.greeter.nickname") continue;
      EXPECT_EQ(e.value, "v" + std::to_string(e.key_group) + "-" + e.state);  // under its own state's id
      ++base_entries;
    }
    EXPECT_EQ(base_entries, 90 * 2 - static_cast<int>(IdsInRange(90, KeyGroupRangeForSubtask(128, 3, 2))));
    // one header order per file: the union in first-seen order (subtask 0's), then the job's state
    std::vector<SavepointReader::Stream> streams;
    ASSERT_TRUE((*merged)->reader().OpenStreams(&streams).ok());
    ASSERT_EQ(streams.size(), static_cast<size_t>(p));
    for (const auto& s : streams) {
      std::vector<std::string> names;
      for (const auto& st : s.header.states) names.push_back(st.flink_name);
      const KeyGroupRange r = KeyGroupRangeForSubtask(128, p, s.subtask);
      if (r.start >= KeyGroupRangeForSubtask(128, 3, 2).start) {
        // key groups of base subtask 2 only, whose header lacks greeting
        EXPECT_EQ(names, (std::vector<std::string>{"restore.counter.seen", "restore.greeter.nickname"}))
            << p << "/" << s.subtask;
      } else if (r.start >= KeyGroupRangeForSubtask(128, 3, 1).start) {
        // key groups of base subtasks 1 and 2 only: subtask 1's order (seen first)
        EXPECT_EQ(names, (std::vector<std::string>{"restore.counter.seen", "restore.greeter.greeting",
                                                   "restore.greeter.nickname"}))
            << p << "/" << s.subtask;
      } else {
        EXPECT_EQ(names, (std::vector<std::string>{"restore.greeter.greeting", "restore.counter.seen",
                                                   "restore.greeter.nickname"}))
            << p << "/" << s.subtask;
      }
    }
    const OperatorStateMeta* fn = (*merged)->functions_operator();
    ASSERT_NE(fn, nullptr);
    ASSERT_EQ(fn->subtasks.size(), static_cast<size_t>(p));
    // raw keyed state: every group's bytes once, in the owner's file at its offset; the unwritten ones -1
    std::map<int, std::string> raw_seen;
    for (const auto& st : fn->subtasks) {
      ASSERT_TRUE(st.has_raw_keyed_state) << p;
      const KeyGroupRange r = KeyGroupRangeForSubtask(128, p, st.index);
      EXPECT_EQ(st.raw_keyed.start_key_group, r.start);
      ASSERT_EQ(st.raw_keyed.offsets.size(), static_cast<size_t>(r.size()));
      std::string raw;
      ASSERT_TRUE(ReadFileToString(out.path() + "/" + st.raw_keyed.stream.path, &raw).ok());
      EXPECT_EQ(st.raw_keyed.stream.size, static_cast<int64_t>(raw.size()));
      for (int kg = r.start; kg <= r.end; ++kg) {
        const int64_t off = st.raw_keyed.offsets[static_cast<size_t>(kg - r.start)];
        auto it = sb.raw_of_kg.find(kg);
        if (it == sb.raw_of_kg.end()) {
          EXPECT_EQ(off, -1) << kg;
          continue;
        }
        ASSERT_GE(off, 0) << kg;
        EXPECT_EQ(raw.substr(static_cast<size_t>(off), it->second.size()), it->second) << kg;
        raw_seen[kg] = it->second;
      }
    }
    EXPECT_EQ(raw_seen, sb.raw_of_kg) << p;
    // operator state: base subtask 0's on output subtask 0, nothing elsewhere
    EXPECT_TRUE(fn->subtasks[0].has_managed_operator_state);
    EXPECT_EQ(fn->subtasks[0].managed_operator.stream.path, "op-0");
    for (size_t i = 1; i < fn->subtasks.size(); ++i) EXPECT_FALSE(fn->subtasks[i].has_managed_operator_state);
    // the other operator exactly as it was, at the base's parallelism
    const OperatorStateMeta& other = (*merged)->metadata().operators[0];
    EXPECT_EQ(other.parallelism, 3);
    SavepointMetadata x, y;
    x.operators = {(*base)->metadata().operators[0]};
    y.operators = {other};
    EXPECT_EQ(*SerializeMetadata(x), *SerializeMetadata(y));
  }
}

// Rewrites the _metadata of the synthetic base in `dir` after `edit` changed the raw keyed state handle of
// its functions operator's subtask 0, and opens it.
std::unique_ptr<BaseSavepoint> EditRawKeyedHandle(const std::string& dir,
                                                  const std::function<void(KeyedStateHandle*)>& edit) {
  SavepointMetadata m;
  {
    auto base = BaseSavepoint::Open(dir);
    EXPECT_TRUE(base.ok()) << base.status().ToUserString();
    if (!base.ok()) return nullptr;
    m = (*base)->metadata();
  }
  OperatorStateMeta& fn = m.operators[1];
  EXPECT_EQ(fn.id, OperatorIdFromUid(kFunctionsOperatorUid));
  edit(&fn.subtasks[0].raw_keyed);
  auto bytes = SerializeMetadata(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToUserString();
  EXPECT_TRUE(WriteStringToFileSynced(dir + "/_metadata", *bytes).ok());
  auto base = BaseSavepoint::Open(dir);
  EXPECT_TRUE(base.ok()) << base.status().ToUserString();
  return base.ok() ? std::move(*base) : nullptr;
}

// Raw keyed state is re-laid by where each key group starts: offsets that go backwards leave where a group
// ends unknown, so another parallelism is refused (the base's own parallelism carries it as it is).
TEST(BaseCarryOver, RefusesToRelayRawKeyedStateWhoseOffsetsGoBackwards) {
  TempDir in;
  WriteSyntheticBase(in.path(), false);
  std::vector<int64_t> offsets;
  std::vector<size_t> written;
  int32_t start = 0;
  auto base = EditRawKeyedHandle(in.path(), [&](KeyedStateHandle* h) {
    for (size_t i = 0; i < h->offsets.size(); ++i) {
      if (h->offsets[i] >= 0) written.push_back(i);
    }
    ASSERT_GE(written.size(), 2u);
    std::swap(h->offsets[written[0]], h->offsets[written[1]]);
    offsets = h->offsets;
    start = h->start_key_group;
  });
  ASSERT_NE(base, nullptr);
  ASSERT_GE(written.size(), 2u);
  const OnExistingChoices keep = {{"restore.greeter.greeting", OnExisting::kKeep}};
  Status s = CheckJobAgainstBase(*base, {Greeting()}, keep, 128, 4);
  ASSERT_FALSE(s.ok());
  const std::string msg = s.ToUserString();
  const int kg = start + static_cast<int>(written[1]);
  EXPECT_NE(msg.find(StrCat("the raw keyed state of the base's subtask 0 of functions_uid1 has key group ",
                            std::to_string(kg), " at offset ", std::to_string(offsets[written[1]]),
                            ", before the previous group's ", std::to_string(offsets[written[0]]))),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("leave --parallelism unset with --base (the output then keeps the base's 3)"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(CheckJobAgainstBase(*base, {Greeting()}, keep, 128, 3).ok());  // the base's parallelism: as it is
}

// A raw keyed offset past the end of its stream is named (key group, offset, the stream's size) when the
// state is re-laid, before the output's _metadata is written.
TEST(BaseCarryOver, RefusesToRelayRawKeyedStateWhoseOffsetIsPastTheStream) {
  TempDir in;
  WriteSyntheticBase(in.path(), false);
  int kg = -1;
  int64_t past = 0;
  auto base = EditRawKeyedHandle(in.path(), [&](KeyedStateHandle* h) {
    ASSERT_EQ(h->stream.type, StreamHandle::Type::kRelativeFile);
    const int64_t size = static_cast<int64_t>(fs::file_size(in.path() + "/" + h->stream.path));
    for (size_t i = h->offsets.size(); i-- > 0;) {  // the last group written: the order stays ascending
      if (h->offsets[i] >= 0) {
        kg = h->start_key_group + static_cast<int>(i);
        past = h->offsets[i] = size + 10;
        return;
      }
    }
  });
  ASSERT_NE(base, nullptr);
  ASSERT_GE(kg, 0);
  TempDir out;
  Status s = TryBuildOnBase(*base, out.path(), {"user-1"}, 2, 4, Nickname());
  ASSERT_FALSE(s.ok());
  const std::string msg = s.ToUserString();
  EXPECT_NE(msg.find(StrCat("key group ", std::to_string(kg), " starts at offset ", std::to_string(past),
                            ", after the stream's ", std::to_string(past - 10), " bytes")),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("raw keyed state of subtask 0 of functions_uid1"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(out.path() + "/_metadata"));
}

// Raw keyed state in an absolute file (a retained checkpoint's layout) is refused when the base is opened,
// before anything is read or written, with the command that takes a canonical savepoint instead.
TEST(BaseCarryOver, RefusesABaseWhoseRawKeyedStateIsInAnAbsoluteFile) {
  TempDir in;
  WriteSyntheticBase(in.path(), false);
  SavepointMetadata m;
  {
    auto base = BaseSavepoint::Open(in.path());
    ASSERT_TRUE(base.ok()) << base.status().ToUserString();
    m = (*base)->metadata();
  }
  StreamHandle& raw = m.operators[1].subtasks[0].raw_keyed.stream;
  raw.type = StreamHandle::Type::kAbsoluteFile;
  raw.path = in.path() + "/" + raw.path;
  auto bytes = SerializeMetadata(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToUserString();
  ASSERT_TRUE(WriteStringToFileSynced(in.path() + "/_metadata", *bytes).ok());
  auto base = BaseSavepoint::Open(in.path());
  ASSERT_FALSE(base.ok());
  const std::string msg = base.status().ToUserString();
  EXPECT_NE(msg.find(StrCat("names the absolute file ", raw.path)), std::string::npos) << msg;
  EXPECT_NE(msg.find("flink stop --type canonical"), std::string::npos) << msg;
}

// Base subtasks whose keyed-state headers differ before their state lists (another key serializer, say)
// cannot share one output file: merging them into fewer subtasks is refused, naming both streams.
TEST(BaseCarryOver, RefusesToMergeBaseStreamsWithDifferentKeySerializers) {
  TempDir in;
  WriteSyntheticBase(in.path(), false);
  std::string keyed;
  ASSERT_TRUE(ReadFileToString(in.path() + "/keyed-1", &keyed).ok());
  // The key serializer snapshot's own version (the i32 after its class name), which the reader does not
  // interpret: the header still parses, at the same length, so every offset still holds.
  const std::string cls = "StringSerializerSnapshot";
  const size_t at = keyed.find(cls);
  ASSERT_NE(at, std::string::npos);
  ++keyed[at + cls.size() + 3];
  ASSERT_TRUE(WriteStringToFileSynced(in.path() + "/keyed-1", keyed).ok());
  auto base = BaseSavepoint::Open(in.path());
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  TempDir out;
  Status s = TryBuildOnBase(**base, out.path(), {"user-1"}, 2, 1, Nickname());
  ASSERT_FALSE(s.ok());
  const std::string msg = s.ToUserString();
  EXPECT_NE(msg.find(StrCat("the base's keyed-state streams ", in.path(), "/keyed-0 and ", in.path(),
                            "/keyed-1 have different key serializers or header versions, so their key groups "
                            "cannot share one file of subtask 0 of 1")),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("leave --parallelism unset with --base"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(out.path() + "/_metadata"));
  // at the base's own parallelism each stream keeps its own header
  TempDir same;
  Status at_three = TryBuildOnBase(**base, same.path(), {"user-1"}, 2, 3, Nickname());
  EXPECT_TRUE(at_three.ok()) << at_three.ToUserString();
}

TEST(BaseCarryOver, RefusesFewerSubtasksWhenABaseSubtaskBeyondThemHasOperatorState) {
  TempDir in;
  WriteSyntheticBase(in.path(), true);
  auto base = BaseSavepoint::Open(in.path());
  ASSERT_TRUE(base.ok()) << base.status().ToUserString();
  Status s = CheckJobAgainstBase(**base, {Greeting()}, {{"restore.greeter.greeting", OnExisting::kKeep}}, 128, 2);
  ASSERT_FALSE(s.ok());
  const std::string msg = s.ToUserString();
  EXPECT_NE(msg.find("parallelism 2 is lower than the base's 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("subtask 2 of functions_uid1 has operator state"), std::string::npos) << msg;
  EXPECT_NE(msg.find("leave --parallelism unset"), std::string::npos) << msg;
  // more subtasks, or as many, are fine: each base subtask keeps its operator state on its own index
  EXPECT_TRUE(CheckJobAgainstBase(**base, {Greeting()}, {{"restore.greeter.greeting", OnExisting::kKeep}}, 128, 3).ok());
  EXPECT_TRUE(CheckJobAgainstBase(**base, {Greeting()}, {{"restore.greeter.greeting", OnExisting::kKeep}}, 128, 5).ok());
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
