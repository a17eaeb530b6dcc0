// Record: one row, message or line from a source, as named, typed fields.
//
// Sources produce Records; Routers read them to choose addresses; StateBootstrapFunctions read the
// Records routed to their address. A field Value is null, bool, int64, double, text (UTF-8) or bytes,
// as the source knew it: a CSV cell is text, a JSON number is an int or a double, a PostgreSQL column
// keeps its type. Converting a field to a state's type (text "42" to an int state) is the router's job
// (router/value_conversion.h), where errors can name the record.
//
// Field names live in a shared Schema, so a Record is a vector of values plus a pointer.

#ifndef SFB_COMMON_RECORD_H_
#define SFB_COMMON_RECORD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/status.h"

namespace sfb {

class Value {
 public:
  enum class Kind { kNull = 0, kBool, kInt, kDouble, kText, kBytes };

  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool v) { return Value(Rep(std::in_place_index<1>, v)); }
  static Value Int(int64_t v) { return Value(Rep(std::in_place_index<2>, v)); }
  static Value Double(double v) { return Value(Rep(std::in_place_index<3>, v)); }
  static Value Text(std::string v) { return Value(Rep(std::in_place_index<4>, std::move(v))); }
  static Value Bytes(std::string v) { return Value(Rep(std::in_place_index<5>, std::move(v))); }

  Kind kind() const { return static_cast<Kind>(rep_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool as_bool() const { return std::get<1>(rep_); }
  int64_t as_int() const { return std::get<2>(rep_); }
  double as_double() const { return std::get<3>(rep_); }
  // Text or bytes.
  const std::string& as_string() const { return kind() == Kind::kText ? std::get<4>(rep_) : std::get<5>(rep_); }

  // Makes this value the text `v`, reusing its own string's buffer when it already is text (a source
  // refilling one record line after line allocates nothing per field).
  void AssignText(std::string_view v) {
    if (kind() == Kind::kText) {
      std::get<4>(rep_).assign(v);
    } else {
      rep_.emplace<4>(v);
    }
  }
  void AssignNull() { rep_.emplace<0>(); }

  // The value as text, for templates and messages: "true", "42", "1.5", the text itself; null is "".
  std::string ToText() const;
  static const char* KindName(Kind kind);

  bool operator==(const Value& other) const { return rep_ == other.rep_; }

 private:
  using Rep = std::variant<std::monostate, bool, int64_t, double, std::string, std::string>;
  explicit Value(Rep rep) : rep_(std::move(rep)) {}
  Rep rep_;
};

// The ordered field names of a family of records.
class Schema {
 public:
  explicit Schema(std::vector<std::string> names);
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }
  // Index of `name`, or -1.
  int IndexOf(std::string_view name) const;

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> index_;
};

class Record {
 public:
  Record() = default;
  Record(std::shared_ptr<const Schema> schema, std::vector<Value> values);

  const Schema& schema() const { return *schema_; }
  const std::shared_ptr<const Schema>& schema_ptr() const { return schema_; }
  size_t size() const { return values_.size(); }
  const Value& value(size_t i) const { return values_[i]; }
  std::vector<Value>& mutable_values() { return values_; }
  // The field called `name`, or nullptr when the record has no such field (null fields are present).
  const Value* Find(std::string_view name) const;
  // The field, or a null value when absent.
  const Value& Get(std::string_view name) const;

  // Compact binary form for spilling: values only (the schema travels separately).
  void SerializeValuesTo(std::string* out) const;
  static Status ParseValues(std::string_view in, std::shared_ptr<const Schema> schema, Record* out);

 private:
  std::shared_ptr<const Schema> schema_;
  std::vector<Value> values_;
};

// Convenience for tests and embedded data: a record from (name, value) pairs.
Record MakeRecord(std::vector<std::pair<std::string, Value>> fields);

}  // namespace sfb

#endif  // SFB_COMMON_RECORD_H_
