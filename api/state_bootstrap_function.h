// StateBootstrapFunction and PersistedValue<T>: how bootstrap logic reads and writes an address's state.
//
// Mirrors statefun's StateBootstrapFunction. One instance serves many addresses of one function type,
// one after another (never concurrently): for each address the runtime clears every PersistedValue,
// calls Bootstrap() once per record routed to that address, in the defined order (sources in the
// order they were registered, then each source's own order: file position, table key, partition and
// offset), and finally stores the values that are set. So Bootstrap() sees exactly the state built by
// the earlier records of the same address, as statefun's bootstrap operator does.
//
//   class Greeter : public sfb::StateBootstrapFunction {
//     sfb::PersistedValue<int32_t> seen_{this, "seen_count", sfb::types::Int()};
//     sfb::Status Bootstrap(sfb::Context& ctx, const sfb::Record& r) override {
//       seen_.Set(seen_.GetOrDefault(0) + 1);
//       return sfb::Status::OK();
//     }
//   };
//
// Returning a non-OK status fails the run; the runtime adds the address and the record's position.

// The interface itself (Address, Context, StateBootstrapFunction) is in writer/bootstrap_function.h,
// so the builder that drives it needs nothing from api/; this header adds the typed handles.

#ifndef SFB_API_STATE_BOOTSTRAP_FUNCTION_H_
#define SFB_API_STATE_BOOTSTRAP_FUNCTION_H_

#include <optional>
#include <string>
#include <vector>

#include "api/record.h"
#include "api/types.h"
#include "common/status.h"
#include "savepoint/typed_value.h"
#include "writer/bootstrap_function.h"

namespace sfb {

// A typed handle on one state of the current address. T is the C++ type of the ValueType.
template <typename T>
class PersistedValue {
 public:
  PersistedValue(StateBootstrapFunction* owner, std::string name, ValueType<T> type,
                 Expiration expiration = Expiration::None())
      : owner_(owner), slot_(owner->DeclareState(StateSpec{std::move(name), std::move(type.type), expiration})) {}

  std::optional<T> Get() const {
    const auto& v = owner_->slots()[slot_].value;
    if (!v) return std::nullopt;
    return std::get<T>(*v);
  }
  T GetOrDefault(T fallback) const {
    auto v = Get();
    return v ? *v : fallback;
  }
  void Set(T value) { owner_->mutable_slots()[slot_].value = StateValue(std::move(value)); }
  void Clear() { owner_->mutable_slots()[slot_].value.reset(); }

 private:
  StateBootstrapFunction* owner_;
  size_t slot_;
};

}  // namespace sfb

#endif  // SFB_API_STATE_BOOTSTRAP_FUNCTION_H_
