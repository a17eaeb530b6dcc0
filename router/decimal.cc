#include "router/decimal.h"

#include <charconv>

namespace sfb {
namespace {

using Int128 = Decimal::Int128;

// 10^38 - 1: the largest mantissa of 38 digits (fits an int128, whose limit is about 1.7e38).
Int128 MaxMantissa() {
  Int128 p = 1;
  for (int i = 0; i < Decimal::kMaxDigits; ++i) p *= 10;
  return p - 1;
}

Int128 Pow10(int n) {
  Int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

}  // namespace

bool Decimal::Parse(std::string_view s, Decimal* out) {
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) negative = s[pos++] == '-';
  Int128 m = 0;
  int digits = 0, scale = 0, seen = 0;
  bool point = false;
  for (; pos < s.size(); ++pos) {
    const char c = s[pos];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
    ++seen;
    if (point) ++scale;
    if (m == 0 && c == '0') continue;  // leading zeros are no significant digits
    if (++digits > kMaxDigits) return false;
    m = m * 10 + (c - '0');
  }
  if (seen == 0 || scale > kMaxDigits) return false;
  *out = Decimal(negative ? -m : m, scale);
  return true;
}

bool Decimal::IsIntegral() const { return mantissa_ % Pow10(scale_) == 0; }

bool Decimal::Rescale(int scale, Decimal* out) const {
  if (scale < 0 || scale > kMaxDigits) return false;
  if (scale <= scale_) {
    const Int128 divisor = Pow10(scale_ - scale);
    if (mantissa_ % divisor != 0) return false;
    *out = Decimal(mantissa_ / divisor, scale);
    return true;
  }
  const Int128 factor = Pow10(scale - scale_);
  if (Abs(mantissa_) > MaxMantissa() / factor) return false;
  *out = Decimal(mantissa_ * factor, scale);
  return true;
}

bool Decimal::ToScaledInt64(int scale, int64_t* out) const {
  Decimal d;
  if (!Rescale(scale, &d)) return false;
  if (d.mantissa_ > INT64_MAX || d.mantissa_ < INT64_MIN) return false;
  *out = static_cast<int64_t>(d.mantissa_);
  return true;
}

bool Decimal::Add(const Decimal& a, const Decimal& b, Decimal* out) {
  const int scale = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  Decimal x, y;
  if (!a.Rescale(scale, &x) || !b.Rescale(scale, &y)) return false;
  const Int128 sum = x.mantissa_ + y.mantissa_;  // each below 10^38: no int128 overflow
  if (Abs(sum) > MaxMantissa()) return false;
  *out = Decimal(sum, scale);
  return true;
}

std::string Decimal::ToString() const {
  // Digits of |mantissa|, least significant first, padded so there is one digit before the point.
  std::string digits;
  for (Int128 m = Abs(mantissa_); m != 0; m /= 10) digits.push_back(static_cast<char>('0' + static_cast<int>(m % 10)));
  while (digits.size() < static_cast<size_t>(scale_) + 1) digits.push_back('0');
  std::string out;
  out.reserve(digits.size() + 2);
  if (mantissa_ < 0) out.push_back('-');
  for (size_t i = digits.size(); i-- > 0;) {
    out.push_back(digits[i]);
    if (i == static_cast<size_t>(scale_) && scale_ > 0) out.push_back('.');
  }
  return out;
}

double Decimal::ToDouble() const {
  // Clinger's fast path: a mantissa of at most 53 bits and 10^scale (exact up to 10^22) are both exact
  // doubles, and one IEEE division of exact operands is correctly rounded. This is the common case (money
  // amounts and their sums), taken without formatting text.
  static constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  constexpr Int128 kExactMantissa = Int128{1} << 53;
  if (scale_ <= 22 && Abs(mantissa_) <= kExactMantissa) {
    return static_cast<double>(static_cast<int64_t>(mantissa_)) / kExactPowersOfTen[scale_];
  }
  // from_chars rounds the exact decimal text correctly (to nearest, ties to even).
  const std::string text = ToString();
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  return d;
}

}  // namespace sfb
