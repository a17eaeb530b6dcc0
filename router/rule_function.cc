#include "router/rule_function.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "common/str_cat.h"
#include "common/text_preview.h"
#include "router/value_conversion.h"

namespace sfb {
namespace {

template <typename T>
Status AddChecked(T a, T b, T* out, const std::string& state) {
  if constexpr (std::is_integral_v<T>) {
    if (__builtin_add_overflow(a, b, out)) {
      return Status::BadRecord(StrCat("the sum for state ", state, " overflows its integer type"))
          .WithHint(std::is_same_v<T, int64_t>
                        ? "a long holds up to 9223372036854775807 (with scale: N, that divided by 10^N): lower the "
                          "state's scale, or use a double state"
                        : "declare the state as io.statefun.types/long (or java.lang.Long)");
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

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Appends `element` (JSON text) to the JSON array `*slot` holds, or starts one. The array is edited as text,
// its closing bracket replaced, so an address's n appends cost O(n) in all, not O(n^2). A value that is not
// an array (a base savepoint's, with on_existing: merge) fails the address rather than being overwritten.
Status AppendToArray(const std::string& state, std::string_view element, std::optional<StateValue>* slot) {
  if (!*slot) {
    std::string array;
    array.reserve(element.size() + 2);
    array.push_back('[');
    array.append(element);
    array.push_back(']');
    *slot = StateValue(std::move(array));
    return Status::OK();
  }
  std::string& array = std::get<std::string>(**slot);
  size_t end = array.size();
  while (end > 0 && IsJsonSpace(array[end - 1])) --end;
  size_t begin = 0;
  while (begin < end && IsJsonSpace(array[begin])) ++begin;
  if (end - begin < 2 || array[begin] != '[' || array[end - 1] != ']') {
    return Status::BadRecord(StrCat("state ", state, " merges with append, but the value it already holds is not a "
                                    "JSON array: ", PreviewText(array, 60)))
        .WithHint("append only to states that hold arrays; for a base savepoint whose values are not arrays use "
                  "on_existing: replace");
  }
  size_t last = end - 1;  // the closing bracket
  size_t inner = last;
  while (inner > begin + 1 && IsJsonSpace(array[inner - 1])) --inner;
  const bool empty = inner == begin + 1;
  array.resize(last);
  if (!empty) array.push_back(',');
  array.append(element);
  array.push_back(']');
  return Status::OK();
}

}  // namespace

RuleFunction::RuleFunction(const std::vector<StateSpec>& states,
                           std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes)
    : routes_(std::move(routes)) {
  for (const auto& s : states) DeclareState(s);
  exact_sums_.resize(states.size());
}

Status RuleFunction::AddExact(const StateRule& rule, const Value& operand) {
  Decimal value;
  if (!Decimal::Parse(operand.as_string(), &value)) return Status::Internal("an exact sum operand is no decimal");
  std::optional<StateValue>& slot = mutable_slots()[rule.slot].value;
  ExactSum& acc = exact_sums_[rule.slot];
  Decimal base;  // zero when the state is unset
  if (slot) {
    const double current = std::get<double>(*slot);
    const bool ours = acc.generation == address_generation() && std::memcmp(&current, &acc.written, sizeof current) == 0;
    if (ours) {
      base = acc.sum;
    } else {
      char buf[400];
      const auto r = std::isfinite(current) ? std::to_chars(buf, buf + sizeof buf, current, std::chars_format::fixed)
                                            : std::to_chars_result{buf, std::errc::invalid_argument};
      if (r.ec != std::errc() || !Decimal::Parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), &base)) {
        slot = StateValue(current + value.ToDouble());  // NaN, Infinity or beyond 38 digits: a double sum
        return Status::OK();
      }
    }
  }
  Decimal sum;
  if (!Decimal::Add(base, value, &sum)) {
    return Status::BadRecord(StrCat("the exact sum for state ", rule.state_name, " needs more than 38 digits"))
        .WithHint("sum fewer digits: round the values in the source (round(x, 2) in a query) or sum into a long "
                  "state with scale:");
  }
  acc.generation = address_generation();
  acc.sum = sum;
  acc.written = sum.ToDouble();
  slot = StateValue(acc.written);
  return Status::OK();
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
    if (rule.op == MergeOp::kSum && v.kind() == Value::Kind::kText && rule.ExactDecimalSum()) {
      SFB_RETURN_IF_ERROR(AddExact(rule, v));
      continue;
    }
    if (rule.op == MergeOp::kAppend) {
      SFB_RETURN_IF_ERROR(AppendToArray(rule.state_name, v.as_string(), &slot));
      continue;
    }
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
