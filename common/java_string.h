// Java string semantics that Flink's savepoint format depends on.
//
// A statefun function id is a java.lang.String: a sequence of UTF-16 code units. Flink hashes it with
// String.hashCode (over code units) to pick its key group, and stores it with StringValue's variable-length
// encoding (over code units, not bytes). Our sources deliver UTF-8, so ids are converted to UTF-16 first;
// characters outside the BMP become surrogate pairs, exactly as Java holds them.
//
// StringValue record format (flink-core StringValue.writeString):
//   varint(number of UTF-16 code units + 1)   -- 0 would mean null
//   varint(code unit) for each code unit
// where varint is 7 bits per byte, least significant group first, 0x80 = "more follows".
//
// Headers use java.io.DataOutput.writeUTF instead: u16 byte length + "modified UTF-8" (U+0000 as C0 80,
// supplementary characters as two 3-byte surrogates).

#ifndef SFB_COMMON_JAVA_STRING_H_
#define SFB_COMMON_JAVA_STRING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/byte_reader.h"
#include "common/status.h"

namespace sfb {

// Strict UTF-8 -> UTF-16. Returns false on malformed input (overlong forms, surrogates, truncation).
bool Utf8ToUtf16(std::string_view utf8, std::u16string* out);
// UTF-16 -> UTF-8; an unpaired surrogate becomes U+FFFD (what Java's encoder does).
std::string Utf16ToUtf8(std::u16string_view utf16);
// True if `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);
// Decodes the character at s[i] (i < s.size()): returns its length in bytes and sets *cp, or returns 0
// when the bytes there are not well-formed UTF-8 (overlong, a surrogate, cut short by the end of `s`).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);
// Appends code point `cp` (at most 0x10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(std::string* out, uint32_t cp);

// java.lang.String#hashCode.
int32_t JavaStringHashCode(std::u16string_view s);

// StringValue.writeString.
void AppendStringValue(std::string* out, std::u16string_view s);
// StringValue.writeString of a string given as UTF-8: straight from the bytes when it is ASCII, through
// `scratch` as UTF-16 otherwise. Returns false (appending nothing) if `utf8` is not well-formed UTF-8.
bool AppendStringValueUtf8(std::string* out, std::string_view utf8, std::u16string* scratch);
// A function id given as UTF-8, prepared for a key: its String.hashCode and its StringValue encoding
// (appended to `string_value`), in one pass over the bytes when the id is ASCII (the common case),
// through `scratch` as UTF-16 otherwise. Returns false if `utf8` is not well-formed UTF-8.
bool PrepareJavaId(std::string_view utf8, std::u16string* scratch, int32_t* hash, std::string* string_value);
// StringValue.readString; a null string (length 0) is reported as Corruption since ids are never null.
Status ReadStringValue(ByteReader* in, std::u16string* out);
// The same, as UTF-8 (unpaired surrogates become U+FFFD): straight from the bytes when the string is
// ASCII, through `scratch` as UTF-16 otherwise.
Status ReadStringValueUtf8(ByteReader* in, std::u16string* scratch, std::string* out);

// writeUTF. Fails if the encoded form exceeds 65535 bytes.
Status AppendJavaUtf(std::string* out, std::string_view utf8);
// Modified UTF-8 (as written by writeUTF, without the length) -> standard UTF-8.
bool ModifiedUtf8ToUtf8(std::string_view in, std::string* out);

}  // namespace sfb

#endif  // SFB_COMMON_JAVA_STRING_H_
