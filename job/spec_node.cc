#include "job/spec_node.h"

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "common/byte_size.h"
#include "common/duration.h"
#include "job/job_spec.h"
#include "router/template.h"

namespace sfb {

std::string SpecContext::Where(const YAML::Node& n) const {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return file_;
  return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Status SpecContext::Error(const YAML::Node& n, const std::string& what, const std::string& fix) const {
  Status s = Status::InvalidSpec(what).WithContext(Where(n));
  if (!fix.empty()) s.WithHint(fix);
  return s;
}

std::vector<std::pair<int, int>> SpecContext::ValueLines(const YAML::Node& n) const {
  const YAML::Mark m = n.Mark();
  if (text_.empty() || m.line < 0 || !n.IsScalar()) return {};
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text_.size();) {
    size_t end = text_.find('\n', start);
    if (end == std::string::npos) end = text_.size();
    lines.push_back(std::string_view(text_).substr(start, end - start));
    start = end + 1;
  }
  const size_t line = static_cast<size_t>(m.line), column = static_cast<size_t>(m.column);
  if (line >= lines.size() || column >= lines[line].size()) return {};
  const char indicator = lines[line][column];
  if (indicator == '"' || indicator == '\'') return {{m.line + 1, m.column + 2}};
  if (indicator != '|' && indicator != '>') return {{m.line + 1, m.column + 1}};
  // A block scalar: its lines follow the indicator's, indented as the first one that is not blank.
  size_t indent = 0;
  for (size_t l = line + 1; l < lines.size(); ++l) {
    const size_t first = lines[l].find_first_not_of(' ');
    if (first != std::string_view::npos) {
      indent = first;
      break;
    }
  }
  std::vector<std::pair<int, int>> out;
  const size_t value_lines = indicator == '|' ? static_cast<size_t>(std::count(n.Scalar().begin(), n.Scalar().end(), '\n')) + 1 : 1;
  for (size_t i = 0; i < value_lines && line + 1 + i < lines.size(); ++i) {
    out.emplace_back(static_cast<int>(line + 2 + i), static_cast<int>(indent + 1));
  }
  return out;
}

std::string SpecContext::Path(const std::string& p) const {
  if (p.empty() || p[0] == '/') return p;
  return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

Status SpecContext::CheckKeys(const YAML::Node& map, const std::string& what,
                              const std::vector<std::string>& allowed) const {
  if (!map.IsMap()) return Error(map, what + " must be a mapping (key: value lines)");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    bool known = false;
    for (const auto& a : allowed) {
      known |= a == key || (!a.empty() && a.back() == '*' && key.rfind(a.substr(0, a.size() - 1), 0) == 0);
    }
    if (known) continue;
    const std::string suggestion = SuggestName(key, allowed);
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Error(it->first, "unknown key '" + key + "' in " + what,
                 suggestion.empty() ? "allowed keys: " + list
                                    : "did you mean '" + suggestion + "'? (allowed: " + list + ")");
  }
  return Status::OK();
}

Result<std::string> SpecContext::Scalar(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) return Error(n, what + " must be a single value (text or number)");
  auto expanded = ExpandEnvironment(n.Scalar());
  if (!expanded.ok()) return Status(expanded.status()).WithContext(Where(n));
  return expanded;
}

Result<int64_t> SpecContext::Integer(const YAML::Node& n, const std::string& what, int64_t lo, int64_t hi,
                                     const std::string& fix) const {
  SFB_ASSIGN_OR_RETURN(std::string s, Scalar(n, what));
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size()) return Error(n, what + " must be an integer, not '" + s + "'", fix);
  if (v < lo || v > hi) {
    return Error(n, what + " " + s + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi), fix);
  }
  return v;
}

Result<bool> SpecContext::Boolean(const YAML::Node& n, const std::string& what) const {
  SFB_ASSIGN_OR_RETURN(std::string s, Scalar(n, what));
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  return Error(n, what + " must be true or false, not '" + s + "'");
}

Result<uint64_t> SpecContext::ByteSize(const YAML::Node& n, const std::string& what) const {
  SFB_ASSIGN_OR_RETURN(std::string s, Scalar(n, what));
  auto bytes = ParseByteSize(s, what);
  if (!bytes.ok()) return Error(n, bytes.status().message());
  return bytes;
}

Result<int64_t> SpecContext::DurationMillis(const YAML::Node& n, const std::string& what) const {
  SFB_ASSIGN_OR_RETURN(std::string s, Scalar(n, what));
  auto ms = ParseDurationMillis(s);
  if (!ms.ok()) return Status(ms.status()).WithContext(Where(n));
  return ms;
}

Result<std::vector<std::string>> SpecContext::StringList(const YAML::Node& n, const std::string& what) const {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& item : n) {
      SFB_ASSIGN_OR_RETURN(std::string s, Scalar(item, what));
      out.push_back(std::move(s));
    }
  } else {
    SFB_ASSIGN_OR_RETURN(std::string s, Scalar(n, what));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sfb
