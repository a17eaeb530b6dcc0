// RuleFunction: the StateBootstrapFunction that applies a job spec's set/merge rules (router/rules.h).

#ifndef SFB_ROUTER_RULE_FUNCTION_H_
#define SFB_ROUTER_RULE_FUNCTION_H_

#include <map>
#include <memory>
#include <vector>

#include "api/state_bootstrap_function.h"
#include "router/rules.h"

namespace sfb {

class RuleFunction : public StateBootstrapFunction {
 public:
  // `states` in declaration order; `routes` indexed by CompiledRoute::index (null for other functions').
  RuleFunction(const std::vector<StateSpec>& states,
               std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes);
  Status Bootstrap(Context& context, const Record& payload) override;

 private:
  std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes_;
};

}  // namespace sfb

#endif  // SFB_ROUTER_RULE_FUNCTION_H_
