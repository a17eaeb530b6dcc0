// The JSON form of one state entry, shared by `dump`, `get`, the real-Flink harness and expected-value
// files, so that all of them can be compared line by line:
//
//   {"function":"example/greeter","id":"alice","state":"seen_count","value":3}
//
// value by state type:
//   io.statefun.types/int|long          JSON integer
//   io.statefun.types/float|double      JSON number (shortest form that reads back to the same float or
//                                        double); NaN/Infinity/-Infinity as the strings "NaN", "Infinity", "-Infinity"
//   io.statefun.types/bool|string       JSON bool / string
//   codec json                          the parsed JSON value
//   codec raw                           the bytes as a string when valid UTF-8, else "value_base64"
//   codec protobuf                      "value_base64"
//   embedded Long/Integer/Double/Boolean/String: as above; byte[]: "value_base64"
// Optional fields: "type" (the typename or Java type), "ttl_timestamp" (epoch ms, TTL states only),
// "key_group".

#ifndef SFB_SAVEPOINT_ENTRY_JSON_H_
#define SFB_SAVEPOINT_ENTRY_JSON_H_

#include <string>

#include <nlohmann/json.hpp>

#include "savepoint/state_descriptor.h"
#include "savepoint/typed_value.h"

namespace sfb {

// Sets "value" or "value_base64" on `entry` for `value` of state `d`.
void PutValueJson(const StateDescriptor& d, const StateValue& value, nlohmann::json* entry);
std::string Base64Encode(std::string_view bytes);

// For a json-codec value: the JSON text as stored, without the blanks between tokens, when one of its
// numbers would change on the way through a double (more than 15 significant digits, or beyond the
// double range: 12345678901234567890.123456789); "" when the parsed value prints the same number.
// `dump` prints such a value from this text, so what was stored is what is shown.
std::string ExactJsonText(std::string_view json);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_ENTRY_JSON_H_
