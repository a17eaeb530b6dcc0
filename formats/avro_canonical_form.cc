#include "formats/avro_canonical_form.h"

#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "common/str_cat.h"

namespace sfb {
namespace {

using json = nlohmann::json;

const std::set<std::string>& Primitives() {
  static const std::set<std::string> kPrimitives = {"null", "boolean", "int", "long", "float", "double", "bytes",
                                                    "string"};
  return kPrimitives;
}

class CanonicalWriter {
 public:
  Status Write(const json& s, const std::string& space, std::string* out) {
    if (s.is_string()) return WriteName(s.get<std::string>(), space, out);
    if (s.is_array()) {  // a union
      out->push_back('[');
      for (size_t i = 0; i < s.size(); ++i) {
        if (i) out->push_back(',');
        SFB_RETURN_IF_ERROR(Write(s[i], space, out));
      }
      out->push_back(']');
      return Status::OK();
    }
    if (!s.is_object() || !s.contains("type")) {
      return Status::InvalidSpec(StrCat("not an Avro schema: ", s.dump()));
    }
    const json& type = s["type"];
    if (!type.is_string()) return Write(type, space, out);  // {"type": {...}} or {"type": [...]}
    const std::string t = type.get<std::string>();
    if (Primitives().count(t)) return WriteName(t, space, out);  // attributes (logicalType...) dropped
    if (t == "array" || t == "map") {
      const char* key = t == "array" ? "items" : "values";
      if (!s.contains(key)) return Status::InvalidSpec(StrCat("an Avro ", t, " without ", key));
      out->append(StrCat("{\"type\":\"", t, "\",\"", key, "\":"));
      SFB_RETURN_IF_ERROR(Write(s[key], space, out));
      out->push_back('}');
      return Status::OK();
    }
    if (t != "record" && t != "error" && t != "enum" && t != "fixed") return WriteName(t, space, out);
    if (!s.contains("name") || !s["name"].is_string()) {
      return Status::InvalidSpec(StrCat("an Avro ", t, " without a name"));
    }
    std::string name = s["name"].get<std::string>();
    std::string inner = space;
    if (name.find('.') == std::string::npos) {
      if (s.contains("namespace") && s["namespace"].is_string()) inner = s["namespace"].get<std::string>();
      if (!inner.empty()) name = StrCat(inner, ".", name);
    } else {
      inner = name.substr(0, name.rfind('.'));
    }
    out->append(StrCat("{\"name\":", json(name).dump(), ",\"type\":\"", t == "error" ? "record" : t, "\""));
    if (t == "enum") {
      out->append(StrCat(",\"symbols\":", s.value("symbols", json::array()).dump()));
    } else if (t == "fixed") {
      if (!s.contains("size") || !s["size"].is_number_integer()) return Status::InvalidSpec("an Avro fixed without size");
      out->append(StrCat(",\"size\":", std::to_string(s["size"].get<int64_t>())));
    } else {
      out->append(",\"fields\":[");
      const json fields = s.value("fields", json::array());
      for (size_t i = 0; i < fields.size(); ++i) {
        const json& f = fields[i];
        if (!f.is_object() || !f.contains("name") || !f.contains("type")) {
          return Status::InvalidSpec(StrCat("a field of Avro record ", name, " without name or type"));
        }
        out->append(StrCat(i ? "," : "", "{\"name\":", f["name"].dump(), ",\"type\":"));
        SFB_RETURN_IF_ERROR(Write(f["type"], inner, out));
        out->push_back('}');
      }
      out->push_back(']');
    }
    out->push_back('}');
    return Status::OK();
  }

 private:
  // A type named by a string: a primitive, or a named type (made full with the enclosing namespace).
  Status WriteName(const std::string& name, const std::string& space, std::string* out) {
    std::string full = name;
    if (!Primitives().count(name) && name.find('.') == std::string::npos && !space.empty()) {
      full = StrCat(space, ".", name);
    }
    out->append(json(full).dump());
    return Status::OK();
  }
};

std::array<uint64_t, 256> FingerprintTable() {
  constexpr uint64_t kEmpty = 0xc15d213aa4d7a795ULL;  // the specification's EMPTY
  std::array<uint64_t, 256> table{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t fp = i;
    for (int j = 0; j < 8; ++j) fp = (fp >> 1) ^ (kEmpty & (0 - (fp & 1)));
    table[i] = fp;
  }
  return table;
}

}  // namespace

Result<std::string> AvroParsingCanonicalForm(std::string_view schema_json) {
  json j;
  try {
    j = json::parse(schema_json);
  } catch (const json::exception& e) {
    return Status::InvalidSpec(StrCat("the Avro schema is not JSON: ", e.what()));
  }
  std::string out;
  CanonicalWriter writer;
  SFB_RETURN_IF_ERROR(writer.Write(j, "", &out));
  return out;
}

uint64_t AvroFingerprint64(std::string_view bytes) {
  static const std::array<uint64_t, 256> kTable = FingerprintTable();
  uint64_t fp = 0xc15d213aa4d7a795ULL;
  for (unsigned char b : bytes) fp = (fp >> 8) ^ kTable[(fp ^ b) & 0xff];
  return fp;
}

}  // namespace sfb
