// CSV record parsing (RFC 4180 with PostgreSQL's NULL convention).
//
// Fields are separated by a one-byte delimiter and may be quoted with '"', a quote inside a quoted field
// being doubled. An unquoted empty field is NULL; a quoted empty field ("") is the empty string, as in
// PostgreSQL's CSV COPY format, so exports round-trip. A record ends at an unquoted LF (a preceding CR is
// dropped). A quoted field may contain line breaks only when `allow_multiline` is set: otherwise the file
// is read in parallel byte ranges whose boundaries assume that records are lines.

#ifndef SFB_CONNECTORS_FILE_CSV_PARSER_H_
#define SFB_CONNECTORS_FILE_CSV_PARSER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sfb {

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  bool allow_multiline = false;
};

// Parses the record starting at data[*pos], leaving *pos after its line break (or at data.size()).
// Each field is text or nullopt (NULL). On a malformed record, *pos is still advanced past it.
Status ParseCsvRecord(std::string_view data, size_t* pos, const CsvOptions& options,
                      std::vector<std::optional<std::string>>* fields);

}  // namespace sfb

#endif  // SFB_CONNECTORS_FILE_CSV_PARSER_H_
