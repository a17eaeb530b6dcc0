// PgEndpoint: where and how to connect, from a source's `dsn:` and/or discrete fields.
//
// The dsn is anything libpq accepts (keyword=value pairs or a postgresql:// URI); discrete fields
// (host, port, database, user, password, sslmode, sslrootcert, sslcert, sslkey, connect_timeout)
// override what the dsn says. Everything is passed to libpq as is, so TLS settings and libpq's own
// fallbacks (PGHOST, PGPASSWORD, ~/.pgpass, ...) behave exactly as in psql.
//
// The password (from a field or inside the dsn) is a secret, kept out of text by construction: only
// conninfo() contains it, and it is only ever handed to libpq; the parameters Label() and Describe()
// format hold no secret at all. Nothing is masked afterwards (masking every occurrence of a short
// password would corrupt a database or host name that happens to contain it). Messages that come back
// from libpq or the server name the user, host and database, never the password: the server is sent
// it only during authentication and libpq echoes no value of a secret option.

#ifndef SFB_CONNECTORS_POSTGRES_PG_ENDPOINT_H_
#define SFB_CONNECTORS_POSTGRES_PG_ENDPOINT_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sfb {

class PgEndpoint {
 public:
  // `fields` are libpq keywords (dbname, not database) with their values.
  static Result<PgEndpoint> Make(const std::string& dsn,
                                 const std::vector<std::pair<std::string, std::string>>& fields);

  // The libpq connection string, password included: for libpq only.
  const std::string& conninfo() const { return conninfo_; }
  // "reader@db.example.com:5432/shop"; parts libpq will default are left out.
  std::string Label() const;
  // server, database, user, sslmode: what the plan and provenance show.
  nlohmann::ordered_json Describe() const;
  // The user the connection names, or "" when libpq will choose (PGUSER, the OS user).
  std::string user() const { return Get("user"); }
  std::string database() const { return Get("dbname"); }

 private:
  std::string Get(const std::string& key) const;

  std::map<std::string, std::string> params_;  // without the secrets
  std::string conninfo_;
};

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_PG_ENDPOINT_H_
