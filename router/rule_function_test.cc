// Exact decimal sums into double states (rule_function.h).

#include "router/rule_function.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sfb {
namespace {

class FakeContext : public Context {
 public:
  const Address& self() const override { return address; }
  const std::string& source() const override { return source_name; }
  Address address{"example/f", "id"};
  std::string source_name = "s";
};

// One double state `total`: route 0 sums into it, route 1 sets it.
class ExactSumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sum = std::make_shared<CompiledRoute>();
    sum->index = 0;
    sum->payload_schema = std::make_shared<const Schema>(std::vector<std::string>{"route", "total"});
    sum->rules.push_back(StateRule{0, "total", ValueRepr::kDouble, Codec::kBuiltin, nullptr, MergeOp::kSum, {}});
    auto set = std::make_shared<CompiledRoute>();
    set->index = 1;
    set->payload_schema = sum->payload_schema;
    set->rules.push_back(StateRule{0, "total", ValueRepr::kDouble, Codec::kBuiltin, nullptr, MergeOp::kLast, {}});
    routes_ = std::make_shared<std::vector<std::shared_ptr<const CompiledRoute>>>(
        std::vector<std::shared_ptr<const CompiledRoute>>{sum, set});
    fn_ = std::make_unique<RuleFunction>(std::vector<StateSpec>{StateSpec{"total", types::Double().type, {}}}, routes_);
    fn_->ClearAllStates();
  }
  Status Sum(Value v) { return fn_->Bootstrap(ctx_, Record(routes_->at(0)->payload_schema, {Value::Int(0), std::move(v)})); }
  Status Set(Value v) { return fn_->Bootstrap(ctx_, Record(routes_->at(1)->payload_schema, {Value::Int(1), std::move(v)})); }
  double Total() const { return std::get<double>(*fn_->slots()[0].value); }

  std::shared_ptr<std::vector<std::shared_ptr<const CompiledRoute>>> routes_;
  std::unique_ptr<RuleFunction> fn_;
  FakeContext ctx_;
};

TEST_F(ExactSumTest, DecimalTextIsSummedExactlyAndRoundedOnce) {
  // As doubles, 0.1 + 0.2 + 0.3 is 0.6000000000000001.
  ASSERT_TRUE(Sum(Value::Text("0.1")).ok());
  ASSERT_TRUE(Sum(Value::Text("0.2")).ok());
  ASSERT_TRUE(Sum(Value::Text("0.3")).ok());
  EXPECT_EQ(Total(), 0.6);
  ASSERT_TRUE(Sum(Value::Null()).ok());  // NULL leaves the sum as it is
  EXPECT_EQ(Total(), 0.6);
}

TEST_F(ExactSumTest, EachAddressStartsFromZero) {
  ASSERT_TRUE(Sum(Value::Text("1000.01")).ok());
  fn_->ClearAllStates();  // the next address
  ASSERT_TRUE(Sum(Value::Text("0.1")).ok());
  ASSERT_TRUE(Sum(Value::Text("0.2")).ok());
  EXPECT_EQ(Total(), 0.3);
}

TEST_F(ExactSumTest, ASetValueIsTheNewBase) {
  ASSERT_TRUE(Sum(Value::Text("5.5")).ok());
  ASSERT_TRUE(Set(Value::Double(0.1)).ok());
  ASSERT_TRUE(Sum(Value::Text("0.2")).ok());
  EXPECT_EQ(Total(), 0.3);  // from 0.1 (its shortest form), not from 5.5
}

TEST_F(ExactSumTest, DoublesMixInAsDoubles) {
  ASSERT_TRUE(Sum(Value::Text("1.25")).ok());
  ASSERT_TRUE(Sum(Value::Double(0.5)).ok());
  ASSERT_TRUE(Sum(Value::Text("0.25")).ok());
  EXPECT_EQ(Total(), 2.0);
  ASSERT_TRUE(Sum(Value::Double(std::numeric_limits<double>::infinity())).ok());
  ASSERT_TRUE(Sum(Value::Text("1")).ok());
  EXPECT_TRUE(std::isinf(Total()));
}

TEST_F(ExactSumTest, ASumBeyond38DigitsFails) {
  ASSERT_TRUE(Sum(Value::Text("99999999999999999999999999999999999999")).ok());
  Status s = Sum(Value::Text("1"));
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("state total needs more than 38 digits"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sfb
