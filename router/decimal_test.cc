#include "router/decimal.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace sfb {
namespace {

Decimal D(const char* text) {
  Decimal d;
  EXPECT_TRUE(Decimal::Parse(text, &d)) << text;
  return d;
}

TEST(Decimal, ParsesPlainDecimalTextOnly) {
  EXPECT_EQ(D("12.50").ToString(), "12.50");
  EXPECT_EQ(D("12.50").scale(), 2);
  EXPECT_EQ(D("-0.001").ToString(), "-0.001");
  EXPECT_EQ(D("+7").ToString(), "7");
  EXPECT_EQ(D(".5").ToString(), "0.5");
  EXPECT_EQ(D("0007.10").ToString(), "7.10");
  // 38 significant digits fit; leading zeros are not counted.
  EXPECT_EQ(D("00012345678901234567890123456789012345678").ToString(), "12345678901234567890123456789012345678");
  Decimal d;
  for (const char* bad : {"", "-", ".", "1e5", "NaN", "Infinity", "1.2.3", " 1", "1 ", "0x10", "123456789012345678901234567890123456789"}) {
    EXPECT_FALSE(Decimal::Parse(bad, &d)) << bad;
  }
}

TEST(Decimal, RescalesExactlyOrNotAtAll) {
  int64_t v = 0;
  EXPECT_TRUE(D("12.34").ToScaledInt64(2, &v));
  EXPECT_EQ(v, 1234);
  EXPECT_TRUE(D("12.3").ToScaledInt64(2, &v));
  EXPECT_EQ(v, 1230);
  EXPECT_TRUE(D("3.000").ToScaledInt64(0, &v));
  EXPECT_EQ(v, 3);
  EXPECT_TRUE(D("-0.01").ToScaledInt64(2, &v));
  EXPECT_EQ(v, -1);
  EXPECT_FALSE(D("12.345").ToScaledInt64(2, &v));  // a digit would be dropped
  EXPECT_FALSE(D("3.5").ToScaledInt64(0, &v));
  EXPECT_TRUE(D("9223372036854775807").ToScaledInt64(0, &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_FALSE(D("9223372036854775808").ToScaledInt64(0, &v));  // does not fit a long
  EXPECT_FALSE(D("92233720368547758.08").ToScaledInt64(3, &v));
  EXPECT_TRUE(D("3.50").IsIntegral() == false && D("3.00").IsIntegral());
}

TEST(Decimal, AddsExactly) {
  Decimal sum = Decimal::FromInt(0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Decimal::Add(sum, D("0.1"), &sum));
  EXPECT_EQ(sum.ToString(), "1.0");
  EXPECT_EQ(sum.ToDouble(), 1.0);  // ten doubles 0.1 add up to 0.9999999999999999
  ASSERT_TRUE(Decimal::Add(D("4998.17"), D("-0.005"), &sum));
  EXPECT_EQ(sum.ToString(), "4998.165");
  ASSERT_TRUE(Decimal::Add(D("0.1"), D("0.2"), &sum));
  EXPECT_EQ(sum.ToDouble(), 0.3);
  // 38 nines plus one needs 39 digits.
  EXPECT_FALSE(Decimal::Add(D("99999999999999999999999999999999999999"), D("1"), &sum));
  // Aligning the scales may need more digits than the sum has room for.
  EXPECT_FALSE(Decimal::Add(D("1234567890123456789012345678901234567"), D("0.01"), &sum));
}

TEST(Decimal, ToDoubleRoundsToNearest) {
  EXPECT_EQ(D("4998.17").ToDouble(), 4998.17);
  EXPECT_EQ(D("-1.5").ToDouble(), -1.5);
  EXPECT_EQ(D("12345678901234567890.123456789").ToDouble(), 12345678901234567890.123456789);
  EXPECT_EQ(D("0").ToDouble(), 0.0);
}

TEST(Decimal, FastAndTextConversionsAgree) {
  // ToDouble divides when mantissa and power of ten are exact doubles, else reads its own text: both
  // must give the double that reading the text gives.
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int scale = static_cast<int>(x % 24);
    const int64_t mantissa = static_cast<int64_t>(x >> (8 + x % 40)) * ((x & 1) ? -1 : 1);
    const std::string digits = std::to_string(mantissa < 0 ? -mantissa : mantissa);
    std::string text = digits.size() > static_cast<size_t>(scale)
                           ? digits.substr(0, digits.size() - static_cast<size_t>(scale)) + "." +
                                 digits.substr(digits.size() - static_cast<size_t>(scale))
                           : std::string("0.").append(static_cast<size_t>(scale) - digits.size(), '0').append(digits);
    if (mantissa < 0) text.insert(text.begin(), '-');
    const Decimal d = D(text.c_str());
    ASSERT_EQ(d.ToDouble(), std::strtod(text.c_str(), nullptr)) << text;
  }
}

}  // namespace
}  // namespace sfb
