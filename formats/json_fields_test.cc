// FlattenJson against nlohmann/json as the oracle: the same documents accepted and rejected, the same
// fields with the same values, plus the messages for what is malformed.

#include "formats/json_fields.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <vector>

namespace sfb {
namespace {

struct Fields : FieldSink {
  std::vector<std::pair<std::string, Value>> got;
  void Add(std::string_view name, Value value) override { got.emplace_back(std::string(name), std::move(value)); }
};

// The oracle: flattening by walking nlohmann's document (arrays compared as JSON values below).
void Reference(const nlohmann::ordered_json& j, const std::string& path, std::vector<std::pair<std::string, nlohmann::ordered_json>>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) Reference(it.value(), path + "." + it.key(), out);
  } else {
    out->emplace_back(path, j);
  }
}

bool SameValue(const Value& v, const nlohmann::ordered_json& j) {
  switch (v.kind()) {
    case Value::Kind::kNull: return j.is_null();
    case Value::Kind::kBool: return j.is_boolean() && j.get<bool>() == v.as_bool();
    case Value::Kind::kInt: return j.is_number_integer() && j.get<int64_t>() == v.as_int();
    case Value::Kind::kDouble: return j.is_number() && j.get<double>() == v.as_double();
    case Value::Kind::kText:
      if (j.is_string()) return j.get<std::string>() == v.as_string();
      if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>()) == v.as_string();
      return (j.is_array()) && nlohmann::ordered_json::parse(v.as_string()) == j;
    case Value::Kind::kBytes: return false;
  }
  return false;
}

// {"a":{"a":...1...}} nested `levels` deep.
std::string Nested(int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += "{\"a\":";
  return s + "1" + std::string(static_cast<size_t>(levels), '}');
}

const char* kValid[] = {
    R"({})",
    R"({"a":1})",
    " \t\r\n{ \"a\" : 1 , \"b\" : [ 1 , 2 ] } \n",
    R"({"s":"plain","e":"\"\\\/\b\f\n\r\t","u":"\u00e9\u4e2d\ud83d\ude80","raw":"é中🚀"})",
    R"({"i":0,"n":-0,"max":9223372036854775807,"min":-9223372036854775808,"u":18446744073709551615,
        "big":18446744073709551616,"neg":-9223372036854775809,"f":1.5,"g":-2.5e-3,"h":1E10,"k":0.0})",
    R"({"t":true,"f":false,"z":null})",
    R"({"o":{"p":{"q":{"r":1}},"empty":{}},"after":2})",
    R"({"arr":[1,[2,[3,{"x":[4,{"y":"z"}]}]],[],{},"s\"q",-1.25e+2,true,false,null]})",
    R"({"a.b":1,"a":{"b":2}})",
    R"("just text")",
    R"(-12)",
    R"(3.25)",
    R"(true)",
    R"(null)",
    R"([1, "two", {"three": 3}])",
};

TEST(FlattenJson, AgreesWithNlohmannOnValidDocuments) {
  for (const char* doc : kValid) {
    Fields f;
    std::string path, error;
    ASSERT_TRUE(FlattenJson(doc, "value", &path, &f, &error)) << doc << "\n" << error;
    std::vector<std::pair<std::string, nlohmann::ordered_json>> want;
    Reference(nlohmann::ordered_json::parse(doc), "value", &want);
    ASSERT_EQ(f.got.size(), want.size()) << doc;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(f.got[i].first, want[i].first) << doc;
      EXPECT_TRUE(SameValue(f.got[i].second, want[i].second))
          << doc << "\n" << want[i].first << ": " << f.got[i].second.ToText() << " vs " << want[i].second.dump();
    }
  }
}

TEST(FlattenJson, DeepButAllowedNesting) {
  Fields f;
  std::string path, error;
  ASSERT_TRUE(FlattenJson(Nested(256), "v", &path, &f, &error)) << error;
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].first.size(), 1u + 256 * 2);
}

TEST(FlattenJson, TypesAndCompactArrays) {
  Fields f;
  std::string path, error;
  ASSERT_TRUE(FlattenJson(R"({"u": 18446744073709551615, "b": 18446744073709551616, "a": [ 1 , "x y" , [ ] , { "k" : null } ]})",
                          "v", &path, &f, &error));
  ASSERT_EQ(f.got.size(), 3u);
  EXPECT_EQ(f.got[0].second, Value::Text("18446744073709551615"));
  EXPECT_EQ(f.got[1].second, Value::Double(18446744073709551616.0));
  EXPECT_EQ(f.got[2].second, Value::Text(R"([1,"x y",[],{"k":null}])"));
}

TEST(FlattenJson, RejectsWhatIsNotJsonAndSaysWhere) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "parse error at byte 1: expected a JSON value, found the end of the text"},
      {"  ", "parse error at byte 3: expected a JSON value, found the end of the text"},
      {R"({"a":1,})", "parse error at byte 8: expected a member name in double quotes, found '}'"},
      {R"({"a" 1})", "parse error at byte 6: expected ':' after a member name, found '1'"},
      {R"({"a":1 "b":2})", "parse error at byte 8: expected ',' or '}' after an object member, found '\"'"},
      {R"({"a":01})", "parse error at byte 7: expected ',' or '}' after an object member, found '1'"},
      {R"({"a":1.})", "parse error at byte 8: expected a digit after the decimal point, found '}'"},
      {R"({"a":1e})", "parse error at byte 8: expected a digit in the exponent, found '}'"},
      {R"({"a":-})", "parse error at byte 7: expected a digit, found '}'"},
      {R"({"a":tru})", "parse error at byte 6: expected a JSON value, found 't'"},
      {R"({"a":ë})", "parse error at byte 6: expected a JSON value, found 'ë'"},
      {R"({"a":1🚀})", "parse error at byte 7: expected ',' or '}' after an object member, found '🚀'"},
      {"{\"a\":\xc2\x85}", "parse error at byte 6: expected a JSON value, found byte 194"},
      {R"({"a":"x)", "parse error at byte 8: expected a closing '\"', found the end of the text"},
      {"{\"a\":\"x\ty\"}", "parse error at byte 8: expected a control character to be escaped inside a string, found byte 9"},
      {R"({"a":"\x"})", "parse error at byte 8: expected an escape sequence"},
      {R"({"a":"\u12G4"})", "parse error at byte 11: expected four hex digits after \\u, found 'G'"},
      {R"({"a":"\ud83d"})", "parse error at byte 12: expected the low half of a surrogate pair"},
      {R"({"a":"\ude80"})", "parse error at byte 12: expected a high surrogate"},
      {R"({"a":[1,2})", "parse error at byte 10: expected ',' or ']' after an array element, found '}'"},
      {R"({"a":1} x)", "parse error at byte 9: expected the end of the text after the value, found 'x'"},
      {R"({"a":1e400})", "parse error at byte 6: expected a number within the range of a double, found '1'"},
      {"{\"a\":\"\xff\"}", "parse error: the text is not valid UTF-8"},
      {std::string(300, '[') + std::string(300, ']'), "parse error at byte 257: expected at most 256 levels of nesting"},
      {Nested(300), "parse error at byte 1281: expected at most 256 levels of nesting"},
  };
  for (const auto& [doc, message] : cases) {
    Fields f;
    std::string path, error;
    EXPECT_FALSE(FlattenJson(doc, "value", &path, &f, &error)) << doc;
    EXPECT_EQ(error.rfind(message, 0), 0u) << doc << "\n  got:  " << error << "\n  want: " << message;
    if (doc.find("1e400") == std::string::npos && doc.find("[[[") == std::string::npos && doc.size() < 1000) {
      EXPECT_FALSE(nlohmann::json::accept(doc)) << "the oracle accepts " << doc;
    }
  }
}

// One of the valid documents with one to three deterministic edits (byte flips, insertions,
// deletions, truncations), drawn from `rng`.
std::string Mutated(std::mt19937& rng) {
  const std::string alphabet = "{}[]\",:.-+eE0123456789 \n\tabcdefnrtu\\/\xc3\xa9\xff";
  std::string doc = kValid[rng() % (sizeof kValid / sizeof kValid[0])];
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !doc.empty(); ++e) {
    const size_t at = rng() % doc.size();
    switch (rng() % 4) {
      case 0: doc[at] = alphabet[rng() % alphabet.size()]; break;
      case 1: doc.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      case 2: doc.erase(at, 1); break;
      default: doc.resize(at); break;
    }
  }
  return doc;
}

TEST(FlattenJson, RandomMutationsAgreeWithTheOracleAndNeverCrash) {
  // Deterministic mutations (byte flips, insertions, deletions, truncations) of the valid documents:
  // whatever FlattenJson accepts nlohmann accepts, and the reverse except for numbers beyond a double.
  std::mt19937 rng(20240501);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string doc = Mutated(rng);
    Fields f;
    std::string path, error;
    const bool ours = FlattenJson(doc, "value", &path, &f, &error);
    const bool oracle = nlohmann::json::accept(doc);
    accepted += ours;
    if (ours) {
      EXPECT_TRUE(oracle) << "accepted what is not JSON: " << doc;
    } else {
      EXPECT_FALSE(error.empty());
      if (oracle) {
        EXPECT_NE(error.find("range of a double"), std::string::npos) << doc << "\n" << error;
      }
    }
  }
  EXPECT_GT(accepted, 100);  // the mutations do not only produce garbage
}

// Strings are crossed eight bytes at a time: a quote, an escape, a control byte or UTF-8 at every
// offset of a long string, and integers around the 18-character fast path, agree with the oracle.
TEST(FlattenJson, EveryOffsetOfLongStringsAndIntegersAroundEighteenDigits) {
  const std::string pieces[] = {"\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude80", "\xc3\xa9", "\x01", "\"", "\\"};
  int checked = 0;
  for (const std::string& piece : pieces) {
    for (size_t at = 0; at <= 24; ++at) {
      std::string text(24, 'x');
      text.insert(at, piece);
      for (const std::string& doc : {"{\"" + text + "\":1}", "{\"k\":\"" + text + "\"}", "[\"" + text + "\"]"}) {
        Fields f;
        std::string path, error;
        const bool ours = FlattenJson(doc, "value", &path, &f, &error);
        ASSERT_EQ(ours, nlohmann::json::accept(doc)) << doc << "\n" << error;
        ++checked;
        if (!ours) continue;
        std::vector<std::pair<std::string, nlohmann::ordered_json>> want;
        Reference(nlohmann::ordered_json::parse(doc), "value", &want);
        ASSERT_EQ(f.got.size(), want.size()) << doc;
        EXPECT_EQ(f.got[0].first, want[0].first) << doc;
        EXPECT_TRUE(SameValue(f.got[0].second, want[0].second)) << doc << ": " << f.got[0].second.ToText();
      }
    }
  }
  EXPECT_EQ(checked, 9 * 25 * 3);
  Fields control;
  std::string path, error;
  EXPECT_FALSE(FlattenJson("{\"k\":\"" + std::string(13, 'x') + "\x1f\"}", "v", &path, &control, &error));
  EXPECT_EQ(error, "parse error at byte 20: expected a control character to be escaped inside a string, found byte 31");
  for (const char* n : {"99999999999999999", "999999999999999999", "9999999999999999999", "-99999999999999999",
                        "-999999999999999999", "-9223372036854775808", "100000000000000000", "-0", "0"}) {
    Fields f;
    ASSERT_TRUE(FlattenJson(n, "v", &path, &f, &error)) << n;
    ASSERT_EQ(f.got.size(), 1u);
    const nlohmann::json j = nlohmann::json::parse(n);
    EXPECT_TRUE(SameValue(f.got[0].second, j)) << n << ": " << f.got[0].second.ToText();
    EXPECT_EQ(f.got[0].second.kind(), j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX ? Value::Kind::kText
                                                                                              : Value::Kind::kInt) << n;
  }
}

// The selections the tests below read documents with: none, the value itself, members at several
// depths (some absent), and names under an array or a scalar, which are never walked into.
std::vector<FieldSelection> Selections() {
  return {FieldSelection({}),
          FieldSelection({"value"}),
          FieldSelection({"value.a", "value.o.p.q.r", "value.after", "value.t"}),
          FieldSelection({"value.arr", "value.arr.x", "value.s", "value.a.b", "value.i.j"}),
          FieldSelection({"value.o.empty", "value.o.p", "value.max", "value.u", "value.raw", "value.z"})};
}

// What a selection gives is exactly the full flattening's selected fields, in order, and it accepts
// and rejects the same documents with the same message.
void ExpectSelectionAgrees(const std::string& doc) {
  Fields all;
  std::string path, all_error;
  const bool all_ok = FlattenJson(doc, "value", &path, &all, &all_error);
  for (const FieldSelection& selection : Selections()) {
    Fields some;
    std::string error;
    const bool ok = FlattenJson(doc, "value", &path, &some, &error, &selection);
    ASSERT_EQ(ok, all_ok) << doc << "\n" << error << "\n" << all_error;
    if (!ok) {
      EXPECT_EQ(error, all_error) << doc;
      continue;
    }
    std::vector<std::pair<std::string, Value>> want;
    for (const auto& [name, value] : all.got) {
      if (selection.Selects(name)) want.emplace_back(name, value);
    }
    ASSERT_EQ(some.got.size(), want.size()) << doc;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(some.got[i].first, want[i].first) << doc;
      EXPECT_EQ(some.got[i].second, want[i].second) << doc << ": " << want[i].first;
    }
  }
}

TEST(FlattenJson, ASelectionGivesTheSelectedFieldsAndChecksTheRest) {
  for (const char* doc : kValid) ExpectSelectionAgrees(doc);
  ExpectSelectionAgrees(Nested(256));
  ExpectSelectionAgrees(Nested(257));
  ExpectSelectionAgrees("{\"a\":" + Nested(255) + "}");
  ExpectSelectionAgrees("{\"a\":" + Nested(256) + "}");
  ExpectSelectionAgrees("{\"s\":" + std::string(255, '[') + std::string(255, ']') + "}");
  ExpectSelectionAgrees("{\"s\":" + std::string(256, '[') + std::string(256, ']') + "}");
  // Some fields given, one not: the unselected member is still checked.
  Fields f;
  std::string path, error;
  const FieldSelection id({"value.id"});
  ASSERT_TRUE(FlattenJson(R"({"id":"u1","name":"Ada","visits":3})", "value", &path, &f, &error, &id));
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].first, "value.id");
  EXPECT_EQ(f.got[0].second, Value::Text("u1"));
  EXPECT_FALSE(FlattenJson(R"({"id":"u1","name":"Ada","visits":03})", "value", &path, &f, &error, &id));
  EXPECT_EQ(error.rfind("parse error at byte 35: expected ',' or '}' after an object member, found '3'", 0), 0u) << error;
}

TEST(FlattenJson, ASelectionAgreesOnRandomMutations) {
  std::mt19937 rng(20261203);
  for (int round = 0; round < 5000; ++round) {
    const std::string doc = Mutated(rng);
    ExpectSelectionAgrees(doc);
  }
}

TEST(IsJsonText, AcceptsDocumentsAndSaysWhyNot) {
  std::string error;
  for (const char* doc : {"{\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\"}", "[]", "1", "\"text\"", " true "}) {
    EXPECT_TRUE(IsJsonText(doc, &error)) << doc << ": " << error;
  }
  for (const char* doc : {"{\"a\": 1", "", "{a: 1}", "[1,]", "1 2", "\"\xff\""}) {
    error.clear();
    EXPECT_FALSE(IsJsonText(doc, &error)) << doc;
    EXPECT_NE(error.find("parse error"), std::string::npos) << doc << ": " << error;
  }
}

}  // namespace
}  // namespace sfb
