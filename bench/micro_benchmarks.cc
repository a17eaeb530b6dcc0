// Micro-benchmarks of the hot paths (Google Benchmark): key-group hashing, key and value encoding,
// routing one record through a compiled route, and inserting into the spill store.
//   build/bench/micro_benchmarks [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <filesystem>

#include "common/java_string.h"
#include "common/file_io.h"
#include "job/job_builder.h"
#include "job/job_spec.h"
#include "router/rule_router.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"
#include "savepoint/state_descriptor.h"
#include "writer/routed_entries.h"
#include "writer/shard_store.h"

namespace {

std::vector<std::string> Ids(size_t n) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back("user-" + std::to_string(i * 7919));
  return ids;
}

void BM_KeyGroupForId(benchmark::State& state) {
  const auto ids = Ids(1024);
  std::u16string id16;
  size_t i = 0;
  for (auto _ : state) {
    sfb::Utf8ToUtf16(ids[i++ & 1023], &id16);
    benchmark::DoNotOptimize(sfb::KeyGroupForId(id16, 128));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyGroupForId);

void BM_EncodeKeyAndValue(benchmark::State& state) {
  auto d = sfb::StateDescriptor::Make("bench/user", "visits", sfb::StateKind::kRemote, "io.statefun.types/long",
                                      sfb::Codec::kBuiltin, sfb::TtlMode::kNone, 0);
  const auto ids = Ids(1024);
  std::u16string id16;
  std::string key, value;
  size_t i = 0;
  for (auto _ : state) {
    sfb::Utf8ToUtf16(ids[i & 1023], &id16);
    key.clear();
    value.clear();
    sfb::AppendFunctionKey(&key, 17, 1, id16);
    d->AppendValue(&value, sfb::StateValue(static_cast<int64_t>(i++)), 0);
    benchmark::DoNotOptimize(key.data());
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeKeyAndValue);

class NullDownstream : public sfb::Downstream {
 public:
  sfb::Status Forward(const std::string&, const std::string& id) override {
    benchmark::DoNotOptimize(id.data());
    return sfb::Status::OK();
  }
  sfb::Status Forward(const std::string&, const std::string& id, const sfb::Record& payload) override {
    benchmark::DoNotOptimize(id.data());
    benchmark::DoNotOptimize(payload.size());
    return sfb::Status::OK();
  }
};

void BM_RouteRecord(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "sfb-micro-route";
  std::filesystem::create_directories(dir);
  const std::string csv = dir + "/u.csv";
  sfb::WriteStringToFileSynced(csv, "id,name,visits\nu,n,1\n");
  auto spec = sfb::ParseJobSpec(R"(
savepoint: { path: out }
functions:
  bench/user: { states: { visits: { type: io.statefun.types/long }, name: { type: io.statefun.types/string } } }
sources: { users: { file: { path: )" + csv + R"( } } }
routes:
  - { from: users, to: bench/user, id: "{id}", set: { visits: "{visits}", name: "{name}" } }
)", "bench.yaml", dir);
  auto job = sfb::BuildJob(*spec, sfb::JobOverrides{});
  if (!job.ok()) {
    state.SkipWithError(job.status().ToString().c_str());
    return;
  }
  sfb::RuleRouter router(job->routes);
  auto schema = std::make_shared<const sfb::Schema>(std::vector<std::string>{"id", "name", "visits"});
  sfb::Record record(schema, {sfb::Value::Text("user-123456"), sfb::Value::Text("Name 123456"), sfb::Value::Text("42")});
  NullDownstream down;
  for (auto _ : state) benchmark::DoNotOptimize(router.Route(record, down).ok());
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RouteRecord);

void BM_ShardInsert(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "sfb-micro-store";
  std::filesystem::remove_all(dir);
  sfb::ShardStore::Options o;
  o.dir = dir;
  auto store = sfb::ShardStore::Open(o);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  const auto ids = Ids(1 << 16);
  std::u16string id16;
  std::string id_bytes, key;
  const std::string value(40, 'v');
  // A 64 MB budget: entries are kept by key group in memory and spilled as sorted runs when it is full.
  sfb::RoutedEntries entries(store->get(), 128, 1, 64 << 20);
  sfb::RoutedEntries::Writer* writer = entries.writer(0);
  uint64_t pos = 0;
  for (auto _ : state) {
    sfb::Utf8ToUtf16(ids[pos & 0xFFFF], &id16);
    id_bytes.clear();
    sfb::AppendStringValue(&id_bytes, id16);
    key.clear();
    const int kg = sfb::KeyGroupForId(id16, 128);
    sfb::EncodeStoreKey(&key, kg, 0, id_bytes, 0, pos++, 0);
    writer->BeginRecord();
    writer->Put(kg, key, value);
    bool spilled;
    (void)writer->Fit(&spilled);
  }
  (void)writer->Spill();
  state.SetItemsProcessed(state.iterations());
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ShardInsert);

}  // namespace

BENCHMARK_MAIN();
