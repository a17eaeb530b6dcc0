#include "connectors/kafka/schema_registry_client.h"

#include <curl/curl.h>

#include <cctype>

#include <nlohmann/json.hpp>

#include "common/str_cat.h"
#include "common/text_preview.h"

namespace sfb {
namespace {

// libcurl's global state, set up once for the process before the first handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// The registry's own error text ({"error_code": 40403, "message": "..."}), if it gave one.
std::string RegistryMessage(const std::string& body) {
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return PreviewText(body, 80);
}

// A subject as a path segment: "common.proto" stays, "a/b.proto" becomes a%2Fb.proto.
std::string EscapedSubject(const std::string& subject) {
  std::string escaped;
  for (unsigned char c : subject) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      escaped.push_back(static_cast<char>(c));
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      escaped.append({'%', kHex[c >> 4], kHex[c & 15]});
    }
  }
  return escaped;
}

}  // namespace

SchemaRegistryClient::SchemaRegistryClient(SchemaRegistryConfig config) : config_(std::move(config)) {
  InitCurlOnce();
}

SchemaRegistryClient::~SchemaRegistryClient() = default;

std::string SchemaRegistryClient::Redacted(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t at = url.find('@', start);
  const size_t slash = url.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return StrCat(url.substr(0, start), "***@", url.substr(at + 1));
}

int SchemaRegistryClient::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

Result<SchemaRegistryClient::Reply> SchemaRegistryClient::Get(const std::string& path) {
  std::string failures;
  for (const std::string& base : config_.urls) {
    const std::string url = StrCat(base.back() == '/' ? base.substr(0, base.size() - 1) : base, path);
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Status::Internal("libcurl could not create a handle");
    Reply reply;
    char error[CURL_ERROR_SIZE] = {0};
    struct curl_slist* headers =
        curl_slist_append(nullptr, "Accept: application/vnd.schemaregistry.v1+json, application/json");
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout_ms));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!config_.basic_auth_user_info.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(h, CURLOPT_USERPWD, config_.basic_auth_user_info.c_str());
    }
    if (!config_.ssl_ca_location.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.ssl_ca_location.c_str());
    if (!config_.ssl_certificate_location.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, config_.ssl_certificate_location.c_str());
    }
    if (!config_.ssl_key_location.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, config_.ssl_key_location.c_str());
    ++requests_;
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    reply.url = Redacted(base);
    std::string failure;
    if (rc != CURLE_OK) {
      failure = error[0] ? error : curl_easy_strerror(rc);
    } else {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
      if (reply.status >= 500) failure = StrCat("HTTP ", std::to_string(reply.status));
    }
    if (!failure.empty()) {  // this url is down: try the next
      failures.append(StrCat(failures.empty() ? "" : "; ", reply.url, ": ", failure));
      continue;
    }
    return reply;
  }
  return Status::IoError(StrCat("the schema registry does not answer (", failures, ")"))
      .WithHint("check registry.url and that the registry is up; registry.timeout bounds each request");
}

Result<std::shared_ptr<const RegistrySchema>> SchemaRegistryClient::FetchSchema(const std::string& path, int32_t id,
                                                                                const std::string& what_is_missing) {
  Result<Reply> reply = Get(path);
  if (!reply.ok()) return reply.status();
  const std::string what = StrCat("schema registry ", reply->url, ": GET ", path);
  if (reply->status == 401 || reply->status == 403) {
    return Status::IoError(
               StrCat(what, ": HTTP ", std::to_string(reply->status), ", the registry refused the credentials"))
        .WithHint("check registry.basic.auth.user.info (user:password, usually from ${ENV})");
  }
  if (reply->status == 404) {
    return Status::NotFound(StrCat("the schema registry has no ", what_is_missing, " (", what, ": HTTP 404: ",
                                   RegistryMessage(reply->body), ")"))
        .WithHint("the record was written against another registry, or its schema was deleted; "
                  "point registry.url at the producer's registry");
  }
  if (reply->status != 200) {
    return Status::IoError(StrCat(what, ": HTTP ", std::to_string(reply->status), ": ", RegistryMessage(reply->body)));
  }
  auto schema = std::make_shared<RegistrySchema>();
  schema->id = id;
  try {
    const auto j = nlohmann::json::parse(reply->body);
    schema->text = j.at("schema").get<std::string>();
    const bool typed = j.contains("schemaType") && j["schemaType"].is_string();
    schema->type = typed ? j["schemaType"].get<std::string>() : "AVRO";  // the API leaves it out for Avro
    if (j.contains("id") && j["id"].is_number_integer()) schema->id = j["id"].get<int32_t>();
    if (j.contains("references") && j["references"].is_array()) {
      for (const auto& r : j["references"]) {
        schema->references.push_back(RegistryReference{r.at("name").get<std::string>(),
                                                       r.at("subject").get<std::string>(),
                                                       r.at("version").get<int32_t>()});
      }
    }
  } catch (const nlohmann::json::exception&) {
    return Status::IoError(StrCat(what, ": the answer is not a schema ('", PreviewText(reply->body, 80), "')"))
        .WithHint("registry.url must be the registry's Confluent-compatible API (e.g. .../apis/ccompat/v7)");
  }
  return std::shared_ptr<const RegistrySchema>(std::move(schema));
}

Result<std::shared_ptr<const RegistrySchema>> SchemaRegistryClient::SchemaById(int32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  Result<std::shared_ptr<const RegistrySchema>> fetched =
      FetchSchema(StrCat("/schemas/ids/", std::to_string(id)), id, StrCat("schema with id ", std::to_string(id)));
  // The registry being down is not an answer about the id: only answers are kept.
  if (fetched.ok() || fetched.status().code() == Status::Code::kNotFound) cache_.emplace(id, fetched);
  return fetched;
}

Result<std::shared_ptr<const RegistrySchema>> SchemaRegistryClient::SchemaByVersion(const std::string& subject,
                                                                                    int32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto key = std::make_pair(subject, version);
  if (auto it = versions_.find(key); it != versions_.end()) return it->second;
  Result<std::shared_ptr<const RegistrySchema>> fetched =
      FetchSchema(StrCat("/subjects/", EscapedSubject(subject), "/versions/", SchemaVersionText(version)), 0,
                  StrCat("version ", SchemaVersionText(version), " of subject ", subject));
  if (fetched.ok() || fetched.status().code() == Status::Code::kNotFound) versions_.emplace(key, fetched);
  return fetched;
}

Result<std::string> SchemaRegistryClient::GetJson(const std::string& path, const std::string& what_is_missing) {
  std::lock_guard<std::mutex> lock(mu_);
  SFB_ASSIGN_OR_RETURN(Reply reply, Get(path));
  const std::string what = StrCat("schema registry ", reply.url, ": GET ", path);
  if (reply.status == 404) {
    return Status::NotFound(StrCat("the schema registry has no ", what_is_missing, " (", what, ": HTTP 404: ",
                                   RegistryMessage(reply.body), ")"));
  }
  if (reply.status != 200) {
    return Status::IoError(StrCat(what, ": HTTP ", std::to_string(reply.status), ": ", RegistryMessage(reply.body)));
  }
  return std::move(reply.body);
}

Result<std::vector<std::string>> SchemaRegistryClient::Subjects() {
  SFB_ASSIGN_OR_RETURN(std::string body, GetJson("/subjects", "subjects"));
  try {
    return nlohmann::json::parse(body).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return Status::IoError(StrCat("schema registry: GET /subjects: the answer is not a list of subjects ('",
                                  PreviewText(body, 80), "')"));
  }
}

Result<std::vector<int32_t>> SchemaRegistryClient::Versions(const std::string& subject) {
  const std::string path = StrCat("/subjects/", EscapedSubject(subject), "/versions");
  SFB_ASSIGN_OR_RETURN(std::string body, GetJson(path, StrCat("subject ", subject)));
  try {
    return nlohmann::json::parse(body).get<std::vector<int32_t>>();
  } catch (const nlohmann::json::exception&) {
    return Status::IoError(StrCat("schema registry: GET ", path, ": the answer is not a list of versions ('",
                                  PreviewText(body, 80), "')"));
  }
}

Status SchemaRegistryClient::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  SFB_ASSIGN_OR_RETURN(Reply reply, Get("/subjects"));
  if (reply.status == 401 || reply.status == 403) {
    return Status::IoError(StrCat("schema registry ", reply.url, ": HTTP ", std::to_string(reply.status),
                                  ", the registry refused the credentials"))
        .WithHint("check registry.basic.auth.user.info (user:password, usually from ${ENV})");
  }
  if (reply.status != 200) {
    return Status::IoError(StrCat("schema registry ", reply.url, ": GET /subjects: HTTP ", std::to_string(reply.status),
                                  ": ", RegistryMessage(reply.body)))
        .WithHint("registry.url must be the registry's Confluent-compatible API (e.g. .../apis/ccompat/v7)");
  }
  return Status::OK();
}

}  // namespace sfb
