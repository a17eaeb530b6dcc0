#include "router/value_conversion.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/text_preview.h"

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

Result<int64_t> ToInteger(const Value& v, int64_t lo, int64_t hi, const char* expected) {
  int64_t out;
  switch (v.kind()) {
    case Value::Kind::kInt: out = v.as_int(); break;
    case Value::Kind::kDouble: {
      const double d = v.as_double();
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return Mismatch(v, expected);
      out = static_cast<int64_t>(d);
      break;
    }
    case Value::Kind::kText: {
      const std::string& s = v.as_string();
      const char* b = s.data();
      const char* e = s.data() + s.size();
      if (b != e && *b == '+') ++b;
      auto r = std::from_chars(b, e, out);
      if (s.empty() || r.ec != std::errc() || r.ptr != e) {
        if (r.ec == std::errc::result_out_of_range) {
          return Status::BadRecord("value " + Quote(v) + " is out of range for " + expected);
        }
        return Mismatch(v, expected);
      }
      break;
    }
    default: return Mismatch(v, expected);
  }
  if (out < lo || out > hi) return Status::BadRecord("value " + Quote(v) + " is out of range for " + expected);
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

Result<StateValue> ConvertToStateValue(const Value& v, ValueRepr repr) {
  switch (repr) {
    case ValueRepr::kInt32: {
      SFB_ASSIGN_OR_RETURN(int64_t i, ToInteger(v, INT32_MIN, INT32_MAX, "a 32-bit integer (int)"));
      return StateValue(static_cast<int32_t>(i));
    }
    case ValueRepr::kInt64: {
      SFB_ASSIGN_OR_RETURN(int64_t i, ToInteger(v, INT64_MIN, INT64_MAX, "a 64-bit integer (long)"));
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
