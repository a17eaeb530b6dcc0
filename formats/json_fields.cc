#include "formats/json_fields.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/java_string.h"
#include "common/str_cat.h"
#include "common/text_preview.h"
#include "formats/field_selection.h"

namespace sfb {
namespace {

// Deeper documents are rejected rather than risking the stack.
constexpr int kMaxDepth = 256;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The first position at or after `pos` holding '"', '\\' or a control byte (below 0x20), or the size
// of `text`: the run of a string that needs no attention, crossed eight bytes at a time. Each of the
// three tests is the classic "some byte is zero / below n" word test, which never misses such a byte.
size_t SkipPlainString(std::string_view text, size_t pos) {
  constexpr uint64_t kOnes = 0x0101010101010101u;
  constexpr uint64_t kHigh = 0x8080808080808080u;
  const char* p = text.data();
  const size_t n = text.size();
  while (pos + 8 <= n) {
    uint64_t x;
    std::memcpy(&x, p + pos, 8);
    const uint64_t quote = x ^ (kOnes * '"');
    const uint64_t backslash = x ^ (kOnes * '\\');
    const uint64_t hits = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | ((x - kOnes * 0x20) & ~x);
    if (hits & kHigh) break;
    pos += 8;
  }
  for (; pos < n; ++pos) {
    const char c = p[pos];
    if (c == '"' || c == '\\' || static_cast<uint8_t>(c) < 0x20) break;
  }
  return pos;
}

class Parser {
 public:
  Parser(std::string_view text, std::string* path, FieldSink* sink, std::string* error, const FieldSelection* selection)
      : text_(text), path_(path), sink_(sink), error_(error), selection_(selection) {}

  bool Document(std::string_view prefix) {
    if (!IsValidUtf8(text_)) {
      *error_ = "parse error: the text is not valid UTF-8";
      return false;
    }
    path_->assign(prefix);
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("a JSON value");
    if (!(Walks() ? Member(0) : Skip(0))) return false;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("the end of the text after the value");
    return true;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  bool Fail(const char* expected) {
    *error_ = "parse error at byte " + std::to_string(pos_ + 1) + ": expected " + expected + ", found ";
    if (pos_ >= text_.size()) {
      *error_ += "the end of the text";
    } else {
      // The character as the text has it ('ë' too), or the byte when it is a control or not UTF-8.
      const std::string_view found = FirstCharacter(text_.substr(pos_));
      const std::string shown = PreviewText(found, found.size());
      *error_ += shown == found ? StrCat("'", shown, "'") : "byte " + std::to_string(static_cast<uint8_t>(found[0]));
    }
    return false;
  }

  // Whether the value at pos_, as the field path_, gives anything the selection asks for: an object
  // when a name lies beneath it (its own text is never given), anything else when it is a name.
  bool Walks() const {
    if (!selection_) return true;
    return text_[pos_] == '{' ? selection_->SelectsBeneath(*path_) : selection_->Selects(*path_);
  }

  // Checks the value at pos_, a member of an object `depth` deep, without giving anything: the
  // same nesting limit, number range and messages as walking it.
  bool Skip(int depth) { return Capture(depth + 1, nullptr, /*in_array=*/false); }

  // The value at pos_ as the field path_: objects flatten, arrays become their text, scalars fields.
  bool Member(int depth) {
    const char c = text_[pos_];
    if (c == '{') return Object(depth + 1);
    if (c == '[') {
      std::string array;
      if (!Capture(depth + 1, &array, /*in_array=*/false)) return false;
      sink_->Add(*path_, Value::Text(std::move(array)));
      return true;
    }
    if (c == '"') {  // the common case, without a Value moved through Scalar
      std::string_view s;
      if (!String(&scratch_, &s)) return false;
      sink_->Add(*path_, Value::Text(std::string(s)));
      return true;
    }
    Value v;
    if (!Scalar(&v)) return false;
    sink_->Add(*path_, std::move(v));
    return true;
  }

  bool Object(int depth) {
    if (depth > kMaxDepth) return Fail("at most 256 levels of nesting");
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    const size_t mark = path_->size();
    for (;;) {
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("a member name in double quotes");
      std::string_view name;
      if (!String(&key_, &name)) return false;
      path_->resize(mark);
      path_->push_back('.');
      path_->append(name);
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("':' after a member name");
      ++pos_;
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("a JSON value");
      if (!(Walks() ? Member(depth) : Skip(depth))) return false;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        SkipSpace();
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        path_->resize(mark);
        return true;
      }
      return Fail("',' or '}' after an object member");
    }
  }

  bool Scalar(Value* v) {
    const char c = text_[pos_];
    if (c == '"') {
      std::string_view s;
      if (!String(&scratch_, &s)) return false;
      *v = Value::Text(std::string(s));
      return true;
    }
    if (c == '-' || IsDigit(c)) return Number(v, nullptr, true);
    for (const auto& [word, value] : {std::pair<std::string_view, int>{"true", 1}, {"false", 0}, {"null", -1}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        *v = value < 0 ? Value::Null() : Value::Bool(value == 1);
        return true;
      }
    }
    return Fail("a JSON value");
  }

  // A string at pos_ (its opening quote): *text is its unescaped text, a view of the document when it
  // has no escapes, else of *scratch (valid until *scratch changes).
  bool String(std::string* scratch, std::string_view* text) {
    std::string* out = scratch;
    bool escaped = false;
    size_t start = ++pos_;
    for (;;) {
      pos_ = SkipPlainString(text_, pos_);
      if (pos_ >= text_.size()) return Fail("a closing '\"'");
      const char c = text_[pos_];
      if (c == '"') {
        if (escaped) {
          out->append(text_.substr(start, pos_ - start));
          *text = *out;
        } else {
          *text = text_.substr(start, pos_ - start);
        }
        ++pos_;
        return true;
      }
      if (static_cast<uint8_t>(c) < 0x20) return Fail("a control character to be escaped inside a string");
      // c is '\\'
      if (!escaped) {
        out->clear();
        escaped = true;
      }
      out->append(text_.substr(start, pos_ - start));
      if (++pos_ >= text_.size()) return Fail("an escape sequence");
      switch (text_[pos_]) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low half must follow
            uint32_t low;
            if (text_.substr(pos_ + 1, 2) != "\\u") return Fail("the low half of a surrogate pair (\\uDC00-\\uDFFF)");
            pos_ += 2;
            if (!Hex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("the low half of a surrogate pair (\\uDC00-\\uDFFF)");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("a high surrogate (\\uD800-\\uDBFF) before a low one");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail("an escape sequence (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
      start = ++pos_;
    }
  }

  // Four hex digits after "\u" (pos_ at the 'u'); leaves pos_ on the last digit.
  bool Hex4(uint32_t* out) {
    *out = 0;
    for (int i = 0; i < 4; ++i) {
      ++pos_;
      const int h = pos_ < text_.size() ? HexValue(text_[pos_]) : -1;
      if (h < 0) return Fail("four hex digits after \\u");
      *out = (*out << 4) | static_cast<uint32_t>(h);
    }
    return true;
  }

  // A number at pos_: its value in *v, its text in *token (either may be null). Without a value, the
  // range of a double is still checked when `check_range` (the one way a number a walk turns into a
  // value can fail where its text alone would not).
  bool Number(Value* v, std::string_view* token, bool check_range) {
    const size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (pos_ < text_.size() && IsDigit(text_[pos_])) {
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    } else {
      return Fail("a digit");
    }
    bool integral = true, exponent = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integral = false;
      if (++pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("a digit after the decimal point");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      exponent = true;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("a digit in the exponent");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    const std::string_view t = text_.substr(start, pos_ - start);
    if (token) *token = t;
    const char* end = t.data() + t.size();
    if (!v) {
      // Only an exponent or over 300 digits can leave a double's range (about 1.8e308 down to 4.9e-324).
      if (!check_range || (!exponent && t.size() <= 300)) return true;
      double d;
      if (auto r = std::from_chars(t.data(), end, d); r.ec == std::errc() && r.ptr == end) return true;
      pos_ = start;
      return Fail("a number within the range of a double");
    }
    if (integral && t.size() <= 18) {  // at most 18 digits: within int64, no overflow to check
      const bool negative = t[0] == '-';
      int64_t i = 0;
      for (size_t k = negative ? 1 : 0; k < t.size(); ++k) i = i * 10 + (t[k] - '0');
      *v = Value::Int(negative ? -i : i);
      return true;
    }
    if (integral) {
      int64_t i;
      if (auto r = std::from_chars(t.data(), end, i); r.ec == std::errc() && r.ptr == end) {
        *v = Value::Int(i);
        return true;
      }
      uint64_t u;
      if (auto r = std::from_chars(t.data(), end, u); r.ec == std::errc() && r.ptr == end) {
        *v = Value::Text(std::string(t));  // beyond int64: the digits, exactly
        return true;
      }
    }
    double d;
    if (auto r = std::from_chars(t.data(), end, d); r.ec == std::errc() && r.ptr == end) {
      *v = Value::Double(d);
      return true;
    }
    pos_ = start;
    return Fail("a number within the range of a double");
  }

  // Any value at pos_, appended to *out as compact JSON (whitespace outside strings dropped); only
  // checked when out is null. `depth` counts the objects and arrays around it, itself included when
  // it is one; `in_array` says whether it lies inside an array (where numbers are only text).
  bool Capture(int depth, std::string* out, bool in_array) {
    const char c = text_[pos_];
    if (c == '"') {
      const size_t start = pos_;
      std::string_view ignored;
      if (!String(&key_, &ignored)) return false;
      if (out) out->append(text_.substr(start, pos_ - start));
      return true;
    }
    if (c == '-' || IsDigit(c)) {
      std::string_view token;
      if (!Number(nullptr, &token, !in_array)) return false;
      if (out) out->append(token);
      return true;
    }
    if (c != '[' && c != '{') {
      const size_t start = pos_;
      Value ignored;
      if (!Scalar(&ignored)) return false;
      if (out) out->append(text_.substr(start, pos_ - start));
      return true;
    }
    if (depth > kMaxDepth) return Fail("at most 256 levels of nesting");
    const bool object = c == '{';
    const char close = object ? '}' : ']';
    const bool inner_in_array = in_array || !object;
    if (out) out->push_back(c);
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == close) {
      if (out) out->push_back(close);
      ++pos_;
      return true;
    }
    for (;;) {
      if (pos_ >= text_.size()) return Fail(object ? "a member name in double quotes" : "a JSON value");
      if (object) {
        if (text_[pos_] != '"') return Fail("a member name in double quotes");
        if (!Capture(depth, out, inner_in_array)) return false;
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("':' after a member name");
        if (out) out->push_back(':');
        ++pos_;
        SkipSpace();
        if (pos_ >= text_.size()) return Fail("a JSON value");
      }
      if (!Capture(depth + 1, out, inner_in_array)) return false;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        if (out) out->push_back(',');
        ++pos_;
        SkipSpace();
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == close) {
        if (out) out->push_back(close);
        ++pos_;
        return true;
      }
      return Fail(object ? "',' or '}' after an object member" : "',' or ']' after an array element");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string* path_;
  FieldSink* sink_;
  std::string* error_;
  const FieldSelection* selection_;  // null: every field
  std::string key_;      // scratch for member names with escapes
  std::string scratch_;  // scratch for string values with escapes
};

}  // namespace

bool FlattenJson(std::string_view text, std::string_view prefix, std::string* path, FieldSink* sink, std::string* error,
                 const FieldSelection* selection) {
  Parser parser(text, path, sink, error, selection);
  return parser.Document(prefix);
}

bool IsJsonText(std::string_view text, std::string* error) {
  const FieldSelection nothing({});  // every value checked, none built
  std::string path;
  return Parser(text, &path, nullptr, error, &nothing).Document("");
}

}  // namespace sfb
