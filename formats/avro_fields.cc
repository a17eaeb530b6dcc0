#include "formats/avro_fields.h"

#include <avro.h>

#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "common/str_cat.h"
#include "formats/avro_binary.h"
#include "formats/avro_schema_node.h"
#include "savepoint/entry_json.h"

namespace sfb {

namespace {

using Node = AvroSchema::Node;

// Compiles Avro schema JSON into Nodes, resolving named-type references by full name.
class SchemaCompiler {
 public:
  explicit SchemaCompiler(std::vector<std::unique_ptr<Node>>* nodes) : nodes_(nodes) {}

  Result<const Node*> Compile(const nlohmann::json& j, const std::string& ns) {
    if (j.is_string()) return Named(j.get<std::string>(), ns);
    if (j.is_array()) {
      Node* n = New(Node::Type::kUnion, "union");
      for (const auto& branch : j) {
        SFB_ASSIGN_OR_RETURN(const Node* b, Compile(branch, ns));
        n->children.push_back(b);
      }
      return n;
    }
    if (!j.is_object() || !j.contains("type")) {
      return Status::InvalidSpec(StrCat("not an Avro type: ", j.dump()));
    }
    const nlohmann::json& t = j["type"];
    if (!t.is_string()) return Compile(t, ns);  // {"type": {...}} or {"type": [...]}
    const std::string type = t.get<std::string>();
    Node* n = nullptr;
    if (type == "record" || type == "error" || type == "enum" || type == "fixed") {
      if (!j.contains("name") || !j["name"].is_string()) {
        return Status::InvalidSpec(StrCat("an Avro ", type, " has no name"));
      }
      std::string name = j["name"].get<std::string>();
      std::string inner_ns = ns;
      if (j.contains("namespace") && j["namespace"].is_string()) inner_ns = j["namespace"].get<std::string>();
      if (name.find('.') != std::string::npos) {
        inner_ns = name.substr(0, name.rfind('.'));
      } else if (!inner_ns.empty()) {
        name = StrCat(inner_ns, ".", name);
      }
      n = New(type == "enum" ? Node::Type::kEnum : type == "fixed" ? Node::Type::kFixed : Node::Type::kRecord, name);
      named_[name] = n;  // before the fields: a record may refer to itself
      if (j.contains("aliases") && j["aliases"].is_array()) {
        for (const auto& a : j["aliases"]) {
          if (!a.is_string()) continue;
          std::string alias = a.get<std::string>();
          if (alias.find('.') == std::string::npos && !inner_ns.empty()) alias = StrCat(inner_ns, ".", alias);
          n->aliases.push_back(std::move(alias));
        }
      }
      if (n->type == Node::Type::kRecord) {
        if (!j.contains("fields") || !j["fields"].is_array()) {
          return Status::InvalidSpec(StrCat("Avro record ", name, " has no fields list"));
        }
        for (const auto& f : j["fields"]) {
          if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("type")) {
            return Status::InvalidSpec(StrCat("a field of Avro record ", name, " has no name or type"));
          }
          SFB_ASSIGN_OR_RETURN(const Node* child, Compile(f["type"], inner_ns));
          n->field_names.push_back(f["name"].get<std::string>());
          n->children.push_back(child);
          std::vector<std::string> field_aliases;
          if (f.contains("aliases") && f["aliases"].is_array()) {
            for (const auto& a : f["aliases"]) {
              if (a.is_string()) field_aliases.push_back(a.get<std::string>());
            }
          }
          n->field_aliases.push_back(std::move(field_aliases));
          n->field_defaults.push_back(f.contains("default") ? std::optional<nlohmann::json>(f["default"])
                                                            : std::nullopt);
        }
      } else if (n->type == Node::Type::kEnum) {
        if (j.contains("symbols") && j["symbols"].is_array()) {
          for (const auto& s : j["symbols"]) n->symbols.push_back(s.is_string() ? s.get<std::string>() : s.dump());
        }
        if (j.contains("default") && j["default"].is_string()) n->enum_default = j["default"].get<std::string>();
      } else if (n->type == Node::Type::kFixed) {
        if (!j.contains("size") || !j["size"].is_number_unsigned()) {
          return Status::InvalidSpec(StrCat("Avro fixed ", name, " has no size"));
        }
        n->size = j["size"].get<size_t>();
      }
    } else if (type == "array" || type == "map") {
      const char* key = type == "array" ? "items" : "values";
      if (!j.contains(key)) return Status::InvalidSpec(StrCat("an Avro ", type, " has no ", key));
      n = New(type == "array" ? Node::Type::kArray : Node::Type::kMap, type);
      SFB_ASSIGN_OR_RETURN(const Node* child, Compile(j[key], ns));
      n->children.push_back(child);
    } else {
      SFB_ASSIGN_OR_RETURN(const Node* primitive, Named(type, ns));
      if (!j.contains("logicalType")) return primitive;
      n = New(primitive->type, primitive->name);
      n->children = primitive->children;
      n->size = primitive->size;
    }
    if (j.contains("logicalType") && j["logicalType"].is_string()) {
      const std::string logical = j["logicalType"].get<std::string>();
      if (logical == "decimal" && (n->type == Node::Type::kBytes || n->type == Node::Type::kFixed)) {
        n->logical = Node::Logical::kDecimal;
        if (j.contains("scale") && j["scale"].is_number_integer()) n->scale = j["scale"].get<int>();
      } else if (logical == "date" && n->type == Node::Type::kInt) {
        n->logical = Node::Logical::kDate;
      } else if (logical == "uuid" && n->type == Node::Type::kString) {
        n->logical = Node::Logical::kUuid;
      } else if (logical.rfind("timestamp-", 0) == 0 || logical.rfind("local-timestamp-", 0) == 0 ||
                 logical.rfind("time-", 0) == 0) {
        n->logical = Node::Logical::kTimestamp;  // the number as it is
      } else {
        n->logical = Node::Logical::kOther;  // unknown logical types read as their underlying type (Avro spec)
      }
    }
    return n;
  }

 private:
  Node* New(Node::Type type, std::string name) {
    nodes_->push_back(std::make_unique<Node>());
    Node* n = nodes_->back().get();
    n->type = type;
    n->name = std::move(name);
    return n;
  }

  Result<const Node*> Named(const std::string& name, const std::string& ns) {
    static const std::map<std::string, Node::Type> kPrimitives = {
        {"null", Node::Type::kNull},     {"boolean", Node::Type::kBoolean}, {"int", Node::Type::kInt},
        {"long", Node::Type::kLong},     {"float", Node::Type::kFloat},     {"double", Node::Type::kDouble},
        {"bytes", Node::Type::kBytes},   {"string", Node::Type::kString}};
    if (auto p = kPrimitives.find(name); p != kPrimitives.end()) {
      auto& cached = primitives_[name];
      if (!cached) cached = New(p->second, name);
      return static_cast<const Node*>(cached);
    }
    if (auto it = named_.find(name); it != named_.end()) return static_cast<const Node*>(it->second);
    if (!ns.empty()) {
      if (auto it = named_.find(StrCat(ns, ".", name)); it != named_.end()) return static_cast<const Node*>(it->second);
    }
    return Status::InvalidSpec(StrCat("Avro type '", name, "' is not defined (define it before it is used)"));
  }

  std::vector<std::unique_ptr<Node>>* nodes_;
  std::map<std::string, Node*> named_;
  std::map<std::string, Node*> primitives_;
};

// Unscaled big-endian two's-complement bytes -> the decimal's text with `scale` digits after the point.
std::string DecimalText(std::string_view bytes, int scale) {
  std::vector<uint8_t> magnitude(bytes.begin(), bytes.end());
  const bool negative = !magnitude.empty() && (magnitude[0] & 0x80) != 0;
  if (negative) {  // two's complement negation
    for (auto& b : magnitude) b = static_cast<uint8_t>(~b);
    for (size_t i = magnitude.size(); i-- > 0;) {
      if (++magnitude[i] != 0) break;
    }
  }
  std::string digits;
  bool nonzero = true;
  while (nonzero) {
    unsigned remainder = 0;
    nonzero = false;
    for (auto& b : magnitude) {
      const unsigned cur = (remainder << 8) | b;
      b = static_cast<uint8_t>(cur / 10);
      remainder = cur % 10;
      if (b != 0) nonzero = true;
    }
    digits.push_back(static_cast<char>('0' + remainder));
  }
  while (digits.size() <= static_cast<size_t>(std::max(scale, 0))) digits.push_back('0');
  std::string out;
  if (negative) out.push_back('-');
  for (size_t i = digits.size(); i-- > 0;) {
    out.push_back(digits[i]);
    if (scale > 0 && i == static_cast<size_t>(scale)) out.push_back('.');
  }
  if (scale < 0) out.append(static_cast<size_t>(-scale), '0');
  return out;
}

// Days since 1970-01-01 -> "YYYY-MM-DD" (proleptic Gregorian calendar).
std::string DateText(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[72];  // room for any int64 year, as the compiler checks
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld", static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day));
  return buf;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendJsonDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  out->append(buf);
}

Status DecodeError(const char* what) { return Status::BadRecord(StrCat("Avro value: ", what, ": ", avro_strerror())); }

std::string_view StringOf(avro_value_t* v) {
  const char* s = nullptr;
  size_t size = 0;
  avro_value_get_string(v, &s, &size);
  return std::string_view(s, size > 0 ? size - 1 : 0);  // Avro C counts the terminating NUL
}

std::string_view BytesOf(avro_value_t* v, const Node* n) {
  const void* b = nullptr;
  size_t size = 0;
  if (n->type == Node::Type::kFixed) avro_value_get_fixed(v, &b, &size);
  else avro_value_get_bytes(v, &b, &size);
  return std::string_view(static_cast<const char*>(b), size);
}

// The JSON text of `v` (of type `n`), appended to *out.
Status AppendJson(avro_value_t* v, const Node* n, std::string* out) {
  switch (n->type) {
    case Node::Type::kNull: out->append("null"); return Status::OK();
    case Node::Type::kBoolean: {
      int b = 0;
      avro_value_get_boolean(v, &b);
      out->append(b ? "true" : "false");
      return Status::OK();
    }
    case Node::Type::kInt: {
      int32_t i = 0;
      avro_value_get_int(v, &i);
      if (n->logical == Node::Logical::kDate) AppendJsonString(DateText(i), out);
      else out->append(std::to_string(i));
      return Status::OK();
    }
    case Node::Type::kLong: {
      int64_t i = 0;
      avro_value_get_long(v, &i);
      out->append(std::to_string(i));
      return Status::OK();
    }
    case Node::Type::kFloat: {
      float f = 0;
      avro_value_get_float(v, &f);
      AppendJsonDouble(static_cast<double>(f), out);
      return Status::OK();
    }
    case Node::Type::kDouble: {
      double d = 0;
      avro_value_get_double(v, &d);
      AppendJsonDouble(d, out);
      return Status::OK();
    }
    case Node::Type::kString: AppendJsonString(StringOf(v), out); return Status::OK();
    case Node::Type::kBytes:
    case Node::Type::kFixed:
      if (n->logical == Node::Logical::kDecimal) AppendJsonString(DecimalText(BytesOf(v, n), n->scale), out);
      else AppendJsonString(Base64Encode(BytesOf(v, n)), out);
      return Status::OK();
    case Node::Type::kEnum: {
      int symbol = 0;
      avro_value_get_enum(v, &symbol);
      if (symbol < 0 || static_cast<size_t>(symbol) >= n->symbols.size()) {
        return Status::BadRecord("Avro enum symbol out of range");
      }
      AppendJsonString(n->symbols[static_cast<size_t>(symbol)], out);
      return Status::OK();
    }
    case Node::Type::kRecord: {
      out->push_back('{');
      for (size_t i = 0; i < n->children.size(); ++i) {
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, nullptr) != 0) return DecodeError("record field");
        if (i > 0) out->push_back(',');
        AppendJsonString(n->field_names[i], out);
        out->push_back(':');
        SFB_RETURN_IF_ERROR(AppendJson(&child, n->children[i], out));
      }
      out->push_back('}');
      return Status::OK();
    }
    case Node::Type::kArray:
    case Node::Type::kMap: {
      const bool map = n->type == Node::Type::kMap;
      size_t size = 0;
      avro_value_get_size(v, &size);
      out->push_back(map ? '{' : '[');
      for (size_t i = 0; i < size; ++i) {
        avro_value_t child;
        const char* key = nullptr;
        if (avro_value_get_by_index(v, i, &child, &key) != 0) return DecodeError(map ? "map entry" : "array item");
        if (i > 0) out->push_back(',');
        if (map) {
          AppendJsonString(key ? key : "", out);
          out->push_back(':');
        }
        SFB_RETURN_IF_ERROR(AppendJson(&child, n->children[0], out));
      }
      out->push_back(map ? '}' : ']');
      return Status::OK();
    }
    case Node::Type::kUnion: {
      int branch = 0;
      avro_value_t child;
      if (avro_value_get_discriminant(v, &branch) != 0 || avro_value_get_current_branch(v, &child) != 0 || branch < 0 ||
          static_cast<size_t>(branch) >= n->children.size()) {
        return Status::BadRecord("Avro union branch out of range");
      }
      return AppendJson(&child, n->children[static_cast<size_t>(branch)], out);
    }
  }
  return Status::Internal("unknown Avro type");
}

// Adds the fields of `v` (of type `n`) named *path (and below) to `sink`.
Status AddFields(avro_value_t* v, const Node* n, std::string* path, FieldSink* sink, std::string* scratch) {
  switch (n->type) {
    case Node::Type::kNull: sink->Add(*path, Value::Null()); return Status::OK();
    case Node::Type::kBoolean: {
      int b = 0;
      avro_value_get_boolean(v, &b);
      sink->Add(*path, Value::Bool(b != 0));
      return Status::OK();
    }
    case Node::Type::kInt: {
      int32_t i = 0;
      avro_value_get_int(v, &i);
      sink->Add(*path, n->logical == Node::Logical::kDate ? Value::Text(DateText(i)) : Value::Int(i));
      return Status::OK();
    }
    case Node::Type::kLong: {
      int64_t i = 0;
      avro_value_get_long(v, &i);
      sink->Add(*path, Value::Int(i));
      return Status::OK();
    }
    case Node::Type::kFloat: {
      float f = 0;
      avro_value_get_float(v, &f);
      sink->Add(*path, Value::Double(static_cast<double>(f)));
      return Status::OK();
    }
    case Node::Type::kDouble: {
      double d = 0;
      avro_value_get_double(v, &d);
      sink->Add(*path, Value::Double(d));
      return Status::OK();
    }
    case Node::Type::kString: sink->Add(*path, Value::Text(std::string(StringOf(v)))); return Status::OK();
    case Node::Type::kBytes:
    case Node::Type::kFixed:
      if (n->logical == Node::Logical::kDecimal) sink->Add(*path, Value::Text(DecimalText(BytesOf(v, n), n->scale)));
      else sink->Add(*path, Value::Bytes(std::string(BytesOf(v, n))));
      return Status::OK();
    case Node::Type::kEnum: {
      int symbol = 0;
      avro_value_get_enum(v, &symbol);
      if (symbol < 0 || static_cast<size_t>(symbol) >= n->symbols.size()) {
        return Status::BadRecord("Avro enum symbol out of range");
      }
      sink->Add(*path, Value::Text(n->symbols[static_cast<size_t>(symbol)]));
      return Status::OK();
    }
    case Node::Type::kRecord: {
      const size_t mark = path->size();
      for (size_t i = 0; i < n->children.size(); ++i) {
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, nullptr) != 0) return DecodeError("record field");
        path->push_back('.');
        path->append(n->field_names[i]);
        SFB_RETURN_IF_ERROR(AddFields(&child, n->children[i], path, sink, scratch));
        path->resize(mark);
      }
      return Status::OK();
    }
    case Node::Type::kArray:
    case Node::Type::kMap:
      scratch->clear();
      SFB_RETURN_IF_ERROR(AppendJson(v, n, scratch));
      sink->Add(*path, Value::Text(*scratch));
      return Status::OK();
    case Node::Type::kUnion: {
      int branch = 0;
      avro_value_t child;
      if (avro_value_get_discriminant(v, &branch) != 0 || avro_value_get_current_branch(v, &child) != 0 || branch < 0 ||
          static_cast<size_t>(branch) >= n->children.size()) {
        return Status::BadRecord("Avro union branch out of range");
      }
      return AddFields(&child, n->children[static_cast<size_t>(branch)], path, sink, scratch);
    }
  }
  return Status::Internal("unknown Avro type");
}

}  // namespace

AvroSchema::~AvroSchema() {
  if (avro_) avro_schema_decref(static_cast<avro_schema_t>(avro_));
}

bool AvroSchema::is_record() const { return root_->type == Node::Type::kRecord; }
const std::string& AvroSchema::name() const { return root_->name; }

Result<std::shared_ptr<const AvroSchema>> AvroSchema::Parse(std::string_view json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidSpec(StrCat("the Avro schema is not JSON: ", e.what()));
  }
  std::shared_ptr<AvroSchema> schema(new AvroSchema());
  SchemaCompiler compiler(&schema->nodes_);
  SFB_ASSIGN_OR_RETURN(schema->root_, compiler.Compile(j, ""));
  avro_schema_t avro = nullptr;
  if (avro_schema_from_json_length(json_text.data(), json_text.size(), &avro) != 0) {
    return Status::InvalidSpec(StrCat("the Avro schema is not valid: ", avro_strerror()));
  }
  schema->avro_ = avro;
  return std::shared_ptr<const AvroSchema>(std::move(schema));
}

struct AvroDatumReader::State {
  avro_value_t value;
  avro_reader_t reader = nullptr;
  std::string scratch;
};

AvroDatumReader::AvroDatumReader(std::shared_ptr<const AvroSchema> schema)
    : schema_(std::move(schema)), state_(std::make_unique<State>()) {
  avro_value_iface_t* iface = avro_generic_class_from_schema(static_cast<avro_schema_t>(schema_->avro_schema()));
  iface_ = iface;
  avro_generic_value_new(iface, &state_->value);
  static const char kEmpty[1] = {0};
  state_->reader = avro_reader_memory(kEmpty, 0);
}

AvroDatumReader::~AvroDatumReader() {
  avro_reader_free(state_->reader);
  avro_value_decref(&state_->value);
  avro_value_iface_t* iface = static_cast<avro_value_iface_t*>(iface_);
  avro_value_iface_decref(iface);
}

Status AvroDatumReader::Read(std::string_view bytes, std::string_view prefix, FieldSink* sink, std::string* json) {
  // Avro C allocates what a length says before it reads the bytes behind it: check them all first.
  AvroBinaryInput bounded(bytes);
  path_ = schema_->name();
  Status walked = SkipAvroValue(schema_->root(), &bounded, &path_);
  if (!walked.ok()) {
    return Status::BadRecord(StrCat("the bytes are not an Avro datum of ", schema_->name(), ": ", walked.message()));
  }
  if (bounded.left() > 0) {
    return Status::BadRecord(StrCat("bytes are left over after an Avro datum of ", schema_->name(), " (",
                                    std::to_string(bounded.left()), " of ", std::to_string(bytes.size()), ")"));
  }
  avro_value_reset(&state_->value);
  avro_reader_memory_set_source(state_->reader, bytes.data(), static_cast<int64_t>(bytes.size()));
  if (avro_value_read(state_->reader, &state_->value) != 0) {
    return Status::BadRecord(StrCat("the bytes are not an Avro datum of ", schema_->name(), ": ", avro_strerror()));
  }
  // Avro C's memory reader has no position to ask for: a byte that can still be read is one too many.
  char extra;
  if (avro_read(state_->reader, &extra, 1) == 0) {
    return Status::BadRecord(StrCat("bytes are left over after an Avro datum of ", schema_->name()));
  }
  json->clear();
  SFB_RETURN_IF_ERROR(AppendJson(&state_->value, schema_->root(), json));
  if (schema_->is_record()) sink->Add(prefix, Value::Text(*json));
  path_.assign(prefix);
  return AddFields(&state_->value, schema_->root(), &path_, sink, &state_->scratch);
}

}  // namespace sfb
