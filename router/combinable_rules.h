// Which routes of a job spec combine early (writer/partial_combiner.h) and which are replayed record by
// record through RuleFunction.
//
// A route is combined when every state it sets or merges is combinable:
//   - the state's rule is last (or set), first, count/sum on an int or long state, or min/max on an int,
//     long or text state: the ops whose result a partial gives exactly in any combination order;
//   - every rule on that state, in every route of the function, has the same op (a set followed by
//     increments from another source, say, is order-dependent across ops: it is replayed);
//   - no route touching the state has delete_when (a delete resets what came before it, so the
//     history must be replayed in order), and every route touching it is itself combined.
// The last condition is applied until nothing changes, so a state is never fed both by partials and by
// replayed records: the two paths touch disjoint states and their order does not matter.
// C++ API functions are never in here: they see every record.

#ifndef SFB_ROUTER_COMBINABLE_RULES_H_
#define SFB_ROUTER_COMBINABLE_RULES_H_

#include <memory>
#include <vector>

#include "router/rules.h"
#include "writer/partial_combiner.h"

namespace sfb {

std::shared_ptr<const CombinableRoutes> FindCombinableRoutes(
    const std::vector<std::shared_ptr<const CompiledRoute>>& routes);

}  // namespace sfb

#endif  // SFB_ROUTER_COMBINABLE_RULES_H_
