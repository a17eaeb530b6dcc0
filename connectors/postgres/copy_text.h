// COPY text format: splitting a row of `COPY ... TO STDOUT` output into its fields.
//
// In the text format (the server's default) a row is one line: fields separated by a tab, the line
// ended by a newline, NULL written as \N, and backslash escapes for the characters that would break
// the framing (\t, \n, \r, \\, and \b \f \v, plus \NNN octal and \xHH hex on input). Splitting on raw
// tabs is safe because a tab inside a value is always escaped.
//
// Fields are views into the line; unescaping copies only fields that contain a backslash.

#ifndef SFB_CONNECTORS_POSTGRES_COPY_TEXT_H_
#define SFB_CONNECTORS_POSTGRES_COPY_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

namespace sfb {

struct CopyField {
  std::string_view raw;  // still escaped
  bool null = false;
};

// Splits `line` (with or without its trailing newline) into fields. Returns false when the line does
// not have exactly `expected` fields.
bool SplitCopyLine(std::string_view line, size_t expected, std::vector<CopyField>* fields);

// The value of an escaped field. `scratch` receives the unescaped text when the field needs it; the
// returned view points into `raw` or `scratch`.
std::string_view UnescapeCopyField(std::string_view raw, std::string* scratch);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_COPY_TEXT_H_
