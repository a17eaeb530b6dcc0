#include "connectors/file/csv_parser.h"

#include "common/text_preview.h"

namespace sfb {

Status ParseCsvRecord(std::string_view data, size_t* pos, const CsvOptions& o,
                      std::vector<std::optional<std::string>>* fields) {
  fields->clear();
  size_t i = *pos;
  const size_t n = data.size();
  auto skip_line = [&] {
    const size_t nl = data.find('\n', i);
    *pos = nl == std::string_view::npos ? n : nl + 1;
  };
  for (;;) {
    // One field.
    if (i < n && data[i] == o.quote) {
      std::string value;
      ++i;
      for (;;) {
        if (i >= n) {
          *pos = n;
          return Status::BadRecord("a quoted field is not closed before the end of the file")
              .WithHint("close the quote, or double any quote character inside the field (\"\")");
        }
        const char c = data[i];
        if (c == o.quote) {
          if (i + 1 < n && data[i + 1] == o.quote) {
            value.push_back(o.quote);
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (c == '\n' && !o.allow_multiline) {
          *pos = i + 1;
          return Status::BadRecord("a quoted field contains a line break or its closing quote is missing")
              .WithHint("if fields really contain line breaks, set multiline: true on this file source "
                        "(it is then read on one thread); otherwise close the quote");
        }
        value.push_back(c);
        ++i;
      }
      if (i < n && data[i] == '\r' && (i + 1 == n || data[i + 1] == '\n')) ++i;
      if (i < n && data[i] != o.delimiter && data[i] != '\n') {
        skip_line();
        const std::string_view c = FirstCharacter(data.substr(i));
        return Status::BadRecord("unexpected character '" + PreviewText(c, c.size()) + "' after a closing quote")
            .WithHint("a quoted field must be followed by the delimiter or the end of the line");
      }
      fields->push_back(std::move(value));
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
      if (end == start) {
        fields->push_back(std::nullopt);
      } else {
        fields->emplace_back(std::string(data.substr(start, end - start)));
      }
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

}  // namespace sfb
