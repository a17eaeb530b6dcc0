#include "api/types.h"

namespace sfb::types {
namespace {
template <typename T>
ValueType<T> Remote(std::string name, Codec codec, ValueRepr repr) {
  return ValueType<T>{StateType{StateKind::kRemote, std::move(name), codec, repr}};
}
template <typename T>
ValueType<T> Embedded(std::string java_name, ValueRepr repr) {
  return ValueType<T>{StateType{StateKind::kEmbedded, std::move(java_name), Codec::kBuiltin, repr}};
}
}  // namespace

ValueType<int32_t> Int() { return Remote<int32_t>("io.statefun.types/int", Codec::kBuiltin, ValueRepr::kInt32); }
ValueType<int64_t> Long() { return Remote<int64_t>("io.statefun.types/long", Codec::kBuiltin, ValueRepr::kInt64); }
ValueType<float> Float() { return Remote<float>("io.statefun.types/float", Codec::kBuiltin, ValueRepr::kFloat); }
ValueType<double> Double() { return Remote<double>("io.statefun.types/double", Codec::kBuiltin, ValueRepr::kDouble); }
ValueType<bool> Bool() { return Remote<bool>("io.statefun.types/bool", Codec::kBuiltin, ValueRepr::kBool); }
ValueType<std::string> String() {
  return Remote<std::string>("io.statefun.types/string", Codec::kBuiltin, ValueRepr::kBytes);
}
ValueType<std::string> Json(std::string n) { return Remote<std::string>(std::move(n), Codec::kJson, ValueRepr::kBytes); }
ValueType<std::string> Raw(std::string n) { return Remote<std::string>(std::move(n), Codec::kRaw, ValueRepr::kBytes); }
ValueType<std::string> Protobuf(std::string n) {
  return Remote<std::string>(std::move(n), Codec::kProtobuf, ValueRepr::kBytes);
}
ValueType<int64_t> JavaLong() { return Embedded<int64_t>("java.lang.Long", ValueRepr::kInt64); }
ValueType<int32_t> JavaInteger() { return Embedded<int32_t>("java.lang.Integer", ValueRepr::kInt32); }
ValueType<std::string> JavaString() { return Embedded<std::string>("java.lang.String", ValueRepr::kBytes); }
ValueType<bool> JavaBoolean() { return Embedded<bool>("java.lang.Boolean", ValueRepr::kBool); }
ValueType<double> JavaDouble() { return Embedded<double>("java.lang.Double", ValueRepr::kDouble); }
ValueType<std::string> JavaBytes() { return Embedded<std::string>("byte[]", ValueRepr::kBytes); }

}  // namespace sfb::types
