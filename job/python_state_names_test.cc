#include "job/python_state_names.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(PythonStateNames, LowerCaseIdentifiersThatAreNotKeywordsAreAccepted) {
  for (const char* ok : {"seen_count", "x", "_private", "a1", "visits2", "match", "case", "type", "größe"}) {
    EXPECT_EQ(PythonStateNameProblem(ok), "") << ok;
  }
}

TEST(PythonStateNames, EachRefusalSaysWhy) {
  EXPECT_EQ(PythonStateNameProblem("class"), "'class' is a Python keyword");
  EXPECT_EQ(PythonStateNameProblem("None"), "'None' is a Python keyword");
  EXPECT_EQ(PythonStateNameProblem("async"), "'async' is a Python keyword");
  EXPECT_EQ(PythonStateNameProblem("firstName"), "it has upper-case letters");
  EXPECT_EQ(PythonStateNameProblem("Zoë"), "it has upper-case letters");
  EXPECT_EQ(PythonStateNameProblem("2fa"), "it starts with a digit");
  EXPECT_EQ(PythonStateNameProblem("last-visit"), "it has characters other than letters, digits and '_'");
  EXPECT_EQ(PythonStateNameProblem("a.b"), "it has characters other than letters, digits and '_'");
  EXPECT_EQ(PythonStateNameProblem("a b"), "it has characters other than letters, digits and '_'");
  EXPECT_EQ(PythonStateNameProblem("_"), "it has no letter (Python's str.islower() is false for it)");
  EXPECT_EQ(PythonStateNameProblem("_1"), "it has no letter (Python's str.islower() is false for it)");
}

TEST(PythonStateNames, SuggestionsAreAcceptedNames) {
  EXPECT_EQ(PythonStateNameSuggestion("firstName"), "first_name");
  EXPECT_EQ(PythonStateNameSuggestion("LastVisitTS"), "last_visit_ts");
  EXPECT_EQ(PythonStateNameSuggestion("HTTPCode"), "http_code");
  EXPECT_EQ(PythonStateNameSuggestion("class"), "class_");
  EXPECT_EQ(PythonStateNameSuggestion("None"), "none");
  EXPECT_EQ(PythonStateNameSuggestion("last-visit"), "last_visit");
  EXPECT_EQ(PythonStateNameSuggestion("2fa"), "_2fa");
  for (const char* bad : {"firstName", "LastVisitTS", "class", "True", "last-visit", "2fa", "_", "_1", "a..b"}) {
    EXPECT_EQ(PythonStateNameProblem(PythonStateNameSuggestion(bad)), "") << bad << " -> " << PythonStateNameSuggestion(bad);
  }
}

}  // namespace
}  // namespace sfb
