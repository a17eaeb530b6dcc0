#include "connectors/postgres/pg_endpoint.h"

#include <libpq-fe.h>

namespace sfb {
namespace {

constexpr const char* kSecretKeys[] = {"password", "sslpassword"};

bool IsSecretKey(const std::string& key) {
  for (const char* k : kSecretKeys) {
    if (key == k) return true;
  }
  return false;
}

// 'value' in libpq's conninfo syntax: backslash escapes quote and backslash.
std::string ConninfoValue(const std::string& v) {
  std::string out = "'";
  for (const char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

Result<PgEndpoint> PgEndpoint::Make(const std::string& dsn,
                                    const std::vector<std::pair<std::string, std::string>>& fields) {
  PgEndpoint e;
  if (!dsn.empty()) {
    char* err = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
    if (!options) {
      // libpq quotes the part it could not read, which may be the password: show its words only for
      // an unknown keyword, which is safe and the common mistake.
      std::string why = err ? err : "out of memory";
      if (err) PQfreemem(err);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      const bool keyword_error = why.rfind("invalid connection option", 0) == 0;
      return Status::InvalidSpec("the dsn is not a valid PostgreSQL connection string" +
                                 (keyword_error ? " (" + why + ")" : std::string()))
          .WithHint("write keyword=value pairs (host=db port=5432 dbname=shop user=reader) or a URI "
                    "(postgresql://reader@db:5432/shop); quote values containing spaces with '...'");
    }
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (o->val && *o->val) e.params_[o->keyword] = o->val;
    }
    PQconninfoFree(options);
  }
  for (const auto& [key, value] : fields) e.params_[key] = value;
  if (!e.params_.count("connect_timeout")) e.params_["connect_timeout"] = "10";
  e.params_["fallback_application_name"] = "statefun-bootstrap";
  for (const auto& [key, value] : e.params_) {
    e.conninfo_ += (e.conninfo_.empty() ? "" : " ") + key + "=" + ConninfoValue(value);
  }
  // The secrets are in the connection string and nowhere else: nothing that formats text for people
  // (Label, Describe, messages) can reach them.
  for (auto it = e.params_.begin(); it != e.params_.end();) {
    it = IsSecretKey(it->first) ? e.params_.erase(it) : std::next(it);
  }
  return e;
}

std::string PgEndpoint::Get(const std::string& key) const {
  auto it = params_.find(key);
  return it == params_.end() ? "" : it->second;
}

std::string PgEndpoint::Label() const {
  std::string out;
  if (!Get("user").empty()) out += Get("user") + "@";
  out += Get("host").empty() ? (Get("hostaddr").empty() ? "(default host)" : Get("hostaddr")) : Get("host");
  if (!Get("port").empty()) out.append(":").append(Get("port"));
  if (!Get("dbname").empty()) out.append("/").append(Get("dbname"));
  return out;
}

nlohmann::ordered_json PgEndpoint::Describe() const {
  nlohmann::ordered_json j;
  std::string server = Get("host").empty() ? Get("hostaddr") : Get("host");
  if (!Get("port").empty()) server.append(":").append(Get("port"));
  if (!server.empty()) j["server"] = server;
  if (!Get("dbname").empty()) j["database"] = Get("dbname");
  if (!Get("user").empty()) j["user"] = Get("user");
  if (!Get("sslmode").empty()) j["sslmode"] = Get("sslmode");
  return j;
}

}  // namespace sfb
