#include "router/template.h"

#include <algorithm>

namespace sfb {

Result<Template> Template::Parse(const std::string& text) {
  Template t;
  t.text_ = text;
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal.push_back('}');
      ++i;
    } else if (c == '{') {
      const size_t close = text.find('}', i);
      if (close == std::string::npos) {
        return Status::InvalidSpec("template '" + text + "' has a '{' without a closing '}'")
            .WithHint("write {field} to insert a field, or {{ for a literal brace");
      }
      std::string name = text.substr(i + 1, close - i - 1);
      if (name.empty() || name.find('{') != std::string::npos) {
        return Status::InvalidSpec("template '" + text + "' has an empty or nested field reference");
      }
      if (!literal.empty()) t.parts_.push_back(Part{false, std::move(literal)});
      literal.clear();
      t.fields_.push_back(name);
      t.parts_.push_back(Part{true, std::move(name)});
      i = close;
    } else if (c == '}') {
      return Status::InvalidSpec("template '" + text + "' has a '}' without an opening '{'")
          .WithHint("write }} for a literal brace");
    } else {
      literal.push_back(c);
    }
  }
  if (!literal.empty() || t.parts_.empty()) t.parts_.push_back(Part{false, std::move(literal)});
  return t;
}

Result<Value> Template::Evaluate(const Record& record) const {
  auto lookup = [&](const std::string& name) -> Result<const Value*> {
    const Value* v = record.Find(name);
    if (!v) {
      std::string hint = "the field must exist in every record of this source";
      const std::string suggestion = SuggestName(name, record.schema().names());
      if (!suggestion.empty()) hint = "did you mean {" + suggestion + "}?";
      return Status::BadRecord("the record has no field '" + name + "' (used in template '" + text_ + "')")
          .WithHint(hint);
    }
    return v;
  };
  if (is_single_field()) {
    SFB_ASSIGN_OR_RETURN(const Value* v, lookup(parts_[0].text));
    return *v;
  }
  std::string out;
  for (const Part& p : parts_) {
    if (!p.is_field) {
      out += p.text;
      continue;
    }
    SFB_ASSIGN_OR_RETURN(const Value* v, lookup(p.text));
    out += v->ToText();
  }
  return Value::Text(std::move(out));
}

std::string SuggestName(const std::string& name, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace sfb
