#include "connectors/postgres/copy_text.h"

#include <cstring>

namespace sfb {

bool SplitCopyLine(std::string_view line, size_t expected, std::vector<CopyField>* fields) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  fields->clear();
  size_t start = 0;
  for (;;) {
    const void* tab = std::memchr(line.data() + start, '\t', line.size() - start);
    const size_t end = tab ? static_cast<size_t>(static_cast<const char*>(tab) - line.data()) : line.size();
    const std::string_view raw = line.substr(start, end - start);
    fields->push_back(CopyField{raw, raw == "\\N"});
    if (fields->size() > expected) return false;
    if (!tab) break;
    start = end + 1;
  }
  return fields->size() == expected;
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view UnescapeCopyField(std::string_view raw, std::string* scratch) {
  const void* first = std::memchr(raw.data(), '\\', raw.size());
  if (!first) return raw;
  scratch->clear();
  size_t i = static_cast<size_t>(static_cast<const char*>(first) - raw.data());
  scratch->append(raw.data(), i);
  while (i < raw.size()) {
    const char c = raw[i++];
    if (c != '\\' || i >= raw.size()) {
      scratch->push_back(c);
      continue;
    }
    const char e = raw[i++];
    switch (e) {
      case 'b': scratch->push_back('\b'); break;
      case 'f': scratch->push_back('\f'); break;
      case 'n': scratch->push_back('\n'); break;
      case 'r': scratch->push_back('\r'); break;
      case 't': scratch->push_back('\t'); break;
      case 'v': scratch->push_back('\v'); break;
      case 'x': {
        // \xH or \xHH
        int v = 0, digits = 0;
        while (digits < 2 && i < raw.size() && HexDigit(raw[i]) >= 0) v = v * 16 + HexDigit(raw[i++]), ++digits;
        if (digits == 0) scratch->push_back('x');
        else scratch->push_back(static_cast<char>(v));
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          // \N, \NN or \NNN octal
          int v = e - '0', digits = 1;
          while (digits < 3 && i < raw.size() && raw[i] >= '0' && raw[i] <= '7') v = v * 8 + (raw[i++] - '0'), ++digits;
          scratch->push_back(static_cast<char>(v));
        } else {
          scratch->push_back(e);  // \\ and any other escaped character stand for themselves
        }
    }
  }
  return *scratch;
}

}  // namespace sfb
