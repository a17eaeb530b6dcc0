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

#ifndef SFB_API_STATE_BOOTSTRAP_FUNCTION_H_
#define SFB_API_STATE_BOOTSTRAP_FUNCTION_H_

#include <optional>
#include <string>
#include <vector>

#include "api/record.h"
#include "api/types.h"
#include "common/status.h"
#include "savepoint/typed_value.h"

namespace sfb {

struct Address {
  std::string function_type;  // "namespace/name"
  std::string id;
};

// What a bootstrap function knows about the record in hand.
class Context {
 public:
  virtual ~Context() = default;
  virtual const Address& self() const = 0;
  // The name under which the record's source was registered.
  virtual const std::string& source() const = 0;
};

// A state declared by a function: name, type, expiration.
struct StateSpec {
  std::string name;
  StateType type;
  Expiration expiration;
};

class StateBootstrapFunction {
 public:
  StateBootstrapFunction() = default;
  virtual ~StateBootstrapFunction() = default;
  StateBootstrapFunction(const StateBootstrapFunction&) = delete;
  StateBootstrapFunction& operator=(const StateBootstrapFunction&) = delete;

  virtual Status Bootstrap(Context& context, const Record& record) = 0;

  // --- Used by PersistedValue and the runtime. ---
  struct Slot {
    StateSpec spec;
    std::optional<StateValue> value;
  };
  // Declares a state; returns its slot index. States are declared in construction order.
  size_t DeclareState(StateSpec spec);
  const std::vector<Slot>& slots() const { return slots_; }
  std::vector<Slot>& mutable_slots() { return slots_; }
  // Called by the runtime before the first record of each address.
  void ClearAllStates() {
    for (auto& s : slots_) s.value.reset();
    ++address_generation_;
  }
  // Changes with every ClearAllStates(): lets a function tell its per-address side data (an exact
  // running sum, say) from the previous address's.
  uint64_t address_generation() const { return address_generation_; }

 private:
  std::vector<Slot> slots_;
  uint64_t address_generation_ = 0;
};

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
