// Changelog semantics through the router: a record for which a route's delete_when holds (a Kafka
// tombstone by default) deletes the states that route sets, and later records set them again.

#include <gtest/gtest.h>

#include "job/job_builder.h"
#include "job/job_spec.h"
#include "router/rule_function.h"
#include "router/rule_router.h"

namespace sfb {
namespace {

class Capture : public Downstream {
 public:
  std::vector<std::pair<std::string, Record>> forwarded;
  Status Forward(const std::string&, const std::string&) override { return Status::Internal("unused"); }
  Status Forward(const std::string&, const std::string& id, const Record& payload) override {
    forwarded.emplace_back(id, payload);
    return Status::OK();
  }
};

class NoContext : public Context {
 public:
  const Address& self() const override { return address_; }
  const std::string& source() const override { return source_; }

 private:
  Address address_;
  std::string source_;
};

Record Message(std::optional<std::string> key, std::optional<std::string> value) {
  return MakeRecord({{"key", key ? Value::Text(*key) : Value::Null()},
                     {"value", value ? Value::Text(*value) : Value::Null()},
                     {"value.name", value ? Value::Text(*value) : Value::Null()}});
}

class Tombstones : public ::testing::Test {
 protected:
  void Build(const std::string& route_extra) {
    const std::string text = R"(
savepoint: {path: out}
functions:
  example/user:
    states:
      name: {type: io.statefun.types/string}
      updates: {type: io.statefun.types/long}
      other: {type: io.statefun.types/string}
sources:
  users: {kafka: {brokers: "127.0.0.1:1", topics: users}}
routes:
  - {from: users, to: example/user, )" + route_extra + R"( set: {name: "{value.name}"}, merge: {updates: count}}
)";
    auto spec = ParseJobSpec(text, "job.yaml", ".");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto job = BuildJob(*spec, JobOverrides{}, /*connect_remote=*/false);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    routes_ = job->routes;
    std::vector<StateSpec> specs;
    for (const auto& d : job->states) {
      specs.push_back(StateSpec{d.state_name, StateType{d.kind, d.type_name, d.codec, d.repr()},
                                Expiration{d.ttl_mode, d.ttl_millis}});
    }
    function_ = std::make_unique<RuleFunction>(
        specs, std::make_shared<const std::vector<std::shared_ptr<const CompiledRoute>>>(routes_));
  }

  // Routes `records` and applies what reaches `id`, in order, to fresh state; returns the slots.
  std::vector<std::optional<StateValue>> Apply(const std::vector<Record>& records, const std::string& id) {
    RuleRouter router(routes_);
    Capture capture;
    for (const auto& r : records) EXPECT_TRUE(router.Route(r, capture).ok());
    function_->ClearAllStates();
    function_->mutable_slots()[2].value = StateValue(std::string("untouched"));
    NoContext ctx;
    for (const auto& [to, payload] : capture.forwarded) {
      if (to == id) {
        EXPECT_TRUE(function_->Bootstrap(ctx, payload).ok());
      }
    }
    std::vector<std::optional<StateValue>> out;
    for (const auto& s : function_->slots()) out.push_back(s.value);
    return out;
  }

  std::vector<std::shared_ptr<const CompiledRoute>> routes_;
  std::unique_ptr<RuleFunction> function_;
};

TEST_F(Tombstones, ATombstoneDeletesTheStatesItsRouteSetsAndOnlyThose) {
  Build("");
  const auto slots = Apply({Message("ana", "Ana"), Message("bob", "Bob"), Message("ana", std::nullopt)}, "ana");
  EXPECT_FALSE(slots[0].has_value());  // name deleted
  EXPECT_FALSE(slots[1].has_value());  // the count too: the route merges it
  ASSERT_TRUE(slots[2].has_value());   // a state the route does not touch stays
  EXPECT_EQ(std::get<std::string>(*slots[2]), "untouched");
  const auto bob = Apply({Message("ana", "Ana"), Message("bob", "Bob"), Message("ana", std::nullopt)}, "bob");
  EXPECT_EQ(std::get<std::string>(*bob[0]), "Bob");
}

TEST_F(Tombstones, RecordsAfterATombstoneStartOver) {
  Build("");
  const auto slots = Apply({Message("ana", "A1"), Message("ana", "A2"), Message("ana", std::nullopt),
                            Message("ana", "A3")},
                           "ana");
  EXPECT_EQ(std::get<std::string>(*slots[0]), "A3");
  EXPECT_EQ(std::get<int64_t>(*slots[1]), 1);
}

TEST_F(Tombstones, DeleteWhenTakesAnyConditionAndAnEmptyListTurnsItOff) {
  Build("delete_when: \"{value.name} == 'gone'\",");
  auto slots = Apply({Message("ana", "Ana"), Message("ana", "gone")}, "ana");
  EXPECT_FALSE(slots[0].has_value());

  Build("delete_when: [],");
  RuleRouter router(routes_);
  Capture capture;
  // Without deletes a tombstone is an ordinary record: its NULL operand leaves name as it was.
  EXPECT_TRUE(router.Route(Message("ana", "Ana"), capture).ok());
  EXPECT_TRUE(router.Route(Message("ana", std::nullopt), capture).ok());
  slots = Apply({Message("ana", "Ana"), Message("ana", std::nullopt)}, "ana");
  EXPECT_EQ(std::get<std::string>(*slots[0]), "Ana");
  EXPECT_EQ(std::get<int64_t>(*slots[1]), 2);
}

TEST_F(Tombstones, ATombstoneWithoutAKeyCannotBeAddressed) {
  Build("");
  RuleRouter router(routes_);
  Capture capture;
  const Status s = router.Route(Message(std::nullopt, std::nullopt), capture);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the id template '{key}' gives NULL");
}

}  // namespace
}  // namespace sfb
