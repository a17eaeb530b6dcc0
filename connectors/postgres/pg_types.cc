#include "connectors/postgres/pg_types.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/str_cat.h"
#include "common/text_preview.h"
#include "savepoint/entry_json.h"

namespace sfb {
namespace {

// Built-in type OIDs (fixed in pg_type.dat since forever).
enum : uint32_t {
  kBoolOid = 16, kByteaOid = 17, kCharOid = 18, kNameOid = 19, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
  kTextOid = 25, kOidOid = 26, kJsonOid = 114, kXmlOid = 142, kCidrOid = 650, kFloat4Oid = 700,
  kFloat8Oid = 701, kMacaddr8Oid = 774, kMacaddrOid = 829, kInetOid = 869, kBpcharOid = 1042,
  kVarcharOid = 1043, kDateOid = 1082, kTimeOid = 1083, kTimestampOid = 1114, kTimestampTzOid = 1184,
  kIntervalOid = 1186, kTimeTzOid = 1266, kNumericOid = 1700, kUuidOid = 2950, kJsonbOid = 3802,
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (astronomical years: 1 BC is year 0).
// Counts from a March-based year so the leap day is the last day of the counted year.
int64_t DaysSinceEpoch(int64_t y, int m, int d) {
  const int64_t year = m <= 2 ? y - 1 : y;
  const int month_from_march = m <= 2 ? m + 9 : m - 3;  // March 0 .. February 11
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + (d - 1);
  const int64_t days = 365 * year + FloorDiv(year, 4) - FloorDiv(year, 100) + FloorDiv(year, 400) + day_of_year;
  return days - 719468;  // 0000-03-01 to 1970-01-01
}

bool ParseDigits(std::string_view s, size_t* pos, size_t min_digits, size_t max_digits, int64_t* out) {
  size_t n = 0;
  int64_t v = 0;
  while (*pos < s.size() && n < max_digits && s[*pos] >= '0' && s[*pos] <= '9') {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
    ++n;
  }
  *out = v;
  return n >= min_digits;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool DecodeByteaHex(std::string_view text, std::string* out) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return false;
  out->clear();
  out->reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

bool IsSpecialFloat(std::string_view t) { return t == "NaN" || t == "Infinity" || t == "-Infinity"; }

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// One array element (unquoted, unescaped; not NULL) as JSON.
Status ElementJson(std::string_view e, PgKind kind, TimestampMode mode, std::string* out) {
  switch (kind) {
    case PgKind::kInt:
      out->append(e);
      return Status::OK();
    case PgKind::kFloat:
    case PgKind::kNumeric:
      if (IsSpecialFloat(e)) AppendJsonString(e, out);
      else out->append(e);
      return Status::OK();
    case PgKind::kBool:
      out->append(e == "t" ? "true" : "false");
      return Status::OK();
    case PgKind::kBytea: {
      std::string bytes;
      if (!DecodeByteaHex(e, &bytes)) return Status::Corruption("bytea array element is not in hex form");
      AppendJsonString(Base64Encode(bytes), out);
      return Status::OK();
    }
    case PgKind::kDate:
    case PgKind::kTimestamp:
    case PgKind::kTimestampTz: {
      int64_t micros;
      if (mode != TimestampMode::kIso && EpochMicros(e, &micros)) {
        out->append(std::to_string(mode == TimestampMode::kEpochMillis ? FloorDiv(micros, 1000) : micros));
      } else {
        AppendJsonString(mode == TimestampMode::kIso ? IsoTimestamp(e, kind) : std::string(e), out);
      }
      return Status::OK();
    }
    case PgKind::kJson:
      out->append(e);
      return Status::OK();
    case PgKind::kText:
    case PgKind::kArray:
      AppendJsonString(e, out);
      return Status::OK();
  }
  return Status::Internal("unknown element kind");
}

class ArrayParser {
 public:
  ArrayParser(std::string_view text, PgKind kind, TimestampMode mode, std::string* out)
      : s_(text), kind_(kind), mode_(mode), out_(out) {}

  Status Parse() {
    if (!s_.empty() && s_[0] == '[') {  // explicit bounds: [1:3]={...}
      const size_t eq = s_.find('=');
      if (eq == std::string_view::npos) return Bad();
      pos_ = eq + 1;
    }
    SFB_RETURN_IF_ERROR(Level());
    if (pos_ != s_.size()) return Bad();
    return Status::OK();
  }

 private:
  Status Bad() const { return Status::Corruption("malformed array literal: " + PreviewText(s_, 80)); }

  Status Level() {
    if (!Expect(s_, &pos_, '{')) return Bad();
    out_->push_back('[');
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      out_->push_back(']');
      return Status::OK();
    }
    for (bool first = true;; first = false) {
      if (!first) out_->push_back(',');
      if (pos_ >= s_.size()) return Bad();
      if (s_[pos_] == '{') {
        SFB_RETURN_IF_ERROR(Level());
      } else if (s_[pos_] == '"') {
        ++pos_;
        element_.clear();
        while (pos_ < s_.size() && s_[pos_] != '"') {
          if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
          element_.push_back(s_[pos_++]);
        }
        if (!Expect(s_, &pos_, '"')) return Bad();
        SFB_RETURN_IF_ERROR(ElementJson(element_, kind_, mode_, out_));
      } else {
        const size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}') ++pos_;
        const std::string_view token = s_.substr(start, pos_ - start);
        if (token.empty()) return Bad();
        if (token.size() == 4 && (token[0] | 0x20) == 'n' && (token[1] | 0x20) == 'u' && (token[2] | 0x20) == 'l' &&
            (token[3] | 0x20) == 'l') {
          out_->append("null");
        } else {
          SFB_RETURN_IF_ERROR(ElementJson(token, kind_, mode_, out_));
        }
      }
      if (pos_ >= s_.size()) return Bad();
      if (s_[pos_] == '}') {
        ++pos_;
        out_->push_back(']');
        return Status::OK();
      }
      if (!Expect(s_, &pos_, ',')) return Bad();
    }
  }

  std::string_view s_;
  PgKind kind_;
  TimestampMode mode_;
  std::string* out_;
  size_t pos_ = 0;
  std::string element_;
};

}  // namespace

const char* PgKindName(PgKind kind) {
  switch (kind) {
    case PgKind::kInt: return "int";
    case PgKind::kFloat: return "double";
    case PgKind::kNumeric: return "numeric (as text)";
    case PgKind::kBool: return "bool";
    case PgKind::kText: return "text";
    case PgKind::kBytea: return "bytes";
    case PgKind::kDate: return "date";
    case PgKind::kTimestamp: return "timestamp";
    case PgKind::kTimestampTz: return "timestamptz";
    case PgKind::kJson: return "json (as text)";
    case PgKind::kArray: return "array (as JSON text)";
  }
  return "?";
}

Result<PgKind> ScalarKind(const PgTypeInfo& info) {
  switch (info.oid) {
    case kInt2Oid: case kInt4Oid: case kInt8Oid: case kOidOid:
      return PgKind::kInt;
    case kFloat4Oid: case kFloat8Oid:
      return PgKind::kFloat;
    case kNumericOid:
      return PgKind::kNumeric;
    case kBoolOid:
      return PgKind::kBool;
    case kTextOid: case kVarcharOid: case kBpcharOid: case kNameOid: case kCharOid: case kUuidOid:
    case kTimeOid: case kTimeTzOid: case kIntervalOid: case kInetOid: case kCidrOid: case kMacaddrOid:
    case kMacaddr8Oid: case kXmlOid:
      return PgKind::kText;
    case kByteaOid:
      return PgKind::kBytea;
    case kDateOid:
      return PgKind::kDate;
    case kTimestampOid:
      return PgKind::kTimestamp;
    case kTimestampTzOid:
      return PgKind::kTimestampTz;
    case kJsonOid: case kJsonbOid:
      return PgKind::kJson;
    default:
      break;
  }
  if (info.typtype == 'e') return PgKind::kText;                        // enums: their label
  if (info.typtype == 'b' && info.category == 'S') return PgKind::kText;  // citext and other string types
  return Status::NotFound("type " + info.name + " is not one the connector reads");
}

std::string IsoTimestamp(std::string_view text, PgKind kind) {
  if (text == "infinity" || text == "-infinity") return std::string(text);
  std::string out;
  if (text.size() > 3 && text.substr(text.size() - 3) == " BC") {
    // Astronomical year numbering, as ISO 8601 and java.time count: 1 BC is 0000, 2 BC is -0001.
    text.remove_suffix(3);
    size_t pos = 0;
    int64_t year = 0;
    if (!ParseDigits(text, &pos, 1, 9, &year) || year < 1) return StrCat(text, " BC");
    const int64_t astronomical = 1 - year;
    const std::string digits = std::to_string(-astronomical);
    if (astronomical < 0) out.push_back('-');
    out.append(digits.size() < 4 ? 4 - digits.size() : 0, '0').append(digits).append(text.substr(pos));
  } else {
    out.assign(text);
  }
  if (kind == PgKind::kDate) return out;
  const size_t space = out.find(' ');
  if (space != std::string::npos) out[space] = 'T';
  if (kind != PgKind::kTimestampTz) return out;
  // The UTC offset follows the seconds: +00, +05:30, -08.
  const size_t sign = out.find_last_of("+-");
  if (sign == std::string::npos || space == std::string::npos || sign < space) return out;
  const std::string offset = out.substr(sign);
  out.resize(sign);
  if (offset == "+00" || offset == "-00" || offset == "+00:00") return out + "Z";
  return out + offset + (offset.size() == 3 ? ":00" : "");
}

bool EpochMicros(std::string_view s, int64_t* micros) {
  bool bc = false;
  if (s.size() > 3 && s.substr(s.size() - 3) == " BC") {
    bc = true;
    s.remove_suffix(3);
  }
  size_t pos = 0;
  int64_t year, month, day, hour = 0, minute = 0, second = 0, frac = 0;
  if (!ParseDigits(s, &pos, 4, 9, &year) || !Expect(s, &pos, '-') || !ParseDigits(s, &pos, 2, 2, &month) ||
      !Expect(s, &pos, '-') || !ParseDigits(s, &pos, 2, 2, &day)) {
    return false;
  }
  if (bc) year = 1 - year;
  // PostgreSQL's timestamps reach 294276 AD counted from 2000; counted from 1970 in microseconds the last
  // ~30 years of that range (and dates, which go further) do not fit in 64 bits: such values stay text.
  if (year < -4712 || year > 294276) return false;
  int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (!Expect(s, &pos, ' ') || !ParseDigits(s, &pos, 2, 2, &hour) || !Expect(s, &pos, ':') ||
        !ParseDigits(s, &pos, 2, 2, &minute) || !Expect(s, &pos, ':') || !ParseDigits(s, &pos, 2, 2, &second)) {
      return false;
    }
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      const size_t start = pos;
      if (!ParseDigits(s, &pos, 1, 6, &frac)) return false;
      for (size_t n = pos - start; n < 6; ++n) frac *= 10;
    }
    if (pos < s.size()) {
      const int sign = s[pos] == '-' ? -1 : 1;
      if (s[pos] != '+' && s[pos] != '-') return false;
      ++pos;
      int64_t oh = 0, om = 0, os = 0;
      if (!ParseDigits(s, &pos, 2, 2, &oh)) return false;
      if (Expect(s, &pos, ':') && !ParseDigits(s, &pos, 2, 2, &om)) return false;
      if (Expect(s, &pos, ':') && !ParseDigits(s, &pos, 2, 2, &os)) return false;
      offset_seconds = sign * (oh * 3600 + om * 60 + os);
    }
  }
  if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31) return false;
  const int64_t days = DaysSinceEpoch(year, static_cast<int>(month), static_cast<int>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  int64_t us;
  if (__builtin_mul_overflow(seconds, int64_t{1000000}, &us) || __builtin_add_overflow(us, frac, &us)) return false;
  *micros = us;
  return true;
}

Status ArrayToJson(std::string_view text, PgKind element, TimestampMode mode, std::string* json) {
  json->clear();
  return ArrayParser(text, element, mode, json).Parse();
}

Status DecodePgText(const PgType& type, std::string_view text, TimestampMode mode, Value* out) {
  switch (type.kind) {
    case PgKind::kInt: {
      int64_t v;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) break;
      *out = Value::Int(v);
      return Status::OK();
    }
    case PgKind::kFloat: {
      double v;
      if (text == "NaN") v = std::numeric_limits<double>::quiet_NaN();
      else if (text == "Infinity") v = std::numeric_limits<double>::infinity();
      else if (text == "-Infinity") v = -std::numeric_limits<double>::infinity();
      else {
        auto r = std::from_chars(text.data(), text.data() + text.size(), v);
        if (r.ec != std::errc() || r.ptr != text.data() + text.size()) break;
      }
      *out = Value::Double(v);
      return Status::OK();
    }
    case PgKind::kBool:
      if (text != "t" && text != "f") break;
      *out = Value::Bool(text == "t");
      return Status::OK();
    case PgKind::kBytea: {
      std::string bytes;
      if (!DecodeByteaHex(text, &bytes)) break;
      *out = Value::Bytes(std::move(bytes));
      return Status::OK();
    }
    case PgKind::kDate:
    case PgKind::kTimestamp:
    case PgKind::kTimestampTz: {
      if (mode == TimestampMode::kIso) {
        *out = Value::Text(IsoTimestamp(text, type.kind));
        return Status::OK();
      }
      int64_t micros;
      if (!EpochMicros(text, &micros)) {
        *out = Value::Text(std::string(text));  // infinity, -infinity: the router says it is no number
        return Status::OK();
      }
      *out = Value::Int(mode == TimestampMode::kEpochMillis ? FloorDiv(micros, 1000) : micros);
      return Status::OK();
    }
    case PgKind::kArray: {
      std::string json;
      SFB_RETURN_IF_ERROR(ArrayToJson(text, type.element, mode, &json));
      *out = Value::Text(std::move(json));
      return Status::OK();
    }
    case PgKind::kNumeric:
    case PgKind::kText:
    case PgKind::kJson:
      *out = Value::Text(std::string(text));
      return Status::OK();
  }
  return Status::Corruption("the server sent '" + PreviewText(text, 60) + "' for a " + type.name + " value");
}

}  // namespace sfb
