// Operands as the router computes them: JSON objects embedding JSON-text fields, scaled integers,
// exact-sum operands (rule_router.h, rules.h).

#include "router/rule_router.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

StateRule ObjectRule(const nlohmann::ordered_json& shape, std::vector<bool> embeds) {
  StateRule rule;
  rule.state_name = "obj";
  rule.codec = Codec::kJson;
  rule.operand.kind = Operand::Kind::kObject;
  rule.operand.shape = shape;
  for (const char* leaf : {"{num}", "{doc}", "{name}", "n={num}"}) rule.operand.leaf_templates.push_back(*Template::Parse(leaf));
  rule.operand.leaf_embeds_json = std::move(embeds);
  return rule;
}

const nlohmann::ordered_json kShape = {{"n", "{num}"}, {"doc", "{doc}"}, {"list", {"{name}", 7, nullptr}}, {"s", "n={num}"}};

Record Row(const char* num) {
  return MakeRecord({{"num", num ? Value::Text(num) : Value::Null()},
                     {"doc", Value::Text("{\"a\": [1, 2.50],\n \"b c\": \"x y\\\"z\"}")},
                     {"name", Value::Text("zoë")}});
}

TEST(RuleRouter, JsonTextFieldsEmbedAsJsonWithTheirDigits) {
  auto v = EvaluateOperand(ObjectRule(kShape, {true, true, false, false}), Row("12345678901234567890.0123456789"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->as_string(),
            "{\"n\":12345678901234567890.0123456789,\"doc\":{\"a\":[1,2.50],\"b c\":\"x y\\\"z\"},"
            "\"list\":[\"zoë\",7,null],\"s\":\"n=12345678901234567890.0123456789\"}");
  v = EvaluateOperand(ObjectRule(kShape, {true, true, false, false}), Row(nullptr));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->as_string().substr(0, 9), "{\"n\":null");
}

TEST(RuleRouter, WithoutEmbeddingJsonTextStaysAString) {
  // Also what nlohmann's dump() of the filled shape gives, byte for byte.
  auto v = EvaluateOperand(ObjectRule(kShape, {}), Row("1.50"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  nlohmann::ordered_json expected = {{"n", "1.50"}, {"doc", Row("1.50").value(1).as_string()},
                                     {"list", {"zoë", 7, nullptr}}, {"s", "n=1.50"}};
  EXPECT_EQ(v->as_string(), expected.dump());
}

TEST(RuleRouter, ANumericNanCannotBeEmbedded) {
  auto v = EvaluateOperand(ObjectRule(kShape, {true, true, false, false}), Row("NaN"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kBadRecord);
  EXPECT_NE(v.status().message().find("the value of '{num}' is NaN, which JSON cannot hold"), std::string::npos);
  EXPECT_NE(v.status().hint().find("in_json_objects: text"), std::string::npos);
}

StateRule TemplateRule(ValueRepr repr, MergeOp op, int scale) {
  StateRule rule;
  rule.state_name = "v";
  rule.repr = repr;
  rule.op = op;
  rule.scale = scale;
  rule.operand.kind = Operand::Kind::kTemplate;
  rule.operand.tmpl = *Template::Parse("{amount}");
  return rule;
}

TEST(RuleRouter, ScaledOperandsAndTheirErrorsNameTheField) {
  const Record row = MakeRecord({{"amount", Value::Text("12.34")}});
  auto v = EvaluateOperand(TemplateRule(ValueRepr::kInt64, MergeOp::kSum, 2), row);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, Value::Int(1234));
  v = EvaluateOperand(TemplateRule(ValueRepr::kInt64, MergeOp::kSum, 1), row);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().ToString(),
            "value '12.34' has more than 1 fractional digits, which the state's scale: 1 cannot hold without "
            "rounding (from {amount})");
}

TEST(RuleRouter, ExactSumOperandsStayDecimalText) {
  const Record row = MakeRecord({{"amount", Value::Text("0.10")}});
  auto v = EvaluateOperand(TemplateRule(ValueRepr::kDouble, MergeOp::kSum, 0), row);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Value::Text("0.10"));  // summed exactly by RuleFunction
  v = EvaluateOperand(TemplateRule(ValueRepr::kDouble, MergeOp::kMax, 0), row);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Value::Double(0.1));  // other merges take doubles
  v = EvaluateOperand(TemplateRule(ValueRepr::kDouble, MergeOp::kSum, 0), MakeRecord({{"amount", Value::Text("NaN")}}));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->kind() == Value::Kind::kDouble);  // no exact decimal: a double
}

}  // namespace
}  // namespace sfb
