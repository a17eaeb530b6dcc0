// StateType, Expiration, StateSpec: a state as a bootstrap function declares it, without its C++ type.
//
// What the writer needs to know of a declared state: its name, its kind and Flink type name, the codec
// of its bytes, the representation of its value (savepoint/typed_value.h) and its expiration. The
// typed handles users write with (ValueType<T>, PersistedValue<T>, the types:: factories) are in
// api/types.h and api/state_bootstrap_function.h, which build on these.

#ifndef SFB_SAVEPOINT_STATE_SPEC_H_
#define SFB_SAVEPOINT_STATE_SPEC_H_

#include <cstdint>
#include <string>

#include "savepoint/state_descriptor.h"
#include "savepoint/typed_value.h"

namespace sfb {

// A state type without the C++ representation: what the writer needs.
struct StateType {
  StateKind kind = StateKind::kRemote;
  std::string type_name;
  Codec codec = Codec::kBuiltin;
  ValueRepr repr = ValueRepr::kBytes;
};

// Statefun's state expiration: after the last write, or after the last invocation (read or write).
struct Expiration {
  TtlMode mode = TtlMode::kNone;
  int64_t millis = 0;
  static Expiration None() { return {}; }
  static Expiration AfterWrite(int64_t millis) { return {TtlMode::kAfterWrite, millis}; }
  static Expiration AfterInvoke(int64_t millis) { return {TtlMode::kAfterInvoke, millis}; }
};

// A state declared by a function: name, type, expiration.
struct StateSpec {
  std::string name;
  StateType type;
  Expiration expiration;
};

}  // namespace sfb

#endif  // SFB_SAVEPOINT_STATE_SPEC_H_
