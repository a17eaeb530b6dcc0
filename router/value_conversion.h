// Converting a record field to a state's value type, strictly.
//
//   int / long      from integers in range, integral doubles, and text that is exactly an integer or
//                   an integral decimal ("42", "-7", "3.00"; not "4.2", "42abc", "1e3" or ""). With a
//                   scale N > 0 (a state's `scale:`), the value times 10^N, exactly: "12.34" at scale 2
//                   is 1234, "12.3" is 1230, 7 is 700, and "12.345" is refused (never rounded). A double
//                   is taken at its shortest decimal form (0.1 is "0.1"). A fractional value without a
//                   scale, or one with more fractional digits than the scale, is a bad record saying so.
//   float / double  from numbers and numeric text (also "NaN", "Infinity", "-Infinity")
//   bool            from bools, 0/1, and text true/false/t/f/yes/no/1/0 (any case)
//   string / bytes  from any value, rendered as text (bytes stay bytes)
// NULL is never converted: callers decide what a NULL means. Errors say what the value was and what
// was expected, so the message can name the record.

#ifndef SFB_ROUTER_VALUE_CONVERSION_H_
#define SFB_ROUTER_VALUE_CONVERSION_H_

#include "api/record.h"
#include "common/status.h"
#include "savepoint/typed_value.h"

namespace sfb {

// `scale` applies to int and long states only (0: the value as it is).
Result<StateValue> ConvertToStateValue(const Value& value, ValueRepr repr, int scale = 0);
// The state value as a record Value (lossless), and back; used to carry converted operands.
Value StateValueToValue(const StateValue& v);
StateValue ValueToStateValue(const Value& v, ValueRepr repr);

}  // namespace sfb

#endif  // SFB_ROUTER_VALUE_CONVERSION_H_
