#include "savepoint/entry_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/java_string.h"

namespace sfb {
namespace {

template <typename F>
nlohmann::json FloatingJson(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  // Shortest digits that identify v as an F; parsed back as a double they print the same digits.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

struct ToJson {
  nlohmann::json operator()(int32_t v) const { return v; }
  nlohmann::json operator()(int64_t v) const { return v; }
  nlohmann::json operator()(float v) const { return FloatingJson(v); }
  nlohmann::json operator()(double v) const { return FloatingJson(v); }
  nlohmann::json operator()(bool v) const { return v; }
  nlohmann::json operator()(const std::string& v) const { return v; }
};

}  // namespace

std::string Base64Encode(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

void PutValueJson(const StateDescriptor& d, const StateValue& value, nlohmann::json* entry) {
  const bool bytes_like = d.type_name == "byte[]" ||
                          (d.kind == StateKind::kRemote && d.codec != Codec::kBuiltin);
  if (!bytes_like) {
    (*entry)["value"] = std::visit(ToJson{}, value);
    return;
  }
  const std::string& b = std::get<std::string>(value);
  if (d.codec == Codec::kJson) {
    auto parsed = nlohmann::json::parse(b, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) {
      (*entry)["value"] = std::move(parsed);
      return;
    }
  }
  if ((d.codec == Codec::kRaw || d.codec == Codec::kJson) && d.type_name != "byte[]" && IsValidUtf8(b)) {
    (*entry)["value"] = b;
    return;
  }
  (*entry)["value_base64"] = Base64Encode(b);
}

std::string ExactJsonText(std::string_view json) {
  std::string minified;
  bool inexact = false;
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (c == '"') {  // a string, escapes included
      const size_t start = i++;
      while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, json.size());
      minified.append(json.substr(start, i - start));
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = i;
      int significant = 0, exponent = 0;
      bool leading = true, in_exponent = false;
      for (; i < json.size() && std::string_view("+-0123456789.eE").find(json[i]) != std::string_view::npos; ++i) {
        const char d = json[i];
        if (d == 'e' || d == 'E') in_exponent = true;
        else if (in_exponent && d >= '0' && d <= '9') exponent = std::min(exponent * 10 + (d - '0'), 100000);
        else if (!in_exponent && d >= '1' && d <= '9') leading = false, ++significant;
        else if (!in_exponent && d == '0' && !leading) ++significant;
      }
      // Trailing zeros count above, so "1.50000000000000000" is (harmlessly) printed as stored too.
      inexact |= significant > 15 || exponent > 300;
      minified.append(json.substr(start, i - start));
    } else {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') minified.push_back(c);
      ++i;
    }
  }
  return inexact ? minified : "";
}

}  // namespace sfb
