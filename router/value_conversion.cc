#include "router/value_conversion.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/str_cat.h"
#include "common/text_preview.h"
#include "router/decimal.h"

namespace sfb {
namespace {

// How much of a value a conversion error quotes.
constexpr size_t kQuoteBytes = 60;

std::string Quote(const Value& v) {
  const std::string t = PreviewText(v.ToText(), kQuoteBytes);
  return v.kind() == Value::Kind::kText ? "'" + t + "'" : t;
}

Status Mismatch(const Value& v, const char* expected) {
  return Status::BadRecord("value " + Quote(v) + " (" + Value::KindName(v.kind()) + ") is not " + expected);
}

Status FractionRefused(const Value& v, const char* expected, int scale) {
  if (scale == 0) {
    return Status::BadRecord(StrCat("value ", Quote(v), " has a fractional part, which ", expected, " cannot hold"))
        .WithHint("declare the state's scale to store it scaled (scale: 2 stores 12.34 as 1234), use a double "
                  "state, or round it in the source (round(x)::bigint in a query)");
  }
  const std::string n = std::to_string(scale);
  return Status::BadRecord(StrCat("value ", Quote(v), " has more than ", n, " fractional digits, which the state's scale: ",
                                  n, " cannot hold without rounding"))
      .WithHint(StrCat("raise the state's scale, or round the value in the source (round(x, ", n, ") in a query)"));
}

Status OutOfRange(const Value& v, const char* expected, int scale) {
  std::string what = StrCat("value ", Quote(v), " is out of range for ", expected);
  if (scale > 0) what.append(" at scale ").append(std::to_string(scale));
  return Status::BadRecord(what);
}

// An integer state's value: an integer, an integral double, or text that is an integer or an exact
// decimal ("3.00"); with `scale` > 0 the value times 10^scale, which must be integral (no rounding).
Result<int64_t> ToInteger(const Value& v, int64_t lo, int64_t hi, const char* expected, int scale) {
  int64_t out;
  switch (v.kind()) {
    case Value::Kind::kInt:
      out = v.as_int();
      if (scale > 0) {
        Decimal d;
        if (!Decimal::FromInt(out).Rescale(scale, &d) || !d.ToScaledInt64(scale, &out)) {
          return OutOfRange(v, expected, scale);
        }
      }
      break;
    case Value::Kind::kDouble: {
      const double d = v.as_double();
      if (!std::isfinite(d)) return Mismatch(v, expected);
      if (scale == 0) {
        if (d != std::trunc(d)) return FractionRefused(v, expected, scale);
        if (d < -9.2e18 || d > 9.2e18) return OutOfRange(v, expected, scale);
        out = static_cast<int64_t>(d);
        break;
      }
      // A double is taken at its shortest decimal form, the text that reads back as the same double.
      char buf[400];
      const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      Decimal dec;
      if (r.ec != std::errc() || !Decimal::Parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), &dec)) {
        return OutOfRange(v, expected, scale);
      }
      if (!dec.ToScaledInt64(scale, &out)) {
        Decimal rescaled;
        return dec.Rescale(scale, &rescaled) ? OutOfRange(v, expected, scale) : FractionRefused(v, expected, scale);
      }
      break;
    }
    case Value::Kind::kText: {
      const std::string& s = v.as_string();
      const char* b = s.data();
      const char* e = s.data() + s.size();
      if (b != e && *b == '+') ++b;
      auto r = std::from_chars(b, e, out);
      if (!s.empty() && r.ec == std::errc() && r.ptr == e) {
        if (scale > 0) {
          Decimal d;
          if (!Decimal::FromInt(out).Rescale(scale, &d) || !d.ToScaledInt64(scale, &out)) {
            return OutOfRange(v, expected, scale);
          }
        }
        break;
      }
      // Not a plain integer: an exact decimal ("3.00", "12.34" at scale 2) is taken digit for digit.
      Decimal dec;
      if (!Decimal::Parse(s, &dec)) {
        if (r.ec == std::errc::result_out_of_range) return OutOfRange(v, expected, scale);
        return Mismatch(v, expected);
      }
      if (!dec.ToScaledInt64(scale, &out)) {
        Decimal rescaled;
        return dec.Rescale(scale, &rescaled) ? OutOfRange(v, expected, scale) : FractionRefused(v, expected, scale);
      }
      break;
    }
    default: return Mismatch(v, expected);
  }
  if (out < lo || out > hi) return OutOfRange(v, expected, scale);
  return out;
}

Result<double> ToDouble(const Value& v, const char* expected) {
  switch (v.kind()) {
    case Value::Kind::kInt: return static_cast<double>(v.as_int());
    case Value::Kind::kDouble: return v.as_double();
    case Value::Kind::kText: {
      const std::string& s = v.as_string();
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity" || s == "+Infinity") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
      double d;
      const char* b = s.data();
      const char* e = s.data() + s.size();
      if (b != e && *b == '+') ++b;
      auto r = std::from_chars(b, e, d);
      if (s.empty() || r.ec != std::errc() || r.ptr != e) return Mismatch(v, expected);
      return d;
    }
    default: return Mismatch(v, expected);
  }
}

}  // namespace

Result<StateValue> ConvertToStateValue(const Value& v, ValueRepr repr, int scale) {
  switch (repr) {
    case ValueRepr::kInt32: {
      SFB_ASSIGN_OR_RETURN(int64_t i, ToInteger(v, INT32_MIN, INT32_MAX, "a 32-bit integer (int)", scale));
      return StateValue(static_cast<int32_t>(i));
    }
    case ValueRepr::kInt64: {
      SFB_ASSIGN_OR_RETURN(int64_t i, ToInteger(v, INT64_MIN, INT64_MAX, "a 64-bit integer (long)", scale));
      return StateValue(i);
    }
    case ValueRepr::kFloat: {
      SFB_ASSIGN_OR_RETURN(double d, ToDouble(v, "a number (float)"));
      if (std::isfinite(d) && std::isinf(static_cast<float>(d))) {
        return Status::BadRecord("value " + Quote(v) + " is out of range for a float");
      }
      return StateValue(static_cast<float>(d));
    }
    case ValueRepr::kDouble: {
      SFB_ASSIGN_OR_RETURN(double d, ToDouble(v, "a number (double)"));
      return StateValue(d);
    }
    case ValueRepr::kBool: {
      if (v.kind() == Value::Kind::kBool) return StateValue(v.as_bool());
      if (v.kind() == Value::Kind::kInt && (v.as_int() == 0 || v.as_int() == 1)) return StateValue(v.as_int() == 1);
      if (v.kind() == Value::Kind::kText) {
        std::string s = v.as_string();
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (s == "true" || s == "t" || s == "yes" || s == "1") return StateValue(true);
        if (s == "false" || s == "f" || s == "no" || s == "0") return StateValue(false);
      }
      return Mismatch(v, "a bool (true/false)");
    }
    case ValueRepr::kBytes:
      if (v.kind() == Value::Kind::kNull) return Mismatch(v, "text");
      return StateValue(v.kind() == Value::Kind::kBytes || v.kind() == Value::Kind::kText ? v.as_string() : v.ToText());
  }
  return Status::Internal("unknown value representation");
}

Value StateValueToValue(const StateValue& v) {
  switch (ReprOf(v)) {
    case ValueRepr::kInt32: return Value::Int(std::get<int32_t>(v));
    case ValueRepr::kInt64: return Value::Int(std::get<int64_t>(v));
    case ValueRepr::kFloat: return Value::Double(std::get<float>(v));
    case ValueRepr::kDouble: return Value::Double(std::get<double>(v));
    case ValueRepr::kBool: return Value::Bool(std::get<bool>(v));
    case ValueRepr::kBytes: return Value::Bytes(std::get<std::string>(v));
  }
  return Value::Null();
}

StateValue ValueToStateValue(const Value& v, ValueRepr repr) {
  switch (repr) {
    case ValueRepr::kInt32: return static_cast<int32_t>(v.as_int());
    case ValueRepr::kInt64: return v.as_int();
    case ValueRepr::kFloat: return static_cast<float>(v.as_double());
    case ValueRepr::kDouble: return v.as_double();
    case ValueRepr::kBool: return v.as_bool();
    case ValueRepr::kBytes: return v.as_string();
  }
  return StateValue();
}

}  // namespace sfb
