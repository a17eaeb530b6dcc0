// RuleRouter: the Router a job spec's routes compile to, one per source.
//
// For each record and each route from its source: checks `where`, evaluates the `id` template, and
// evaluates every rule's operand, converting it to the state's type here, on the reader thread, so a
// bad value fails with the record's position. It forwards a small payload record (route number and
// operands) to function_type/id; RuleFunction applies it.

#ifndef SFB_ROUTER_RULE_ROUTER_H_
#define SFB_ROUTER_RULE_ROUTER_H_

#include <memory>
#include <vector>

#include "api/router.h"
#include "router/rules.h"

namespace sfb {

class RuleRouter : public Router {
 public:
  explicit RuleRouter(std::vector<std::shared_ptr<const CompiledRoute>> routes) : routes_(std::move(routes)) {}
  Status Route(const Record& record, Downstream& downstream) const override;

 private:
  std::vector<std::shared_ptr<const CompiledRoute>> routes_;
};

// Evaluates a rule's operand for `record` as a state value (Null for count or a NULL field).
Result<Value> EvaluateOperand(const StateRule& rule, const Record& record);

}  // namespace sfb

#endif  // SFB_ROUTER_RULE_ROUTER_H_
