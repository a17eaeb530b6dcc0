#include "connectors/file/csv_parser.h"

#include "common/text_preview.h"

namespace sfb {

Status ParseCsvFields(std::string_view data, size_t* pos, const CsvOptions& o, std::vector<CsvField>* fields,
                      CsvScratch* scratch) {
  fields->clear();
  scratch->used = 0;
  size_t i = *pos;
  const size_t n = data.size();
  auto skip_line = [&] {
    const size_t nl = data.find('\n', i);
    *pos = nl == std::string_view::npos ? n : nl + 1;
  };
  for (;;) {
    // One field.
    if (i < n && data[i] == o.quote) {
      // A view of the text between the quotes until a doubled quote is met; from then on a copy in
      // the scratch with the quotes undone.
      ++i;
      const size_t first = i;
      std::string* value = nullptr;
      size_t last = i;  // end of the view while value is null
      for (;;) {
        if (i >= n) {
          *pos = n;
          return Status::BadRecord("a quoted field is not closed before the end of the file")
              .WithHint("close the quote, or double any quote character inside the field (\"\")");
        }
        const char c = data[i];
        if (c == o.quote) {
          if (i + 1 < n && data[i + 1] == o.quote) {
            if (!value) {
              if (scratch->used == scratch->unquoted.size()) scratch->unquoted.emplace_back();
              value = &scratch->unquoted[scratch->used++];
              value->assign(data.substr(first, i - first));
            }
            value->push_back(o.quote);
            i += 2;
            continue;
          }
          last = i;
          ++i;
          break;
        }
        if (c == '\n' && !o.allow_multiline) {
          *pos = i + 1;
          return Status::BadRecord("a quoted field contains a line break or its closing quote is missing")
              .WithHint("if fields really contain line breaks, set multiline: true on this file source "
                        "(it is then read on one thread); otherwise close the quote");
        }
        if (value) value->push_back(c);
        ++i;
      }
      if (i < n && data[i] == '\r' && (i + 1 == n || data[i + 1] == '\n')) ++i;
      if (i < n && data[i] != o.delimiter && data[i] != '\n') {
        skip_line();
        const std::string_view c = FirstCharacter(data.substr(i));
        return Status::BadRecord("unexpected character '" + PreviewText(c, c.size()) + "' after a closing quote")
            .WithHint("a quoted field must be followed by the delimiter or the end of the line");
      }
      fields->push_back(CsvField{value ? std::string_view(*value) : data.substr(first, last - first), false});
    } else {
      const size_t start = i;
      while (i < n && data[i] != o.delimiter && data[i] != '\n') {
        if (data[i] == o.quote) {
          skip_line();
          return Status::BadRecord("a quote character appears inside an unquoted field")
              .WithHint("quote the whole field and double the inner quote: \"a \"\"b\"\" c\"");
        }
        ++i;
      }
      size_t end = i;
      if (end > start && data[end - 1] == '\r' && (i == n || data[i] == '\n')) --end;
      fields->push_back(CsvField{data.substr(start, end - start), end == start});
    }
    if (i >= n) {
      *pos = n;
      return Status::OK();
    }
    if (data[i] == '\n') {
      *pos = i + 1;
      return Status::OK();
    }
    ++i;  // delimiter
  }
}

Status ParseCsvRecord(std::string_view data, size_t* pos, const CsvOptions& options,
                      std::vector<std::optional<std::string>>* fields) {
  std::vector<CsvField> views;
  CsvScratch scratch;
  Status s = ParseCsvFields(data, pos, options, &views, &scratch);
  fields->clear();
  if (!s.ok()) return s;
  for (const CsvField& f : views) {
    if (f.null) {
      fields->push_back(std::nullopt);
    } else {
      fields->emplace_back(std::string(f.text));
    }
  }
  return Status::OK();
}

}  // namespace sfb
