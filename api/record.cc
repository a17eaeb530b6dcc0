#include "api/record.h"

#include <bit>
#include <charconv>
#include <cmath>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace sfb {

std::string Value::ToText() const {
  switch (kind()) {
    case Kind::kNull: return "";
    case Kind::kBool: return as_bool() ? "true" : "false";
    case Kind::kInt: return std::to_string(as_int());
    case Kind::kDouble: {
      const double d = as_double();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    case Kind::kText:
    case Kind::kBytes: return as_string();
  }
  return "";
}

const char* Value::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "integer";
    case Kind::kDouble: return "floating-point number";
    case Kind::kText: return "text";
    case Kind::kBytes: return "bytes";
  }
  return "?";
}

Schema::Schema(std::vector<std::string> names) : names_(std::move(names)) {
  for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<int>(i));
}

int Schema::IndexOf(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

Record::Record(std::shared_ptr<const Schema> schema, std::vector<Value> values)
    : schema_(std::move(schema)), values_(std::move(values)) {}

const Value* Record::Find(std::string_view name) const {
  if (!schema_) return nullptr;
  const int i = schema_->IndexOf(name);
  return i < 0 || static_cast<size_t>(i) >= values_.size() ? nullptr : &values_[static_cast<size_t>(i)];
}

const Value& Record::Get(std::string_view name) const {
  static const Value kNull;
  const Value* v = Find(name);
  return v ? *v : kNull;
}

void Record::SerializeValuesTo(std::string* out) const {
  ByteWriter w(out);
  w.U16(static_cast<uint16_t>(values_.size()));
  for (const Value& v : values_) {
    w.U8(static_cast<uint8_t>(v.kind()));
    switch (v.kind()) {
      case Value::Kind::kNull: break;
      case Value::Kind::kBool: w.Bool(v.as_bool()); break;
      case Value::Kind::kInt: w.I64(v.as_int()); break;
      case Value::Kind::kDouble: w.U64(std::bit_cast<uint64_t>(v.as_double())); break;
      case Value::Kind::kText:
      case Value::Kind::kBytes: w.LengthPrefixed(v.as_string()); break;
    }
  }
}

Status Record::ParseValues(std::string_view in, std::shared_ptr<const Schema> schema, Record* out) {
  ByteReader r(in);
  uint16_t n;
  SFB_RETURN_IF_ERROR(r.U16("field count", &n));
  if (n != schema->size()) return Status::Corruption("spilled record does not match its schema");
  std::vector<Value> values = std::move(out->mutable_values());  // reuses its capacity: one record after another
  values.clear();
  values.reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    uint8_t kind;
    SFB_RETURN_IF_ERROR(r.U8("field kind", &kind));
    switch (static_cast<Value::Kind>(kind)) {
      case Value::Kind::kNull: values.push_back(Value::Null()); break;
      case Value::Kind::kBool: {
        bool b;
        SFB_RETURN_IF_ERROR(r.Bool("bool field", &b));
        values.push_back(Value::Bool(b));
        break;
      }
      case Value::Kind::kInt: {
        int64_t v;
        SFB_RETURN_IF_ERROR(r.I64("int field", &v));
        values.push_back(Value::Int(v));
        break;
      }
      case Value::Kind::kDouble: {
        int64_t v;
        SFB_RETURN_IF_ERROR(r.I64("double field", &v));
        values.push_back(Value::Double(std::bit_cast<double>(v)));
        break;
      }
      case Value::Kind::kText:
      case Value::Kind::kBytes: {
        std::string_view s;
        SFB_RETURN_IF_ERROR(r.LengthPrefixed("string field", &s));
        values.push_back(kind == static_cast<uint8_t>(Value::Kind::kText) ? Value::Text(std::string(s))
                                                                         : Value::Bytes(std::string(s)));
        break;
      }
      default: return Status::Corruption("unknown field kind in spilled record");
    }
  }
  *out = Record(std::move(schema), std::move(values));
  return Status::OK();
}

Record MakeRecord(std::vector<std::pair<std::string, Value>> fields) {
  std::vector<std::string> names;
  std::vector<Value> values;
  for (auto& [n, v] : fields) {
    names.push_back(n);
    values.push_back(std::move(v));
  }
  return Record(std::make_shared<const Schema>(std::move(names)), std::move(values));
}

}  // namespace sfb
