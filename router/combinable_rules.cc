#include "router/combinable_rules.h"

#include <map>
#include <set>
#include <utility>

namespace sfb {
namespace {

bool IsInteger(ValueRepr r) { return r == ValueRepr::kInt32 || r == ValueRepr::kInt64; }

// The op a rule combines with, when a partial gives its result exactly.
bool CombineOpOf(const StateRule& rule, CombineOp* op) {
  switch (rule.op) {
    case MergeOp::kLast: *op = CombineOp::kLast; return true;
    case MergeOp::kFirst: *op = CombineOp::kFirst; return true;
    case MergeOp::kCount: *op = CombineOp::kCount; return IsInteger(rule.repr);
    case MergeOp::kSum: *op = CombineOp::kSum; return IsInteger(rule.repr);
    case MergeOp::kMin:
    case MergeOp::kMax:
      *op = rule.op == MergeOp::kMin ? CombineOp::kMin : CombineOp::kMax;
      return IsInteger(rule.repr) || (rule.repr == ValueRepr::kBytes && rule.codec == Codec::kBuiltin);
    case MergeOp::kAppend:
      return false;  // a partial would be the whole array: nothing to save over replaying the records
  }
  return false;
}

}  // namespace

std::shared_ptr<const CombinableRoutes> FindCombinableRoutes(
    const std::vector<std::shared_ptr<const CompiledRoute>>& routes) {
  using StateKey = std::pair<std::string, size_t>;  // function type, slot
  std::map<StateKey, std::set<int>> ops_of;          // the ops of the rules on a state (-1: not combinable)
  std::set<StateKey> replayed;
  for (const auto& route : routes) {
    for (const StateRule& rule : route->rules) {
      CombineOp op;
      const bool ok = CombineOpOf(rule, &op) && route->delete_when.empty();
      ops_of[{route->function_type, rule.slot}].insert(ok ? static_cast<int>(op) : -1);
    }
  }
  for (const auto& [state, ops] : ops_of) {
    if (ops.size() != 1 || *ops.begin() < 0) replayed.insert(state);
  }
  std::vector<bool> combined(routes.size(), true);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < routes.size(); ++i) {
      if (!combined[i]) continue;
      const CompiledRoute& route = *routes[i];
      bool ok = route.delete_when.empty();
      for (const StateRule& rule : route.rules) ok = ok && !replayed.count({route.function_type, rule.slot});
      if (ok) continue;
      combined[i] = false;
      changed = true;
      for (const StateRule& rule : route.rules) replayed.insert({route.function_type, rule.slot});
    }
  }
  auto out = std::make_shared<CombinableRoutes>();
  for (size_t i = 0; i < routes.size(); ++i) {
    if (!combined[i]) continue;
    const CompiledRoute& route = *routes[i];
    std::vector<CombineRule> rules;
    for (size_t k = 0; k < route.rules.size(); ++k) {
      const StateRule& r = route.rules[k];
      CombineRule c;
      CombineOpOf(r, &c.op);
      c.slot = static_cast<uint16_t>(r.slot);
      c.repr = r.repr;
      c.field = k + 1;  // the payload: "route", then one operand per rule
      c.state_name = r.state_name;
      rules.push_back(std::move(c));
    }
    out->by_payload_schema.emplace(route.payload_schema.get(), std::move(rules));
  }
  return out;
}

}  // namespace sfb
