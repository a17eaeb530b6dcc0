#include "savepoint/typed_value.h"

#include <bit>
#include <cstring>

#include "common/byte_writer.h"

namespace sfb {

const char* ValueReprName(ValueRepr repr) {
  switch (repr) {
    case ValueRepr::kInt32: return "int32";
    case ValueRepr::kInt64: return "int64";
    case ValueRepr::kFloat: return "float";
    case ValueRepr::kDouble: return "double";
    case ValueRepr::kBool: return "bool";
    case ValueRepr::kBytes: return "string/bytes";
  }
  return "?";
}

bool IsStatefunBuiltinType(std::string_view type_name, ValueRepr* repr) {
  const auto slash = type_name.find('/');
  if (slash == std::string_view::npos || type_name.substr(0, slash) != kStatefunTypesNamespace) return false;
  const std::string_view name = type_name.substr(slash + 1);
  if (name == "int") *repr = ValueRepr::kInt32;
  else if (name == "long") *repr = ValueRepr::kInt64;
  else if (name == "float") *repr = ValueRepr::kFloat;
  else if (name == "double") *repr = ValueRepr::kDouble;
  else if (name == "bool") *repr = ValueRepr::kBool;
  else if (name == "string") *repr = ValueRepr::kBytes;
  else return false;
  return true;
}

namespace {
void AppendVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

struct Encoder {
  std::string out;
  void operator()(int32_t v) {
    if (v == 0) return;
    out.push_back(0x0D);
    AppendLittleEndian32(&out, static_cast<uint32_t>(v));
  }
  void operator()(int64_t v) {
    if (v == 0) return;
    out.push_back(0x09);
    AppendLittleEndian64(&out, static_cast<uint64_t>(v));
  }
  void operator()(float v) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    if (bits == 0) return;  // proto3 omits +0.0 only
    out.push_back(0x0D);
    AppendLittleEndian32(&out, bits);
  }
  void operator()(double v) {
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    if (bits == 0) return;
    out.push_back(0x09);
    AppendLittleEndian64(&out, bits);
  }
  void operator()(bool v) {
    if (!v) return;
    out.push_back(0x08);
    out.push_back(0x01);
  }
  void operator()(const std::string& v) {
    if (v.empty()) return;
    out.push_back(0x0A);
    AppendVarint64(&out, v.size());
    out.append(v);
  }
};

Status ReadVarint64(std::string_view b, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= b.size()) return Status::Corruption("truncated varint in typed value");
    const uint8_t c = static_cast<uint8_t>(b[(*pos)++]);
    *v |= static_cast<uint64_t>(c & 0x7F) << shift;
    if ((c & 0x80) == 0) return Status::OK();
  }
  return Status::Corruption("overlong varint in typed value");
}

uint64_t LoadLe(std::string_view b, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[pos + i]);
  return v;
}
}  // namespace

std::string EncodeStatefunBuiltin(const StateValue& v) {
  Encoder e;
  std::visit(e, v);
  return std::move(e.out);
}

Status DecodeStatefunBuiltin(ValueRepr repr, std::string_view b, StateValue* out) {
  // proto3 defaults, then the last occurrence of field 1 wins; other fields are skipped.
  switch (repr) {
    case ValueRepr::kInt32: *out = int32_t{0}; break;
    case ValueRepr::kInt64: *out = int64_t{0}; break;
    case ValueRepr::kFloat: *out = 0.0f; break;
    case ValueRepr::kDouble: *out = 0.0; break;
    case ValueRepr::kBool: *out = false; break;
    case ValueRepr::kBytes: *out = std::string(); break;
  }
  size_t pos = 0;
  while (pos < b.size()) {
    uint64_t tag;
    SFB_RETURN_IF_ERROR(ReadVarint64(b, &pos, &tag));
    const uint64_t field = tag >> 3;
    const int wire = static_cast<int>(tag & 7);
    uint64_t n = 0;
    switch (wire) {
      case 0: {
        uint64_t v;
        SFB_RETURN_IF_ERROR(ReadVarint64(b, &pos, &v));
        if (field == 1 && repr == ValueRepr::kBool) *out = v != 0;
        else if (field == 1) return Status::Corruption("typed value has a varint where a fixed field was expected");
        continue;
      }
      case 1: n = 8; break;
      case 5: n = 4; break;
      case 2: SFB_RETURN_IF_ERROR(ReadVarint64(b, &pos, &n)); break;
      default: return Status::Corruption("unsupported protobuf wire type " + std::to_string(wire) + " in typed value");
    }
    if (n > b.size() - pos) return Status::Corruption("truncated field in typed value");
    if (field == 1) {
      if (repr == ValueRepr::kInt32 && wire == 5) *out = static_cast<int32_t>(LoadLe(b, pos, 4));
      else if (repr == ValueRepr::kFloat && wire == 5) *out = std::bit_cast<float>(static_cast<uint32_t>(LoadLe(b, pos, 4)));
      else if (repr == ValueRepr::kInt64 && wire == 1) *out = static_cast<int64_t>(LoadLe(b, pos, 8));
      else if (repr == ValueRepr::kDouble && wire == 1) *out = std::bit_cast<double>(LoadLe(b, pos, 8));
      else if (repr == ValueRepr::kBytes && wire == 2) *out = std::string(b.substr(pos, n));
      else return Status::Corruption("typed value field 1 has wire type " + std::to_string(wire) +
                                     ", which does not match a " + ValueReprName(repr));
    }
    pos += n;
  }
  return Status::OK();
}

}  // namespace sfb
