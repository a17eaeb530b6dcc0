// Converting a record field to a state's value type, strictly.
//
//   int / long      from integers in range, integral doubles, and text that is exactly an integer
//                   ("42", "-7"; not "4.2", "42abc" or "")
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

Result<StateValue> ConvertToStateValue(const Value& value, ValueRepr repr);
// The state value as a record Value (lossless), and back; used to carry converted operands.
Value StateValueToValue(const StateValue& v);
StateValue ValueToStateValue(const Value& v, ValueRepr repr);

}  // namespace sfb

#endif  // SFB_ROUTER_VALUE_CONVERSION_H_
