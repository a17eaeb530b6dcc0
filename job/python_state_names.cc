#include "job/python_state_names.h"

#include <algorithm>
#include <iterator>

#include "common/str_cat.h"

namespace sfb {
namespace {

// Python 3's keyword.kwlist (3.7 to 3.13). Soft keywords (match, case, type, _) are not in it: the SDK
// accepts them.
constexpr std::string_view kPythonKeywords[] = {
    "False",  "None",     "True",    "and",    "as",     "assert", "async",  "await",    "break",
    "class",  "continue", "def",     "del",    "elif",   "else",   "except", "finally",  "for",
    "from",   "global",   "if",      "import", "in",     "is",     "lambda", "nonlocal", "not",
    "or",     "pass",     "raise",   "return", "try",    "while",  "with",   "yield"};

bool IsKeyword(std::string_view name) {
  return std::find(std::begin(kPythonKeywords), std::end(kPythonKeywords), name) != std::end(kPythonKeywords);
}

bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

}  // namespace

std::string PythonStateNameProblem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (IsKeyword(name)) return StrCat("'", name, "' is a Python keyword");
  if (IsAsciiDigit(name[0])) return "it starts with a digit";
  bool upper = false, other = false, letter = false;
  for (char c : name) {
    if (!IsAscii(c)) {
      letter = true;  // judged by Python alone (see the header)
    } else if (IsAsciiUpper(c)) {
      upper = true;
    } else if (IsAsciiLower(c)) {
      letter = true;
    } else if (!IsAsciiDigit(c) && c != '_') {
      other = true;
    }
  }
  if (other) return "it has characters other than letters, digits and '_'";
  if (upper) return "it has upper-case letters";
  if (!letter) return "it has no letter (Python's str.islower() is false for it)";
  return "";
}

std::string PythonStateNameSuggestion(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (IsAsciiUpper(c)) {
      // camelCase and PascalCase words become snake_case words; a run of capitals stays one word.
      const bool word_start = i > 0 && (IsAsciiLower(name[i - 1]) || IsAsciiDigit(name[i - 1]) ||
                                        (i + 1 < name.size() && IsAsciiUpper(name[i - 1]) && IsAsciiLower(name[i + 1])));
      if (word_start && !out.empty() && out.back() != '_') out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (IsAscii(c) && !IsAsciiLower(c) && !IsAsciiDigit(c) && c != '_') {
      if (!out.empty() && out.back() != '_') out.push_back('_');
    } else {
      out.push_back(c);
    }
  }
  if (out.empty() || IsAsciiDigit(out[0])) out.insert(out.begin(), '_');
  if (IsKeyword(out)) out.push_back('_');
  if (!PythonStateNameProblem(out).empty()) out = "state_" + out;  // "_", "_1": no letter yet
  return out;
}

}  // namespace sfb
