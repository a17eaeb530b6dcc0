// merge: append (router/rules.h, MergeOp::kAppend) in whole runs of a job: a codec json state holding the
// JSON array of a field's values or of an object per record, in the records' order, NULLs skipped, after
// a value another route set; the same bytes whatever the threads and the split size; and the job spec
// errors that say how to declare such a state.

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "common/file_io.h"
#include "common/java_string.h"
#include "job/job_builder.h"
#include "job/job_spec.h"
#include "savepoint/savepoint_reader.h"

namespace sfb {
namespace {

class AppendMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/append_merge_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    // u1's pages start from an array another route sets, u2's from an empty one, the visits of both from
    // nothing; u3's pages from a value that is no array.
    ASSERT_TRUE(WriteStringToFileSynced(dir_ + "/users.jsonl",
                                        "{\"id\":\"u1\",\"history\":\"[\\\"/old\\\"]\"}\n"
                                        "{\"id\":\"u2\",\"history\":\"[ ]\"}\n"
                                        "{\"id\":\"u3\",\"history\":\"{\\\"not\\\":\\\"an array\\\"}\"}\n")
                    .ok());
    std::string events = "user,page,ms\n";
    for (int i = 0; i < 400; ++i) {
      events += std::string(i % 2 ? "u1" : "u2") + "," + (i % 7 == 3 ? "" : "/p" + std::to_string(i)) + "," +
                std::to_string(1000 + i) + "\n";
    }
    ASSERT_TRUE(WriteStringToFileSynced(dir_ + "/events.csv", events).ok());
  }
  void TearDown() override { RemoveAll(dir_); }

  std::string Spec(const std::string& split, bool with_u3, const std::string& pages_state = "") const {
    return R"(
savepoint: { path: )" + dir_ + R"(/sp, max_parallelism: 128, parallelism: 2 }
functions:
  ex/user:
    states:
      pages: )" + (pages_state.empty() ? "{ type: ex/Pages, codec: json }" : pages_state) + R"(
      visits: { type: ex/Visits, codec: json }
sources:
  users: { file: { path: )" + dir_ + R"(/users.jsonl, format: jsonl } }
  events: { file: { path: )" + dir_ + R"(/events.csv, split_size: )" + split + R"( } }
routes:
  - from: users
    to: ex/user
    id: "{id}"
    where: ")" + (with_u3 ? "{id} != null" : "{id} != 'u3'") + R"("
    set: { pages: "{history}" }
  - from: events
    to: ex/user
    id: "{user}"
    merge: { pages: append(page) }
  - from: events
    to: ex/user
    id: "{user}"
    set: { visits: { page: "{page}", at: "{ms}" } }
    merge: { visits: append }
)";
  }

  Result<std::unique_ptr<BuiltJob>> Build(const std::string& spec_text, int threads) const {
    auto spec = ParseJobSpec(spec_text, "job.yaml", dir_);
    if (!spec.ok()) return spec.status();
    JobOverrides o;
    o.threads = threads;
    o.ttl_timestamp = 0;
    auto job = BuildJob(*spec, o);
    if (!job.ok()) return job.status();
    return std::make_unique<BuiltJob>(std::move(job).value());
  }

  // The bytes of every file, and each address's states decoded, of one run.
  struct Run {
    Status status;
    std::map<std::string, std::string> files;
    std::map<std::string, std::string> values;  // "id/state" -> JSON text
  };
  Run Write(const std::string& split, int threads, bool with_u3 = false) {
    Run run;
    auto job = Build(Spec(split, with_u3), threads);
    EXPECT_TRUE(job.ok()) << job.status().ToUserString();
    const std::string out = dir_ + "/sp";
    RemoveAll(out);
    run.status = (*job)->creator->Write(out, WriteOptions());
    if (!run.status.ok()) return run;
    for (const char* name : {"_metadata", "keyed-state-functions-0", "keyed-state-functions-1"}) {
      EXPECT_TRUE(ReadFileToString(out + "/" + name, &run.files[name]).ok()) << name;
    }
    auto reader = SavepointReader::Open(out);
    EXPECT_TRUE(reader.ok()) << reader.status().ToUserString();
    std::vector<SavepointReader::Stream> streams;
    EXPECT_TRUE((*reader)->OpenStreams(&streams).ok());
    for (const auto& s : streams) {
      EXPECT_TRUE((*reader)->ForEachEntry(s, [&](const SavepointReader::Entry& e) {
                            StateValue v;
                            int64_t ts;
                            SFB_RETURN_IF_ERROR(e.state->descriptor.DecodeValue(e.value, &v, &ts));
                            run.values[Utf16ToUtf8(e.id) + "/" + e.state->descriptor.state_name] =
                                std::get<std::string>(v);
                            return Status::OK();
                          }).ok());
    }
    RemoveAll(out);
    return run;
  }

  std::string dir_;
};

TEST_F(AppendMergeTest, AnArrayOfTheValuesInTheRecordsOrderNullsSkipped) {
  const Run run = Write("1MB", 1);
  ASSERT_TRUE(run.status.ok()) << run.status.ToUserString();
  std::string u1 = "[\"/old\"", u2 = "[ ", u1_visits = "[", u2_visits = "[";
  for (int i = 0; i < 400; ++i) {
    const bool odd = i % 2;
    const bool null_page = i % 7 == 3;
    std::string& pages = odd ? u1 : u2;
    if (!null_page) pages += std::string(pages.size() > 2 ? "," : "") + "\"/p" + std::to_string(i) + "\"";
    std::string& visits = odd ? u1_visits : u2_visits;
    // An object gets every record: a NULL leaf is a JSON null inside it. CSV fields are text, so the
    // milliseconds are JSON strings.
    visits += std::string(visits.size() > 1 ? "," : "") + "{\"page\":" +
              (null_page ? std::string("null") : "\"/p" + std::to_string(i) + "\"") + ",\"at\":\"" +
              std::to_string(1000 + i) + "\"}";
  }
  EXPECT_EQ(run.values.at("u1/pages"), u1 + "]");
  EXPECT_EQ(run.values.at("u2/pages"), u2 + "]");
  EXPECT_EQ(run.values.at("u1/visits"), u1_visits + "]");
  EXPECT_EQ(run.values.at("u2/visits"), u2_visits + "]");
  EXPECT_EQ(run.values.size(), 4u);
}

TEST_F(AppendMergeTest, SameBytesWhateverTheThreadsAndSplits) {
  const Run reference = Write("1MB", 1);
  ASSERT_TRUE(reference.status.ok()) << reference.status.ToUserString();
  for (int threads : {2, 4}) {
    const Run run = Write("256B", threads);
    ASSERT_TRUE(run.status.ok()) << run.status.ToUserString();
    EXPECT_EQ(run.files, reference.files) << threads << " threads";
  }
}

TEST_F(AppendMergeTest, AValueThatIsNoArrayFailsNamingTheState) {
  const Run run = Write("1MB", 2, /*with_u3=*/true);
  // u3's pages hold an object and no event appends to u3, so the run succeeds and keeps it as set.
  ASSERT_TRUE(run.status.ok()) << run.status.ToUserString();
  EXPECT_EQ(run.values.at("u3/pages"), "{\"not\":\"an array\"}");
  // An event for u3 appends to that object: the run fails naming the state and the fix.
  std::string events;
  ASSERT_TRUE(ReadFileToString(dir_ + "/events.csv", &events).ok());
  ASSERT_TRUE(WriteStringToFileSynced(dir_ + "/events.csv", events + "u3,/x,1\n").ok());
  const Run failed = Write("1MB", 2, /*with_u3=*/true);
  ASSERT_FALSE(failed.status.ok());
  const std::string text = failed.status.ToUserString();
  EXPECT_NE(text.find("state pages merges with append, but the value it already holds is not a JSON array"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("u3"), std::string::npos) << text;
}

TEST_F(AppendMergeTest, TheSpecSaysHowToDeclareAnAppendState) {
  auto job = Build(Spec("1MB", false, "{ type: io.statefun.types/string }"), 1);
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().ToUserString().find("append needs a state with codec: json (it holds a JSON array), but "
                                             "pages is io.statefun.types/string"),
            std::string::npos)
      << job.status().ToUserString();
  EXPECT_NE(job.status().hint().find("pages: { type: example/Visits, codec: json }"), std::string::npos);
  std::string bare = Spec("1MB", false);
  bare.replace(bare.find("append(page)"), 12, "append");
  job = Build(bare, 1);
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().ToUserString().find("merge append for state pages has no value to merge"), std::string::npos)
      << job.status().ToUserString();
}

}  // namespace
}  // namespace sfb
