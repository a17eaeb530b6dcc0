#include "common/record.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/str_cat.h"

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
  // Templates look fields up by name for every record. A record of a few fields is searched faster
  // than a hash of a temporary string is taken (a Kafka record has 9 or more: topic, partition,
  // offset, timestamp, key, value and the value's fields); the first of equal names wins, as in index_.
  constexpr size_t kLinearSearchFields = 16;
  if (names_.size() <= kLinearSearchFields) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
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

// The spill form of a record's values, compact because every routed record is held in memory in it
// (and on this kind of machine each GB a run touches costs seconds of page faults):
//   varint n | n x (u8 kind | payload)
//   payload: null -; bool u8; int zigzag varint; double u64 bits, big-endian; text/bytes varint length
//   and the bytes. Varints are LEB128 (7 bits per byte, low bits first).
namespace {

// Bytes assembled on the stack and appended to a string in pieces of up to its size: a routed
// record's values nearly always fit in one, and an append per byte or two cost more than the bytes.
class StackAppender {
 public:
  explicit StackAppender(std::string* out) : out_(out) {}
  ~StackAppender() { Flush(); }
  void U8(uint8_t v) {
    Room(1);
    buf_[n_++] = static_cast<char>(v);
  }
  void U64BigEndian(uint64_t v) {
    Room(8);
    for (int i = 0; i < 8; ++i) buf_[n_++] = static_cast<char>(v >> (56 - 8 * i));
  }
  void Varint(uint64_t v) {
    Room(10);
    while (v >= 0x80) {
      buf_[n_++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf_[n_++] = static_cast<char>(v);
  }
  void Bytes(std::string_view b) {
    if (b.size() > sizeof buf_ - n_) {
      Flush();
      out_->append(b);
      return;
    }
    std::memcpy(buf_ + n_, b.data(), b.size());
    n_ += b.size();
  }

 private:
  void Room(size_t k) {
    if (n_ + k > sizeof buf_) Flush();
  }
  void Flush() {
    out_->append(buf_, n_);
    n_ = 0;
  }
  std::string* out_;
  char buf_[256];
  size_t n_ = 0;
};

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

void Record::SerializeValuesTo(std::string* out) const {
  StackAppender w(out);
  w.Varint(values_.size());
  for (const Value& v : values_) {
    w.U8(static_cast<uint8_t>(v.kind()));
    switch (v.kind()) {
      case Value::Kind::kNull: break;
      case Value::Kind::kBool: w.U8(v.as_bool() ? 1 : 0); break;
      case Value::Kind::kInt: w.Varint(ZigZag(v.as_int())); break;
      case Value::Kind::kDouble: w.U64BigEndian(std::bit_cast<uint64_t>(v.as_double())); break;
      case Value::Kind::kText:
      case Value::Kind::kBytes:
        w.Varint(v.as_string().size());
        w.Bytes(v.as_string());
        break;
    }
  }
}

namespace {

// Reads the spill form SerializeValuesTo writes straight from the bytes: it runs once per routed record
// in the build, where a checked reader's Status per field cost more than the fields themselves.
class SpilledValueReader {
 public:
  explicit SpilledValueReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool U8(uint8_t* v) {
    if (end_ - p_ < 1) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool U64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = x << 8 | static_cast<uint8_t>(p_[i]);
    p_ += 8;
    *v = x;
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      x |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = x;
        return true;
      }
    }
    return false;  // cut short, or longer than 10 bytes
  }
  // varint length + bytes.
  bool LengthPrefixed(std::string_view* v) {
    uint64_t n = 0;
    if (!Varint(&n) || static_cast<uint64_t>(end_ - p_) < n) return false;
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

Status Truncated(const char* field) { return Status::Corruption(StrCat("spilled record ends inside its ", field)); }

}  // namespace

Status Record::ParseValues(std::string_view in, std::shared_ptr<const Schema> schema, Record* out) {
  SpilledValueReader r(in);
  uint64_t n;
  if (!r.Varint(&n)) return Truncated("field count");
  if (n != schema->size()) return Status::Corruption("spilled record does not match its schema");
  // The previous record's values are overwritten in place: a text field that was text before keeps
  // its string's storage, so record after record parses without allocating.
  std::vector<Value>& values = out->values_;
  values.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t kind;
    if (!r.U8(&kind)) return Truncated("field kind");
    Value& v = values[i];
    switch (static_cast<Value::Kind>(kind)) {
      case Value::Kind::kNull: v = Value::Null(); break;
      case Value::Kind::kBool: {
        uint8_t b;
        if (!r.U8(&b)) return Truncated("bool field");
        v = Value::Bool(b != 0);
        break;
      }
      case Value::Kind::kInt: {
        uint64_t x;
        if (!r.Varint(&x)) return Truncated("int field");
        v = Value::Int(UnZigZag(x));
        break;
      }
      case Value::Kind::kDouble: {
        uint64_t x;
        if (!r.U64(&x)) return Truncated("double field");
        v = Value::Double(std::bit_cast<double>(x));
        break;
      }
      case Value::Kind::kText:
      case Value::Kind::kBytes: {
        std::string_view s;
        if (!r.LengthPrefixed(&s)) return Truncated("string field");
        if (static_cast<uint8_t>(v.kind()) == kind) {
          // Same kind as the last record's value here: reuse its string (values_ is ours, not const).
          const_cast<std::string&>(v.as_string()).assign(s);
        } else {
          v = kind == static_cast<uint8_t>(Value::Kind::kText) ? Value::Text(std::string(s)) : Value::Bytes(std::string(s));
        }
        break;
      }
      default: return Status::Corruption("unknown field kind in spilled record");
    }
  }
  if (out->schema_ != schema) out->schema_ = std::move(schema);
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
