// CSV record parsing (RFC 4180 with PostgreSQL's NULL convention).
//
// Fields are separated by a one-byte delimiter and may be quoted with '"', a quote inside a quoted field
// being doubled. An unquoted empty field is NULL; a quoted empty field ("") is the empty string, as in
// PostgreSQL's CSV COPY format, so exports round-trip. A record ends at an unquoted LF (a preceding CR is
// dropped). A quoted field may contain line breaks only when `allow_multiline` is set: otherwise the file
// is read in parallel byte ranges whose boundaries assume that records are lines.

#ifndef SFB_CONNECTORS_FILE_CSV_PARSER_H_
#define SFB_CONNECTORS_FILE_CSV_PARSER_H_

#include <deque>
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

// One field of a parsed record: its text (a view into the data, or into the scratch for a quoted
// field whose doubled quotes were undone), or NULL.
struct CsvField {
  std::string_view text;
  bool null = false;
};

// Where quoted fields with doubled quotes are undone; reused from record to record (a deque, so a
// field's view stays valid while later fields of the record are added).
struct CsvScratch {
  std::deque<std::string> unquoted;
  size_t used = 0;
};

// Parses the record starting at data[*pos], leaving *pos after its line break (or at data.size()).
// The fields view `data` or `*scratch` until the next call with the same scratch. On a malformed
// record, *pos is still advanced past it. Copies nothing a field does not need: the reader's hot path.
Status ParseCsvFields(std::string_view data, size_t* pos, const CsvOptions& options, std::vector<CsvField>* fields,
                      CsvScratch* scratch);

// The same, each field copied out as text or nullopt (NULL).
Status ParseCsvRecord(std::string_view data, size_t* pos, const CsvOptions& options,
                      std::vector<std::optional<std::string>>* fields);

}  // namespace sfb

#endif  // SFB_CONNECTORS_FILE_CSV_PARSER_H_
