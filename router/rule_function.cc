#include "router/rule_function.h"

#include <limits>

#include "router/value_conversion.h"

namespace sfb {
namespace {

template <typename T>
Status AddChecked(T a, T b, T* out, const std::string& state) {
  if constexpr (std::is_integral_v<T>) {
    if (__builtin_add_overflow(a, b, out)) {
      return Status::BadRecord("the sum for state " + state + " overflows its integer type")
          .WithHint("declare the state as io.statefun.types/long (or java.lang.Long)");
    }
  } else {
    *out = a + b;
  }
  return Status::OK();
}

struct Combine {
  MergeOp op;
  const StateValue& operand;
  const std::string& state;
  StateValue* current;

  template <typename T>
  Status operator()(const T& cur) {
    const T& v = std::get<T>(operand);
    if constexpr (std::is_same_v<T, bool>) {
      return Status::Internal("bool states cannot be summed or compared");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (op == MergeOp::kMin && v < cur) *current = v;
      if (op == MergeOp::kMax && v > cur) *current = v;
      if (op == MergeOp::kSum) return Status::Internal("text states cannot be summed");
      return Status::OK();
    } else {
      if (op == MergeOp::kSum) {
        T sum;
        SFB_RETURN_IF_ERROR(AddChecked(cur, v, &sum, state));
        *current = sum;
      } else if (op == MergeOp::kMin && v < cur) {
        *current = v;
      } else if (op == MergeOp::kMax && v > cur) {
        *current = v;
      }
      return Status::OK();
    }
  }
};

StateValue One(ValueRepr repr) {
  switch (repr) {
    case ValueRepr::kInt32: return int32_t{1};
    case ValueRepr::kInt64: return int64_t{1};
    case ValueRepr::kFloat: return 1.0f;
    default: return 1.0;
  }
}

}  // namespace

RuleFunction::RuleFunction(const std::vector<StateSpec>& states,
                           std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes)
    : routes_(std::move(routes)) {
  for (const auto& s : states) DeclareState(s);
}

Status RuleFunction::Bootstrap(Context&, const Record& payload) {
  const int64_t index = payload.value(0).as_int();
  auto& slots = mutable_slots();
  if (index < 0) {  // a deletion (rules.h, delete_when)
    const CompiledRoute& route = *(*routes_)[static_cast<size_t>(-1 - index)];
    for (const StateRule& rule : route.rules) slots[rule.slot].value.reset();
    return Status::OK();
  }
  const CompiledRoute& route = *(*routes_)[static_cast<size_t>(index)];
  for (size_t k = 0; k < route.rules.size(); ++k) {
    const StateRule& rule = route.rules[k];
    const Value& v = payload.value(k + 1);
    std::optional<StateValue>& slot = slots[rule.slot].value;
    if (rule.op == MergeOp::kCount) {
      if (!slot) {
        slot = One(rule.repr);
      } else {
        const StateValue one = One(rule.repr);
        StateValue current = *slot;
        SFB_RETURN_IF_ERROR(std::visit(Combine{MergeOp::kSum, one, rule.state_name, &current}, *slot));
        slot = std::move(current);
      }
      continue;
    }
    if (v.is_null()) continue;
    StateValue operand = ValueToStateValue(v, rule.repr);
    switch (rule.op) {
      case MergeOp::kLast: slot = std::move(operand); break;
      case MergeOp::kFirst: if (!slot) slot = std::move(operand); break;
      default:
        if (!slot) {
          slot = std::move(operand);
        } else {
          StateValue current = *slot;
          SFB_RETURN_IF_ERROR(std::visit(Combine{rule.op, operand, rule.state_name, &current}, *slot));
          slot = std::move(current);
        }
    }
  }
  return Status::OK();
}

}  // namespace sfb
