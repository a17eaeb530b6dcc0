#include "job/job_spec.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sfb {
namespace {

constexpr char kJob[] = R"(
savepoint:
  path: out/sp
  max_parallelism: 256
  parallelism: 4
functions:
  example/greeter:
    states:
      seen: { type: io.statefun.types/int }
      profile: { type: example/Profile, codec: json, expire_after_invoke: 1h30m }
      total: { type: java.lang.Long }
sources:
  users: { file: { path: "${SFB_SPEC_TEST_DIR:-data}/users.csv" } }
routes:
  - from: users
    to: example/greeter
    id: "{id}"
    where: ["{active} == true", "{id} != null"]
    set: { seen: 0, profile: { name: "{name}", tags: ["a", "{tag}"], n: 3 } }
    merge: { total: sum(amount) }
)";

TEST(JobSpec, ParsesEverySection) {
  auto job = ParseJobSpec(kJob, "job.yaml", "/jobs");
  ASSERT_TRUE(job.ok()) << job.status().ToUserString();
  EXPECT_EQ(job->savepoint_path, "/jobs/out/sp");
  EXPECT_EQ(job->max_parallelism, 256);
  EXPECT_EQ(*job->parallelism, 4);
  ASSERT_EQ(job->functions.size(), 1u);
  const auto& states = job->functions[0].states;
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states[1].ttl_mode, TtlMode::kAfterInvoke);
  EXPECT_EQ(states[1].ttl_millis, 5'400'000);
  EXPECT_EQ(states[2].kind, StateKind::kEmbedded);
  EXPECT_EQ(job->sources[0].definition->Describe()["path"], "/jobs/data/users.csv");
  const auto& r = job->routes[0];
  EXPECT_EQ(r.where_conditions.size(), 2u);
  EXPECT_EQ(r.set[0].second, "0");
  EXPECT_EQ(r.set[1].second.dump(), R"({"name":"{name}","tags":["a","{tag}"],"n":3})");
  EXPECT_EQ(r.merge[0].second, "sum(amount)");
}

TEST(JobSpec, EnvironmentExpansion) {
  ::setenv("SFB_SPEC_TEST_DIR", "/mnt/x", 1);
  auto job = ParseJobSpec(kJob, "job.yaml", "/jobs");
  ::unsetenv("SFB_SPEC_TEST_DIR");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->sources[0].definition->Describe()["path"], "/mnt/x/users.csv");
  EXPECT_EQ(*ExpandEnvironment("cost: $$5 ${SFB_NOPE:-none}"), "cost: $5 none");
  auto missing = ExpandEnvironment("${SFB_DEFINITELY_UNSET}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().hint(), "export SFB_DEFINITELY_UNSET=... before running, or write ${SFB_DEFINITELY_UNSET:-default}");
}

TEST(JobSpec, ErrorsCarryLineAndColumn) {
  std::string bad = kJob;
  bad.replace(bad.find("expire_after_invoke: 1h30m"), 26, "expire_after_invoke: soon");
  auto job = ParseJobSpec(bad, "job.yaml", ".");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().location(), "job.yaml:10:75");
  EXPECT_NE(job.status().message().find("'soon' is not a duration"), std::string::npos);

  bad = kJob;
  bad.replace(bad.find("max_parallelism"), 15, "max_paralelism");
  job = ParseJobSpec(bad, "job.yaml", ".");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().location(), "job.yaml:4:3");
  EXPECT_NE(job.status().hint().find("did you mean 'max_parallelism'?"), std::string::npos);
}

TEST(JobSpec, TopLevelXKeysAreTheUsersOwn) {
  const std::string text = std::string("x-common: &common { type: io.statefun.types/int }\n") + kJob;
  auto job = ParseJobSpec(text, "job.yaml", "/jobs");
  ASSERT_TRUE(job.ok()) << job.status().ToUserString();
  auto bad = ParseJobSpec(std::string("y-common: 1\n") + kJob, "job.yaml", "/jobs");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToUserString().find("unknown key 'y-common' in the job file"), std::string::npos);
  EXPECT_NE(bad.status().ToUserString().find("x-*"), std::string::npos) << bad.status().ToUserString();
}

TEST(JobSpec, StatesOnlyReadsNoSource) {
  ::unsetenv("SFB_SPEC_TEST_SECRET");
  const std::string text = std::string(kJob) + "errors: { dead_letter: \"${SFB_SPEC_TEST_SECRET}\", max_bad_records: 1 }\n";
  auto all = ParseJobSpec(text, "job.yaml", "/jobs");
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("SFB_SPEC_TEST_SECRET is not set"), std::string::npos);
  auto states = ParseJobSpec(text, "job.yaml", "/jobs", JobSpecParts::kStatesOnly);
  ASSERT_TRUE(states.ok()) << states.status().ToUserString();
  ASSERT_EQ(states->functions.size(), 1u);
  EXPECT_EQ(states->functions[0].states.size(), 3u);
  EXPECT_TRUE(states->sources.empty());
}

TEST(JobSpec, StateScale) {
  const std::string base = std::string(kJob);
  auto job = ParseJobSpec(base, "job.yaml", "/jobs");
  ASSERT_TRUE(job.ok()) << job.status().ToUserString();
  EXPECT_EQ(job->functions[0].states[2].scale, 0);  // not declared
  std::string text = base;
  text.replace(text.find("total: { type: java.lang.Long }"), 31, "total: { type: java.lang.Long, scale: 2 }");
  job = ParseJobSpec(text, "job.yaml", "/jobs");
  ASSERT_TRUE(job.ok()) << job.status().ToUserString();
  EXPECT_EQ(job->functions[0].states[2].scale, 2);
  text = base;
  text.replace(text.find("total: { type: java.lang.Long }"), 31, "total: { type: java.lang.Long, scale: 19 }");
  job = ParseJobSpec(text, "job.yaml", "/jobs");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().ToUserString().find("job.yaml:"), std::string::npos) << job.status().ToUserString();
  EXPECT_NE(job.status().ToUserString().find("0..18"), std::string::npos) << job.status().ToUserString();
}

TEST(JobSpec, AnEmptyVariableIsNotAnUnsetOne) {
  ::setenv("SFB_SPEC_TEST_EMPTY", "", 1);
  auto r = ExpandEnvironment("${SFB_SPEC_TEST_EMPTY}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("environment variable SFB_SPEC_TEST_EMPTY is set but empty"), std::string::npos);
  EXPECT_NE(r.status().hint().find("${SFB_SPEC_TEST_EMPTY:-}"), std::string::npos);
  auto allowed = ExpandEnvironment("[${SFB_SPEC_TEST_EMPTY:-}]");
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, "[]");
  ::unsetenv("SFB_SPEC_TEST_EMPTY");
}

}  // namespace
}  // namespace sfb
