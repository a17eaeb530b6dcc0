// StateValue and the statefun SDK's typed-value encodings.
//
// A StateValue is the in-memory value of one function state while it is being bootstrapped. Its
// representation follows the state's type: int32/int64/float/double/bool for the numeric SDK types and the
// embedded Java boxes, std::string for strings, bytes, JSON text and serialized protobuf.
//
// Remote functions store, per state, the bytes their SDK produced (TypedValue.value). For the SDK's
// built-in types (`io.statefun.types/...`) those bytes are a one-field protobuf wrapper message; all
// SDKs (Java hand-written, Python/Go generated) produce the minimal proto3 form below, so we do too:
//
//   io.statefun.types/int     IntWrapper     field 1 sfixed32: 0D + 4 bytes little-endian; 0 -> empty
//   io.statefun.types/long    LongWrapper    field 1 sfixed64: 09 + 8 bytes little-endian; 0 -> empty
//   io.statefun.types/float   FloatWrapper   field 1 float:    0D + IEEE-754 LE;  +0.0 -> empty
//   io.statefun.types/double  DoubleWrapper  field 1 double:   09 + IEEE-754 LE;  +0.0 -> empty
//   io.statefun.types/bool    BooleanWrapper field 1 bool:     08 01; false -> empty
//   io.statefun.types/string  StringWrapper  field 1 string:   0A varint(len) UTF-8; "" -> empty
//
// (statefun-sdk-protos types.proto; statefun-sdk-java Types.) Decoding accepts any valid proto3 encoding
// of these messages, as the SDKs do.

#ifndef SFB_SAVEPOINT_TYPED_VALUE_H_
#define SFB_SAVEPOINT_TYPED_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace sfb {

using StateValue = std::variant<int32_t, int64_t, float, double, bool, std::string>;

// The alternative of StateValue a type uses; the order matches StateValue's.
enum class ValueRepr { kInt32 = 0, kInt64, kFloat, kDouble, kBool, kBytes };

const char* ValueReprName(ValueRepr repr);
inline ValueRepr ReprOf(const StateValue& v) { return static_cast<ValueRepr>(v.index()); }

inline constexpr std::string_view kStatefunTypesNamespace = "io.statefun.types";

// True for io.statefun.types/{int,long,float,double,bool,string}; sets *repr.
bool IsStatefunBuiltinType(std::string_view type_name, ValueRepr* repr);

// The SDK bytes of a built-in typed value (the variant alternative selects the wrapper).
std::string EncodeStatefunBuiltin(const StateValue& v);
Status DecodeStatefunBuiltin(ValueRepr repr, std::string_view bytes, StateValue* out);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_TYPED_VALUE_H_
