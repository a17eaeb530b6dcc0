#include "common/java_string.h"

#include <cstring>

#include "common/byte_writer.h"
#include "common/text_preview.h"

namespace sfb {
namespace {

void AppendVarint(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, *cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, *cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, *cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b(i + k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool Utf8ToUtf16(std::string_view utf8, std::u16string* out) {
  out->clear();
  out->reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp;
    const size_t n = DecodeUtf8(utf8, i, &cp);
    if (n == 0) return false;
    i += n;
    if (cp < 0x10000) {
      out->push_back(static_cast<char16_t>(cp));
    } else {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    // Every text field of every record is checked, and nearly all of them are ASCII: eight bytes at a
    // time while no byte has its high bit set, one character at a time from the first one that does.
    uint64_t word;
    if (i + sizeof word <= s.size()) {
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        i += sizeof word;
        continue;
      }
    }
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Utf16ToUtf8(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    uint32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    AppendUtf8(&out, c);
  }
  return out;
}

int32_t JavaStringHashCode(std::u16string_view s) {
  uint32_t h = 0;  // unsigned arithmetic gives Java's wrap-around without undefined behaviour
  for (char16_t c : s) h = 31 * h + c;
  return static_cast<int32_t>(h);
}

void AppendStringValue(std::string* out, std::u16string_view s) {
  AppendVarint(out, static_cast<uint32_t>(s.size()) + 1);
  for (char16_t c : s) AppendVarint(out, c);
}

namespace {
bool IsAscii(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
  return ascii;
}

// StringValue.writeString of an ASCII string: each byte is its own UTF-16 code unit, and its own
// one-byte varint.
void AppendAsciiStringValue(std::string* out, std::string_view ascii) {
  AppendVarint(out, static_cast<uint32_t>(ascii.size()) + 1);
  out->append(ascii);
}
}  // namespace

bool AppendStringValueUtf8(std::string* out, std::string_view utf8, std::u16string* scratch) {
  if (IsAscii(utf8)) {
    AppendAsciiStringValue(out, utf8);
    return true;
  }
  if (!Utf8ToUtf16(utf8, scratch)) return false;
  AppendStringValue(out, *scratch);
  return true;
}

bool PrepareJavaId(std::string_view utf8, std::u16string* scratch, int32_t* hash, std::string* string_value) {
  if (!IsAscii(utf8)) {
    if (!Utf8ToUtf16(utf8, scratch)) return false;
    *hash = JavaStringHashCode(*scratch);
    AppendStringValue(string_value, *scratch);
    return true;
  }
  uint32_t h = 0;  // over code units, which for ASCII are the bytes
  for (char c : utf8) h = 31 * h + static_cast<unsigned char>(c);
  *hash = static_cast<int32_t>(h);
  AppendAsciiStringValue(string_value, utf8);
  return true;
}

namespace {
Status ReadVarint(ByteReader* in, const char* field, uint32_t limit, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t b;
    SFB_RETURN_IF_ERROR(in->U8(field, &b));
    if (shift >= 32) return Status::Corruption(std::string("overlong varint in ") + field);
    result |= static_cast<uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (result > limit) {
    return Status::Corruption(std::string(field) + " value " + std::to_string(result) + " out of range");
  }
  *v = result;
  return Status::OK();
}
}  // namespace

Status ReadStringValue(ByteReader* in, std::u16string* out) {
  uint32_t len;
  // Each code unit takes at least one byte, which bounds the length by what remains.
  SFB_RETURN_IF_ERROR(ReadVarint(in, "string length", static_cast<uint32_t>(in->remaining()) + 1, &len));
  if (len == 0) return Status::Corruption("null string where a key was expected");
  out->clear();
  out->reserve(len - 1);
  for (uint32_t i = 0; i + 1 < len; ++i) {
    uint32_t c;
    SFB_RETURN_IF_ERROR(ReadVarint(in, "string character", 0xFFFF, &c));
    out->push_back(static_cast<char16_t>(c));
  }
  return Status::OK();
}

Status ReadStringValueUtf8(ByteReader* in, std::u16string* scratch, std::string* out) {
  // A one-byte length and then bytes under 0x80 is an ASCII string of under 127 characters, which is
  // its own UTF-8 (the inverse of AppendAsciiStringValue); anything else goes through UTF-16.
  const std::string_view rest = in->data().substr(in->position());
  if (!rest.empty()) {
    const size_t len = static_cast<uint8_t>(rest[0]);  // code units + 1
    if (len >= 1 && len < 0x80 && rest.size() >= len && IsAscii(rest.substr(1, len - 1))) {
      out->assign(rest.substr(1, len - 1));
      in->Seek(in->position() + len);
      return Status::OK();
    }
  }
  SFB_RETURN_IF_ERROR(ReadStringValue(in, scratch));
  *out = Utf16ToUtf8(*scratch);
  return Status::OK();
}

Status AppendJavaUtf(std::string* out, std::string_view utf8) {
  std::u16string u16;
  if (!Utf8ToUtf16(utf8, &u16)) return Status::InvalidSpec("not valid UTF-8: " + std::string(utf8));
  std::string body;
  for (char16_t c : u16) {
    if (c >= 0x0001 && c <= 0x007F) {
      body.push_back(static_cast<char>(c));
    } else if (c <= 0x07FF) {
      body.push_back(static_cast<char>(0xC0 | (c >> 6)));
      body.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      body.push_back(static_cast<char>(0xE0 | (c >> 12)));
      body.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      body.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  if (body.size() > 0xFFFF) {
    return Status::InvalidSpec("string longer than 65535 bytes in modified UTF-8: " +
                               PreviewText(utf8, 40));
  }
  ByteWriter(out).U16(static_cast<uint16_t>(body.size()));
  out->append(body);
  return Status::OK();
}

bool ModifiedUtf8ToUtf8(std::string_view in, std::string* out) {
  std::u16string u16;
  for (size_t i = 0; i < in.size();) {
    const uint8_t c = static_cast<uint8_t>(in[i]);
    if (c < 0x80) {
      if (c == 0) return false;
      u16.push_back(c);
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < in.size() && (in[i + 1] & 0xC0) == 0x80) {
      u16.push_back(static_cast<char16_t>(((c & 0x1F) << 6) | (in[i + 1] & 0x3F)));
      i += 2;
    } else if ((c & 0xF0) == 0xE0 && i + 2 < in.size() && (in[i + 1] & 0xC0) == 0x80 &&
               (in[i + 2] & 0xC0) == 0x80) {
      u16.push_back(static_cast<char16_t>(((c & 0x0F) << 12) | ((in[i + 1] & 0x3F) << 6) | (in[i + 2] & 0x3F)));
      i += 3;
    } else {
      return false;
    }
  }
  *out = Utf16ToUtf8(u16);
  return true;
}

}  // namespace sfb
