// StateBootstrapFunction, Context, Address: the interface the builder replays an address's records
// through (writer/subtask_builder.h), and that users implement (api/state_bootstrap_function.h, with
// the typed PersistedValue<T> handles, is the public name and says how it is called).
//
// Contract: one instance serves many addresses of one function type, one after another, never
// concurrently. For each address the builder calls ClearAllStates(), then Bootstrap() once per record
// routed to the address in position order, then stores the slots that hold a value.

#ifndef SFB_WRITER_BOOTSTRAP_FUNCTION_H_
#define SFB_WRITER_BOOTSTRAP_FUNCTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/record.h"
#include "common/status.h"
#include "savepoint/state_spec.h"
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

}  // namespace sfb

#endif  // SFB_WRITER_BOOTSTRAP_FUNCTION_H_
