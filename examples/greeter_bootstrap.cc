// Bootstrapping with the C++ API directly: the same greeter state as examples/greeter/job.yaml builds,
// written as code, the way statefun's StatefulFunctionsSavepointCreator is used from Java.
//
//   greeter-example OUTPUT_DIR [DATA_DIR]
//
// DATA_DIR defaults to examples/greeter/data. The program reads users.csv and visits.jsonl, routes
// users and visits to example/greeter by user id, and keeps, per user: a visit count (remote int), a
// JSON profile (remote example/Profile), and the latest visit time as an embedded java.lang.Long.

#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/router.h"
#include "api/savepoint_creator.h"
#include "api/state_bootstrap_function.h"
#include "connectors/file/file_source.h"

namespace {

// One instance serves many addresses in turn; the runtime binds the PersistedValues to the current one.
class GreeterBootstrap final : public sfb::StateBootstrapFunction {
 public:
  sfb::Status Bootstrap(sfb::Context& context, const sfb::Record& record) override {
    if (context.source() == "users") {
      nlohmann::json profile = {{"name", record.Get("name").ToText()}, {"email", record.Get("email").ToText()}};
      profile_.Set(profile.dump());
      return sfb::Status::OK();
    }
    // A visit: count it and remember the latest timestamp.
    seen_count_.Set(seen_count_.GetOrDefault(0) + 1);
    const sfb::Value& ts = record.Get("ts");
    if (ts.kind() != sfb::Value::Kind::kInt) {
      return sfb::Status::BadRecord("visit of " + context.self().id + " has no integer ts");
    }
    last_visit_.Set(std::max(last_visit_.GetOrDefault(0), ts.as_int()));
    return sfb::Status::OK();
  }

 private:
  sfb::PersistedValue<int32_t> seen_count_{this, "seen_count", sfb::types::Int()};
  sfb::PersistedValue<std::string> profile_{this, "profile", sfb::types::Json("example/Profile")};
  sfb::PersistedValue<int64_t> last_visit_{this, "last_visit_millis", sfb::types::JavaLong()};
};

// Routers run on reader threads concurrently: no mutable state.
class ByField final : public sfb::Router {
 public:
  explicit ByField(std::string field) : field_(std::move(field)) {}
  sfb::Status Route(const sfb::Record& record, sfb::Downstream& downstream) const override {
    const sfb::Value& id = record.Get(field_);
    if (id.is_null()) return sfb::Status::OK();  // nothing to address
    return downstream.Forward("example/greeter", id.ToText());
  }

 private:
  std::string field_;
};

std::unique_ptr<sfb::Source> File(const std::string& path, sfb::FileSourceConfig::Format format) {
  sfb::FileSourceConfig config;
  config.path = path;
  config.format = format;
  return std::make_unique<sfb::FileSource>(config);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR [DATA_DIR]\n", argv[0]);
    return 2;
  }
  const std::string data = argc > 2 ? argv[2] : "examples/greeter/data";

  sfb::SavepointCreator creator(/*max_parallelism=*/128);
  creator.WithParallelism(2);
  creator.WithStateBootstrapFunctionProvider("example/greeter", [] { return std::make_unique<GreeterBootstrap>(); });
  // Registration order is the order an address sees records: profiles first, then visits.
  creator.WithBootstrapData("users", File(data + "/users.csv", sfb::FileSourceConfig::Format::kCsv),
                            std::make_shared<ByField>("user_id"));
  creator.WithBootstrapData("visits", File(data + "/visits.jsonl", sfb::FileSourceConfig::Format::kJsonl),
                            std::make_shared<ByField>("user"));

  sfb::Status status = creator.Write(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToUserString().c_str());
    return 1;
  }
  const sfb::WriteSummary& s = creator.summary();
  std::printf("wrote %s: %llu records, %llu addresses, %llu bytes\n", s.path.c_str(),
              static_cast<unsigned long long>(s.records_read), static_cast<unsigned long long>(s.addresses),
              static_cast<unsigned long long>(s.bytes));
  return 0;
}
