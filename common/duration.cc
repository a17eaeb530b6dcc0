#include "common/duration.h"

#include <cctype>
#include <string>

#include "common/str_cat.h"

namespace sfb {

Result<int64_t> ParseDurationMillis(std::string_view text) {
  const auto bad = [&] {
    return Status::InvalidSpec(StrCat("'", text, "' is not a duration"))
        .WithHint("write a positive duration such as 500ms, 90s, 15m, 12h, 7d or 1h30m");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i++] - '0');
      if (n > (int64_t{1} << 50)) return bad();
    }
    size_t u = i;
    while (u < text.size() && std::isalpha(static_cast<unsigned char>(text[u]))) ++u;
    const std::string_view unit = text.substr(i, u - i);
    int64_t scale;
    if (unit.empty() || unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else return bad();
    if (unit.empty() && any) return bad();  // "1h30" is ambiguous
    total += n * scale;
    any = true;
    i = u;
  }
  if (total <= 0) return bad();
  return total;
}

}  // namespace sfb
