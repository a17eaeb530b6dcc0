#include "savepoint/entry_json.h"

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

}  // namespace sfb
