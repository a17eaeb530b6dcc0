// Numeric text into integer states: integral decimals, declared scales, and what is refused.

#include "router/value_conversion.h"

#include <gtest/gtest.h>

#include <string>

namespace sfb {
namespace {

int64_t Long(const Value& v, int scale = 0) {
  auto r = ConvertToStateValue(v, ValueRepr::kInt64, scale);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::get<int64_t>(*r) : -999;
}

TEST(ValueConversion, IntegralDecimalTextGoesIntoIntegerStates) {
  EXPECT_EQ(Long(Value::Text("3.00")), 3);
  EXPECT_EQ(Long(Value::Text("-12.0")), -12);
  auto i = ConvertToStateValue(Value::Text("2147483647.000"), ValueRepr::kInt32);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(std::get<int32_t>(*i), INT32_MAX);
  EXPECT_FALSE(ConvertToStateValue(Value::Text("2147483648.0"), ValueRepr::kInt32).ok());
}

TEST(ValueConversion, AFractionWithoutScaleIsRefusedPointingAtScale) {
  Status s = ConvertToStateValue(Value::Text("3.50"), ValueRepr::kInt64).status();
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("'3.50'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("fractional part"), std::string::npos) << s.message();
  EXPECT_NE(s.hint().find("scale: 2"), std::string::npos) << s.hint();
  s = ConvertToStateValue(Value::Double(2.5), ValueRepr::kInt64).status();
  EXPECT_NE(s.message().find("fractional part"), std::string::npos) << s.message();
}

TEST(ValueConversion, ScaleStoresTheValueTimesTenToTheScaleExactly) {
  EXPECT_EQ(Long(Value::Text("12.34"), 2), 1234);
  EXPECT_EQ(Long(Value::Text("12.3"), 2), 1230);
  EXPECT_EQ(Long(Value::Text("12"), 2), 1200);
  EXPECT_EQ(Long(Value::Text("-0.01"), 2), -1);
  EXPECT_EQ(Long(Value::Int(7), 2), 700);
  EXPECT_EQ(Long(Value::Double(0.1), 2), 10);    // the double's shortest form, "0.1"
  EXPECT_EQ(Long(Value::Double(19.99), 2), 1999);  // not 1998: no binary expansion, no truncation
  EXPECT_EQ(Long(Value::Text("92233720368547758.07"), 2), INT64_MAX);
}

TEST(ValueConversion, ScaleNeverRounds) {
  Status s = ConvertToStateValue(Value::Text("12.345"), ValueRepr::kInt64, 2).status();
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("more than 2 fractional digits"), std::string::npos) << s.message();
  EXPECT_NE(s.hint().find("round(x, 2)"), std::string::npos) << s.hint();
  s = ConvertToStateValue(Value::Double(0.125), ValueRepr::kInt64, 2).status();
  EXPECT_NE(s.message().find("more than 2 fractional digits"), std::string::npos) << s.message();
  // Trailing zeros beyond the scale drop nothing.
  EXPECT_EQ(Long(Value::Text("12.3400"), 2), 1234);
}

TEST(ValueConversion, ScaledValuesOutOfRangeSaySo) {
  Status s = ConvertToStateValue(Value::Text("92233720368547758.08"), ValueRepr::kInt64, 2).status();
  EXPECT_NE(s.message().find("out of range for a 64-bit integer (long) at scale 2"), std::string::npos) << s.message();
  s = ConvertToStateValue(Value::Int(INT64_MAX / 10), ValueRepr::kInt64, 2).status();
  EXPECT_NE(s.message().find("out of range"), std::string::npos) << s.message();
  s = ConvertToStateValue(Value::Text("21474836.48"), ValueRepr::kInt32, 2).status();
  EXPECT_NE(s.message().find("out of range for a 32-bit integer (int)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sfb
