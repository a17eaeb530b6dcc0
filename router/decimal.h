// Decimal: an exact decimal number of up to 38 significant digits, for numeric values that must not
// pass through a double (PostgreSQL `numeric`, money amounts in text).
//
// The value is mantissa * 10^-scale with |mantissa| < 10^38 and 0 <= scale <= 38. It is parsed from
// plain decimal text ("12.50", "-3", "+0.001", ".5"; no exponent, no NaN or Infinity: those are not
// exact decimals and the caller treats them as doubles), rescaled exactly or not at all, and added
// exactly. Every operation that could lose a digit fails instead (returns false or an error), so a
// caller never rounds silently. ToDouble() is the one rounding step: the exact value to the nearest
// double (ties to even), the double that reading its exact text would give.

#ifndef SFB_ROUTER_DECIMAL_H_
#define SFB_ROUTER_DECIMAL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace sfb {

// GCC's and Clang's 128-bit integer (__extension__: not ISO C++, so -Wpedantic would say so).
__extension__ typedef __int128 DecimalInt128;

class Decimal {
 public:
  using Int128 = DecimalInt128;
  static constexpr int kMaxDigits = 38;

  Decimal() = default;
  static Decimal FromInt(int64_t v) { return Decimal(v, 0); }

  // Parses plain decimal text; false for anything else (exponents, NaN, "", "1.2.3", more than 38 digits
  // once leading zeros are dropped). Trailing fractional zeros count towards the scale ("3.00": scale 2).
  static bool Parse(std::string_view text, Decimal* out);

  int scale() const { return scale_; }
  Int128 mantissa() const { return mantissa_; }
  bool IsIntegral() const;

  // The same value with exactly `scale` fractional digits: false when that would drop a non-zero
  // digit (12.345 at scale 2) or exceed 38 digits. Dropping zeros is exact (3.00 at scale 0 is 3).
  bool Rescale(int scale, Decimal* out) const;
  // The value times 10^scale as a 64-bit integer (12.34 at scale 2: 1234); false when a non-zero digit
  // would be dropped or the result does not fit.
  bool ToScaledInt64(int scale, int64_t* out) const;
  // a + b exactly at the larger of their scales; false when the sum needs more than 38 digits.
  static bool Add(const Decimal& a, const Decimal& b, Decimal* out);

  double ToDouble() const;
  // Plain decimal text with exactly scale() fractional digits ("-0.50", "1234").
  std::string ToString() const;

 private:
  Decimal(Int128 mantissa, int scale) : mantissa_(mantissa), scale_(scale) {}
  Int128 mantissa_ = 0;
  int scale_ = 0;
};

}  // namespace sfb

#endif  // SFB_ROUTER_DECIMAL_H_
