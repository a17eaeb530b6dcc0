// Template: a string with {field} references, evaluated against a record.
//
//   "{user_id}"          the field's value, keeping its type (an int stays an int, NULL stays NULL)
//   "user-{id}@{region}" text: each reference rendered as text (NULL renders as empty text)
//   "{{literal}}"        braces are escaped by doubling
//
// Field names may contain dots (flattened JSON fields: "{address.city}").

#ifndef SFB_ROUTER_TEMPLATE_H_
#define SFB_ROUTER_TEMPLATE_H_

#include <string>
#include <vector>

#include "api/record.h"
#include "common/status.h"

namespace sfb {

class Template {
 public:
  static Result<Template> Parse(const std::string& text);

  // The value for `record`; BadRecord naming the field when a referenced field is absent.
  Result<Value> Evaluate(const Record& record) const;
  const std::vector<std::string>& fields() const { return fields_; }
  const std::string& text() const { return text_; }
  // True when the template is exactly one reference, so the value keeps its type.
  bool is_single_field() const { return parts_.size() == 1 && parts_[0].is_field; }
  bool is_constant() const { return fields_.empty(); }

 private:
  struct Part {
    bool is_field;
    std::string text;  // literal text or field name
  };
  std::string text_;
  std::vector<Part> parts_;
  std::vector<std::string> fields_;
};

// The closest name in `candidates` to `name` when it is a plausible typo ("" otherwise).
std::string SuggestName(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace sfb

#endif  // SFB_ROUTER_TEMPLATE_H_
