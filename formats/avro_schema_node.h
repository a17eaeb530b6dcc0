// AvroSchema::Node: one type of a compiled Avro schema (formats/avro_fields.h), as the readers in formats/
// walk it. Internal to formats/: the decoder (avro_fields.cc), the bounded binary walk (avro_binary.cc) and
// writer -> reader resolution (avro_resolution.cc) share it; everything else uses AvroSchema.
//
// Nodes belong to their AvroSchema and are immutable once it is compiled. A named type refers to itself
// through `children` (recursive records), so walks over Nodes follow the data, not the tree.

#ifndef SFB_FORMATS_AVRO_SCHEMA_NODE_H_
#define SFB_FORMATS_AVRO_SCHEMA_NODE_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/avro_fields.h"

namespace sfb {

struct AvroSchema::Node {
  enum class Type { kNull, kBoolean, kInt, kLong, kFloat, kDouble, kBytes, kString, kRecord, kEnum, kArray, kMap,
                    kUnion, kFixed };
  enum class Logical { kNone, kDecimal, kDate, kTimestamp, kUuid, kOther };
  Type type = Type::kNull;
  Logical logical = Logical::kNone;
  int scale = 0;                          // decimal
  size_t size = 0;                        // fixed: its size in bytes
  std::string name;                       // named types: the full name; others: the type's name
  std::vector<std::string> aliases;       // named types: their aliases, as full names
  std::vector<std::string> field_names;   // record
  std::vector<std::vector<std::string>> field_aliases;       // record: each field's aliases
  std::vector<std::optional<nlohmann::json>> field_defaults;  // record: each field's default, if it has one
  std::vector<const Node*> children;      // record: fields; array/map: the items/values; union: branches
  std::vector<std::string> symbols;       // enum
  std::optional<std::string> enum_default;  // enum: the symbol a reader uses for symbols it lacks
};

}  // namespace sfb

#endif  // SFB_FORMATS_AVRO_SCHEMA_NODE_H_
