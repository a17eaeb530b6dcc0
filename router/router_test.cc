// Templates, value conversion and the set/merge semantics of RuleFunction.

#include <gtest/gtest.h>

#include <cmath>

#include "router/rule_function.h"
#include "router/template.h"
#include "router/value_conversion.h"

namespace sfb {
namespace {

Record Row() {
  return MakeRecord({{"id", Value::Int(42)}, {"name", Value::Text("Zoë")}, {"none", Value::Null()},
                     {"a.b", Value::Double(1.5)}});
}

TEST(Template, SingleFieldKeepsTypeAndTextInterpolates) {
  auto t = Template::Parse("{id}");
  ASSERT_TRUE(t.ok());
  auto v = t->Evaluate(Row());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind(), Value::Kind::kInt);
  EXPECT_EQ(v->as_int(), 42);
  auto null = Template::Parse("{none}")->Evaluate(Row());
  EXPECT_TRUE(null->is_null());
  auto text = Template::Parse("user-{id}/{name} {{x}} {a.b}")->Evaluate(Row());
  EXPECT_EQ(text->as_string(), "user-42/Zoë {x} 1.5");
}

TEST(Template, ErrorsNameTheProblem) {
  EXPECT_FALSE(Template::Parse("{open").ok());
  EXPECT_FALSE(Template::Parse("close}").ok());
  EXPECT_FALSE(Template::Parse("{}").ok());
  auto missing = Template::Parse("{nmae}")->Evaluate(Row());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no field 'nmae'"), std::string::npos);
  EXPECT_EQ(missing.status().hint(), "did you mean {name}?");
}

TEST(ValueConversion, StrictIntegers) {
  EXPECT_EQ(std::get<int32_t>(*ConvertToStateValue(Value::Text("-7"), ValueRepr::kInt32)), -7);
  EXPECT_EQ(std::get<int32_t>(*ConvertToStateValue(Value::Text("+7"), ValueRepr::kInt32)), 7);
  EXPECT_EQ(std::get<int64_t>(*ConvertToStateValue(Value::Double(3.0), ValueRepr::kInt64)), 3);
  for (const char* bad : {"", "4.2", "42abc", " 1", "0x10", "2147483648"}) {
    EXPECT_FALSE(ConvertToStateValue(Value::Text(bad), ValueRepr::kInt32).ok()) << bad;
  }
  EXPECT_FALSE(ConvertToStateValue(Value::Double(3.5), ValueRepr::kInt64).ok());
  EXPECT_FALSE(ConvertToStateValue(Value::Bool(true), ValueRepr::kInt64).ok());
}

TEST(ValueConversion, ErrorsQuoteTheValueAsWritten) {
  auto s = ConvertToStateValue(Value::Text("Zoë"), ValueRepr::kInt32).status();
  EXPECT_EQ(s.message(), "value 'Zoë' (text) is not a 32-bit integer (int)");
  s = ConvertToStateValue(Value::Text("line\nbreak"), ValueRepr::kInt32).status();
  EXPECT_EQ(s.message(), "value 'line\\nbreak' (text) is not a 32-bit integer (int)");
  s = ConvertToStateValue(Value::Bytes("\xff" "1"), ValueRepr::kInt64).status();
  EXPECT_EQ(s.message(), "value \\xff1 (bytes) is not a 64-bit integer (long)");
  // Long values are cut after 60 bytes, never inside a character: 59 x's, then the ë would not fit.
  s = ConvertToStateValue(Value::Text(std::string(59, 'x') + "ëë"), ValueRepr::kBool).status();
  EXPECT_EQ(s.message().substr(0, 70), "value '" + std::string(59, 'x') + "...'");
}

TEST(ValueConversion, FloatsBoolsAndText) {
  EXPECT_TRUE(std::isnan(std::get<double>(*ConvertToStateValue(Value::Text("NaN"), ValueRepr::kDouble))));
  EXPECT_EQ(std::get<float>(*ConvertToStateValue(Value::Text("3.4028235e38"), ValueRepr::kFloat)), 3.4028235e38f);
  EXPECT_FALSE(ConvertToStateValue(Value::Text("1e39"), ValueRepr::kFloat).ok());
  EXPECT_TRUE(std::get<bool>(*ConvertToStateValue(Value::Text("Yes"), ValueRepr::kBool)));
  EXPECT_FALSE(std::get<bool>(*ConvertToStateValue(Value::Int(0), ValueRepr::kBool)));
  EXPECT_FALSE(ConvertToStateValue(Value::Text("maybe"), ValueRepr::kBool).ok());
  EXPECT_EQ(std::get<std::string>(*ConvertToStateValue(Value::Int(5), ValueRepr::kBytes)), "5");
}

class FakeContext : public Context {
 public:
  const Address& self() const override { return address; }
  const std::string& source() const override { return source_name; }
  Address address{"example/f", "id"};
  std::string source_name = "s";
};

// One function with states a (long) and s (string); route 0 sets a and s, route 1 merges a with `op`.
struct Harness {
  explicit Harness(MergeOp op, std::optional<MergeOp> set_op = std::nullopt) {
    auto set = std::make_shared<CompiledRoute>();
    set->index = 0;
    set->payload_schema = std::make_shared<const Schema>(std::vector<std::string>{"route", "a", "s"});
    set->rules.push_back(StateRule{0, "a", ValueRepr::kInt64, Codec::kBuiltin, nullptr, set_op.value_or(MergeOp::kLast), {}});
    set->rules.push_back(StateRule{1, "s", ValueRepr::kBytes, Codec::kBuiltin, nullptr, MergeOp::kLast, {}});
    auto merge = std::make_shared<CompiledRoute>();
    merge->index = 1;
    merge->payload_schema = std::make_shared<const Schema>(std::vector<std::string>{"route", "a"});
    merge->rules.push_back(StateRule{0, "a", ValueRepr::kInt64, Codec::kBuiltin, nullptr, op, {}});
    routes = std::make_shared<std::vector<std::shared_ptr<const CompiledRoute>>>(
        std::vector<std::shared_ptr<const CompiledRoute>>{set, merge});
    std::vector<StateSpec> specs = {StateSpec{"a", types::Long().type, {}}, StateSpec{"s", types::String().type, {}}};
    fn = std::make_unique<RuleFunction>(specs, routes);
  }
  Status Set(Value a, Value s) {
    return fn->Bootstrap(ctx, Record(routes->at(0)->payload_schema, {Value::Int(0), std::move(a), std::move(s)}));
  }
  Status Merge(Value a) { return fn->Bootstrap(ctx, Record(routes->at(1)->payload_schema, {Value::Int(1), std::move(a)})); }
  std::optional<int64_t> A() const {
    const auto& v = fn->slots()[0].value;
    return v ? std::optional<int64_t>(std::get<int64_t>(*v)) : std::nullopt;
  }

  std::shared_ptr<std::vector<std::shared_ptr<const CompiledRoute>>> routes;
  std::unique_ptr<RuleFunction> fn;
  FakeContext ctx;
};

TEST(RuleFunction, SetThenCountAddsToTheBase) {
  Harness h(MergeOp::kCount);
  ASSERT_TRUE(h.Set(Value::Int(10), Value::Bytes("x")).ok());
  ASSERT_TRUE(h.Merge(Value::Null()).ok());
  ASSERT_TRUE(h.Merge(Value::Null()).ok());
  EXPECT_EQ(h.A(), 12);
}

TEST(RuleFunction, SumMinMaxSkipNulls) {
  for (auto [op, expect] : {std::pair{MergeOp::kSum, int64_t{9}}, {MergeOp::kMin, int64_t{2}}, {MergeOp::kMax, int64_t{7}}}) {
    Harness h(op);
    ASSERT_TRUE(h.Merge(Value::Int(7)).ok());
    ASSERT_TRUE(h.Merge(Value::Null()).ok());
    ASSERT_TRUE(h.Merge(Value::Int(2)).ok());
    EXPECT_EQ(h.A(), expect) << MergeOpName(op);
  }
}

TEST(RuleFunction, FirstAndLast) {
  Harness first(MergeOp::kFirst);
  ASSERT_TRUE(first.Merge(Value::Null()).ok());
  EXPECT_FALSE(first.A().has_value());
  ASSERT_TRUE(first.Merge(Value::Int(5)).ok());
  ASSERT_TRUE(first.Merge(Value::Int(6)).ok());
  EXPECT_EQ(first.A(), 5);
  Harness last(MergeOp::kLast);
  ASSERT_TRUE(last.Merge(Value::Int(5)).ok());
  ASSERT_TRUE(last.Merge(Value::Int(6)).ok());
  ASSERT_TRUE(last.Merge(Value::Null()).ok());  // a NULL leaves the state as it is
  EXPECT_EQ(last.A(), 6);
}

TEST(RuleFunction, SetCombinedWithMergeUsesTheSetValueAsOperand) {
  Harness h(MergeOp::kLast, MergeOp::kSum);  // route 0: set a + merge a: sum
  ASSERT_TRUE(h.Set(Value::Int(3), Value::Null()).ok());
  ASSERT_TRUE(h.Set(Value::Int(4), Value::Null()).ok());
  EXPECT_EQ(h.A(), 7);
  EXPECT_FALSE(h.fn->slots()[1].value.has_value());
}

TEST(RuleFunction, SumOverflowIsAnError) {
  Harness h(MergeOp::kSum);
  ASSERT_TRUE(h.Merge(Value::Int(INT64_MAX)).ok());
  Status s = h.Merge(Value::Int(1));
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("overflows"), std::string::npos);
}

}  // namespace
}  // namespace sfb
