// Changelog semantics through the router: a record for which a route's delete_when holds (a Kafka
// tombstone by default) deletes the states that route sets, and later records set them again; what a
// tombstone is asked of a route's where and id (router/rules.h, "Tombstones").

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
    warnings_ = job->warnings;
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
  std::vector<SpecWarning> warnings_;
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

// A record as the decoder gives it (record_decoder.h): a tombstone has `value` NULL and no `value.<f>`.
Record Changelog(const std::string& key, std::optional<std::pair<std::string, std::string>> name_kind) {
  if (!name_kind) return MakeRecord({{"key", Value::Text(key)}, {"value", Value::Null()}});
  return MakeRecord({{"key", Value::Text(key)},
                     {"value", Value::Text("{...}")},
                     {"value.name", Value::Text(name_kind->first)},
                     {"value.kind", Value::Text(name_kind->second)}});
}

TEST_F(Tombstones, AFilteredChangelogStillDeletesWhereOnlyValueFieldsAreSkippedForTombstones) {
  Build("where: [\"{value.kind} != test\", \"{key} != kept\"],");
  const std::vector<Record> log = {
      Changelog("ana", std::pair{"Ana", "real"}), Changelog("ana", std::nullopt),          // deleted
      Changelog("tst", std::pair{"Tess", "test"}), Changelog("tst", std::nullopt),         // filtered out, then a tombstone
      Changelog("bob", std::pair{"Bob", "real"}), Changelog("bob", std::nullopt),
      Changelog("bob", std::pair{"Bob 2", "real"}),                                       // back after its tombstone
      Changelog("cid", std::pair{"Cid", "real"}), Changelog("cid", std::pair{"Cid", "test"}),  // a filtered update
      Changelog("kept", std::nullopt),                                                    // filtered on the key
  };
  RuleRouter router(routes_);
  Capture capture;
  for (const auto& r : log) {
    const Status s = router.Route(r, capture);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<std::string> to;
  for (const auto& [id, payload] : capture.forwarded) to.push_back(id);
  // The test-kind record is not forwarded, its tombstone is (a deletion of nothing); the key filter
  // holds for tombstones too.
  EXPECT_EQ(to, (std::vector<std::string>{"ana", "ana", "tst", "bob", "bob", "bob", "cid"}));

  EXPECT_FALSE(Apply(log, "ana")[0].has_value());
  EXPECT_FALSE(Apply(log, "tst")[0].has_value());
  EXPECT_EQ(std::get<std::string>(*Apply(log, "bob")[0]), "Bob 2");
  EXPECT_EQ(std::get<int64_t>(*Apply(log, "bob")[1]), 1);
  EXPECT_EQ(std::get<std::string>(*Apply(log, "cid")[0]), "Cid");
}

TEST_F(Tombstones, ATombstoneThatDoesNotDeleteIsAnOrdinaryRecord) {
  // Without delete_when every where condition applies to a tombstone, which lacks value.kind.
  Build("delete_when: [], where: \"{value.kind} != test\",");
  RuleRouter router(routes_);
  Capture capture;
  const Status s = router.Route(Changelog("ana", std::nullopt), capture);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the record has no field 'value.kind' (used in template '{value.kind}')");
  // A value condition that comes after one the tombstone fails is not reached.
  Build("delete_when: [], where: [\"{value} != null\", \"{value.kind} != test\"],");
  RuleRouter skipping(routes_);
  EXPECT_TRUE(skipping.Route(Changelog("ana", std::nullopt), capture).ok());
}

TEST_F(Tombstones, AnIdFromTheValueIsAWarningAndATombstoneForItABadRecord) {
  Build("id: \"{value.name}\",");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0].message,
            "route #1 (users -> example/user): the id '{value.name}' is taken from the value, but a tombstone has no "
            "value (only a key): a tombstone in the topic would fail the run");
  EXPECT_EQ(warnings_[0].location, "job.yaml:12:41");  // the id
  RuleRouter router(routes_);
  Capture capture;
  EXPECT_TRUE(router.Route(Changelog("ana", std::pair{"Ana", "real"}), capture).ok());
  const Status s = router.Route(Changelog("ana", std::nullopt), capture);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "route #1 (users -> example/user): a tombstone has no value, so the id template "
                          "'{value.name}' cannot say which address it deletes");
  EXPECT_EQ(s.hint(), "address the records by their key (id: \"{key}\", or \"{key.<field>}\" for a json key), or "
                      "drop tombstones before routing: tombstones: skip");
  // Ids from the key's fields, and routes that do not delete, are fine.
  Build("id: \"{key}-x\",");
  EXPECT_TRUE(warnings_.empty());
  Build("id: \"{value.name}\", delete_when: [],");
  EXPECT_TRUE(warnings_.empty());
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
