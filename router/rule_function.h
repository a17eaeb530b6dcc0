// RuleFunction: the StateBootstrapFunction that applies a job spec's set/merge rules (router/rules.h).
//
// Exact decimal sums (StateRule::ExactDecimalSum): a sum into a double state whose operands are exact
// decimal text (PostgreSQL numeric) is kept beside the state as an exact Decimal (38 digits), and the
// state holds that sum rounded once to the nearest double, so 0.1 + 0.2 is 0.3, as SQL's sum() prints
// it. An operand that is a double (a float8 column, NaN) is added as a double; once the state holds a
// value the exact sum did not give (such a double sum, a set from another rule), exact summing goes on
// from that double's shortest decimal form. A sum that needs more than 38 digits fails its address.

#ifndef SFB_ROUTER_RULE_FUNCTION_H_
#define SFB_ROUTER_RULE_FUNCTION_H_

#include <map>
#include <memory>
#include <vector>

#include "api/state_bootstrap_function.h"
#include "router/decimal.h"
#include "router/rules.h"

namespace sfb {

class RuleFunction : public StateBootstrapFunction {
 public:
  // `states` in declaration order; `routes` indexed by CompiledRoute::index (null for other functions').
  RuleFunction(const std::vector<StateSpec>& states,
               std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes);
  Status Bootstrap(Context& context, const Record& payload) override;

 private:
  // The exact sum behind a double state (by slot): valid for the address of `generation` while the
  // state still holds `written`, the double it was rounded to.
  struct ExactSum {
    uint64_t generation = 0;
    double written = 0;
    Decimal sum;
  };
  Status AddExact(const StateRule& rule, const Value& operand);

  std::shared_ptr<const std::vector<std::shared_ptr<const CompiledRoute>>> routes_;
  std::vector<ExactSum> exact_sums_;
};

}  // namespace sfb

#endif  // SFB_ROUTER_RULE_FUNCTION_H_
