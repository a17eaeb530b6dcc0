// Value types of function state, mirroring the statefun SDKs' ValueSpec types.
//
//   Remote functions (any SDK):          Embedded Java functions (statefun's PersistedValue<T>):
//     types::Int()    -> int32_t           types::JavaLong()    -> int64_t      (java.lang.Long)
//     types::Long()   -> int64_t           types::JavaInteger() -> int32_t      (java.lang.Integer)
//     types::Float()  -> float             types::JavaString()  -> std::string  (java.lang.String)
//     types::Double() -> double            types::JavaBoolean() -> bool         (java.lang.Boolean)
//     types::Bool()   -> bool              types::JavaDouble()  -> double       (java.lang.Double)
//     types::String() -> std::string       types::JavaBytes()   -> std::string  (byte[])
//     types::Json("ns/Type")     -> std::string holding JSON text
//     types::Raw("ns/Type")      -> std::string holding the bytes as the SDK will see them
//     types::Protobuf("ns/Type") -> std::string holding a serialized protobuf message
//
// The typename (and whether the state has an Expiration) must equal what the application's ValueSpec
// declares: Flink refuses to restore a state whose serializer changed.

// StateType and Expiration themselves are in savepoint/state_spec.h (the writer uses them too).

#ifndef SFB_API_TYPES_H_
#define SFB_API_TYPES_H_

#include <cstdint>
#include <string>

#include "savepoint/state_spec.h"

namespace sfb {

template <typename T>
struct ValueType {
  StateType type;
};

namespace types {
ValueType<int32_t> Int();
ValueType<int64_t> Long();
ValueType<float> Float();
ValueType<double> Double();
ValueType<bool> Bool();
ValueType<std::string> String();
ValueType<std::string> Json(std::string type_name);
ValueType<std::string> Raw(std::string type_name);
ValueType<std::string> Protobuf(std::string type_name);
ValueType<int64_t> JavaLong();
ValueType<int32_t> JavaInteger();
ValueType<std::string> JavaString();
ValueType<bool> JavaBoolean();
ValueType<double> JavaDouble();
ValueType<std::string> JavaBytes();
}  // namespace types

}  // namespace sfb

#endif  // SFB_API_TYPES_H_
