#include "common/byte_size.h"

#include <charconv>
#include <cstdio>

namespace sfb {

Result<uint64_t> ParseByteSize(std::string_view text, const std::string& what) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const size_t used = ec == std::errc() ? static_cast<size_t>(end - text.data()) : 0;
  const std::string_view unit = text.substr(used);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "KiB") scale = 1ull << 10;
  else if (unit == "MB" || unit == "MiB") scale = 1ull << 20;
  else if (unit == "GB" || unit == "GiB") scale = 1ull << 30;
  else if (unit == "TB" || unit == "TiB") scale = 1ull << 40;
  if (used == 0 || scale == 0 || v == 0 || v > UINT64_MAX / scale) {
    return Status::InvalidSpec(what + " must be a size such as 64MB, not '" + std::string(text) + "'");
  }
  return v * scale;
}

std::string FormatByteSize(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char out[32];
  if (unit == 0 || v >= 100 || v == static_cast<double>(static_cast<uint64_t>(v))) {
    std::snprintf(out, sizeof(out), "%.0f %s", v, kUnits[unit]);
  } else {
    std::snprintf(out, sizeof(out), "%.1f %s", v, kUnits[unit]);
  }
  return out;
}

}  // namespace sfb
