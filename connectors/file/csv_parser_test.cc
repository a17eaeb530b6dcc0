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

// The views of ParseCsvFields: plain and quoted fields point into the data (nothing copied); fields with
// doubled quotes each get their own undone copy, which stays valid while the record's later fields are
// parsed; a scratch reused for the next record gives that record's values.
TEST(CsvParser, FieldViewsPointIntoTheDataUnlessQuotesWereUndone) {
  const std::string data = "plain,\"q,uoted\",\"a\"\"b\",\"c\"\"d\"\"\",,\"\"\n\"x\"\"\",\"y\"\n";
  std::vector<CsvField> f;
  CsvScratch scratch;
  size_t pos = 0;
  ASSERT_TRUE(ParseCsvFields(data, &pos, {}, &f, &scratch).ok());
  ASSERT_EQ(f.size(), 6u);
  const auto in_data = [&](std::string_view v) { return v.data() >= data.data() && v.data() < data.data() + data.size(); };
  EXPECT_EQ(f[0].text, "plain");
  EXPECT_TRUE(in_data(f[0].text));
  EXPECT_EQ(f[1].text, "q,uoted");
  EXPECT_TRUE(in_data(f[1].text));
  EXPECT_EQ(f[2].text, "a\"b");
  EXPECT_EQ(f[3].text, "c\"d\"");
  EXPECT_FALSE(in_data(f[2].text));
  EXPECT_FALSE(in_data(f[3].text));
  EXPECT_TRUE(f[4].null);
  EXPECT_FALSE(f[5].null);
  EXPECT_EQ(f[5].text, "");
  ASSERT_TRUE(ParseCsvFields(data, &pos, {}, &f, &scratch).ok());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].text, "x\"");
  EXPECT_EQ(f[1].text, "y");
  EXPECT_EQ(scratch.used, 1u);
  EXPECT_EQ(pos, data.size());
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
