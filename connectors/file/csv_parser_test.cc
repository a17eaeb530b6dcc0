#include "connectors/file/csv_parser.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

using Fields = std::vector<std::optional<std::string>>;

Fields Parse(std::string_view data, size_t* pos, CsvOptions o = {}) {
  Fields f;
  Status s = ParseCsvRecord(data, pos, o, &f);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return f;
}

TEST(CsvParser, QuotingEscapesAndNulls) {
  const std::string data = "a,\"b,c\",\"say \"\"hi\"\"\",,\"\"\r\nnext";
  size_t pos = 0;
  Fields f = Parse(data, &pos);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(*f[0], "a");
  EXPECT_EQ(*f[1], "b,c");
  EXPECT_EQ(*f[2], "say \"hi\"");
  EXPECT_FALSE(f[3].has_value());  // unquoted empty: NULL
  EXPECT_EQ(*f[4], "");            // quoted empty: empty string
  EXPECT_EQ(data.substr(pos), "next");
}

TEST(CsvParser, LastLineWithoutNewlineAndCustomDelimiter) {
  size_t pos = 0;
  CsvOptions o;
  o.delimiter = '\t';
  Fields f = Parse("x\ty z\t3", &pos, o);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(*f[1], "y z");
  EXPECT_EQ(pos, 7u);
}

TEST(CsvParser, MultilineOnlyWhenAllowed) {
  const std::string data = "\"line1\nline2\",x\n";
  size_t pos = 0;
  Fields f;
  Status s = ParseCsvRecord(data, &pos, CsvOptions{}, &f);
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.hint().find("multiline: true"), std::string::npos);
  CsvOptions o;
  o.allow_multiline = true;
  pos = 0;
  f = Parse(data, &pos, o);
  EXPECT_EQ(*f[0], "line1\nline2");
  EXPECT_EQ(pos, data.size());
}

TEST(CsvParser, StrayQuotesAreErrors) {
  Fields f;
  size_t pos = 0;
  EXPECT_FALSE(ParseCsvRecord("ab\"c,d\n", &pos, CsvOptions{}, &f).ok());
  EXPECT_EQ(pos, 7u);  // skipped past the bad record
  pos = 0;
  EXPECT_FALSE(ParseCsvRecord("\"ab\"c,d\n", &pos, CsvOptions{}, &f).ok());
  pos = 0;
  EXPECT_FALSE(ParseCsvRecord("\"never closed", &pos, CsvOptions{}, &f).ok());
}

TEST(CsvParser, ErrorsNameTheWholeCharacter) {
  Fields f;
  size_t pos = 0;
  Status s = ParseCsvRecord("u1,\"Zo\"ë,3\n", &pos, CsvOptions{}, &f);
  EXPECT_EQ(s.message(), "unexpected character 'ë' after a closing quote");
  pos = 0;
  s = ParseCsvRecord("u1,\"Zo\"\xeb,3\n", &pos, CsvOptions{}, &f);  // Latin-1: not UTF-8
  EXPECT_EQ(s.message(), "unexpected character '\\xeb' after a closing quote");
  pos = 0;
  s = ParseCsvRecord("u1,\"Zo\"\x01,3\n", &pos, CsvOptions{}, &f);
  EXPECT_EQ(s.message(), "unexpected character '\\x01' after a closing quote");
}

}  // namespace
}  // namespace sfb
