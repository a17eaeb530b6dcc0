#include "common/text_preview.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "common/java_string.h"

namespace sfb {
namespace {

void AppendEscape(std::string* out, const char* format, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), format, value);
  out->append(buf);
}

}  // namespace

std::string PreviewText(std::string_view bytes, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes) + 3);
  size_t i = 0;
  while (i < bytes.size()) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(bytes, i, &cp);
    const size_t width = n == 0 ? 1 : n;
    if (i + width > max_bytes) break;
    if (n == 0) {
      AppendEscape(&out, "\\x%02x", static_cast<uint8_t>(bytes[i]));
    } else if (cp == '\n') {
      out.append("\\n");
    } else if (cp == '\r') {
      out.append("\\r");
    } else if (cp == '\t') {
      out.append("\\t");
    } else if (cp < 0x20 || cp == 0x7f) {
      AppendEscape(&out, "\\x%02x", cp);
    } else if (cp >= 0x80 && cp < 0xa0) {
      AppendEscape(&out, "\\u%04x", cp);
    } else {
      out.append(bytes.substr(i, n));
    }
    i += width;
  }
  if (i < bytes.size()) out.append("...");
  return out;
}

std::string_view FirstCharacter(std::string_view bytes) {
  if (bytes.empty()) return bytes;
  uint32_t cp = 0;
  const size_t n = DecodeUtf8(bytes, 0, &cp);
  return bytes.substr(0, n == 0 ? 1 : n);
}

}  // namespace sfb
