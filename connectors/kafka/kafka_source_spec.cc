#include "connectors/kafka/kafka_source_spec.h"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/file_io.h"
#include "common/str_cat.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/avro_canonical_form.h"
#include "formats/avro_fields.h"

namespace sfb {
namespace {

const char* kFormats = "json, raw, protobuf or avro";

// registry: {url: ..., basic.auth.user.info: ..., timeout: ..., ssl.*} (the keys Confluent's clients use).
Result<std::shared_ptr<const SchemaRegistryConfig>> ParseRegistry(const SpecContext& ctx, const YAML::Node& n,
                                                                  const std::string& what) {
  if (!n.IsMap()) {
    return ctx.Error(n, what + " must be a map", "registry: {url: \"http://registry:8081\"}");
  }
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, what,
                                    {"url", "basic.auth.user.info", "timeout", "ssl.ca.location",
                                     "ssl.certificate.location", "ssl.key.location", "subject_name_strategy"}));
  auto c = std::make_shared<SchemaRegistryConfig>();
  if (!n["url"]) {
    return ctx.Error(n, what + " has no url", "url: http://registry:8081 (a list, or comma-separated, for several)");
  }
  SFB_ASSIGN_OR_RETURN(std::vector<std::string> listed, ctx.StringList(n["url"], what + ".url"));
  for (const std::string& entry : listed) {
    size_t start = 0;
    while (start <= entry.size()) {  // Confluent's clients take "url1,url2"
      size_t end = entry.find(',', start);
      if (end == std::string::npos) end = entry.size();
      std::string url = entry.substr(start, end - start);
      url.erase(0, url.find_first_not_of(' '));
      url.erase(url.find_last_not_of(' ') + 1);
      if (!url.empty()) {
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
          return ctx.Error(n["url"], StrCat(what, ".url '", SchemaRegistryClient::Redacted(url),
                                            "' is not an http:// or https:// URL"),
                           "url: http://registry:8081 (with a path if the registry serves its API under one)");
        }
        c->urls.push_back(url);
      }
      start = end + 1;
    }
  }
  if (c->urls.empty()) return ctx.Error(n["url"], what + ".url is empty", "url: http://registry:8081");
  if (n["basic.auth.user.info"]) {
    // Never quoted back: it is the password.
    SFB_ASSIGN_OR_RETURN(c->basic_auth_user_info,
                         ctx.Scalar(n["basic.auth.user.info"], what + ".basic.auth.user.info"));
    if (c->basic_auth_user_info.find(':') == std::string::npos) {
      return ctx.Error(n["basic.auth.user.info"], what + ".basic.auth.user.info must be user:password",
                       "basic.auth.user.info: ${REGISTRY_USER}:${REGISTRY_PASSWORD}");
    }
  }
  if (n["timeout"]) {
    SFB_ASSIGN_OR_RETURN(c->timeout_ms, ctx.DurationMillis(n["timeout"], what + ".timeout"));
    if (c->timeout_ms < 100 || c->timeout_ms > 3600 * 1000) {
      return ctx.Error(n["timeout"], what + ".timeout must be between 100ms and 1h");
    }
  }
  for (const auto& [key, field] : {std::pair<const char*, std::string*>{"ssl.ca.location", &c->ssl_ca_location},
                                   std::pair<const char*, std::string*>{"ssl.certificate.location",
                                                                        &c->ssl_certificate_location},
                                   std::pair<const char*, std::string*>{"ssl.key.location", &c->ssl_key_location}}) {
    if (!n[key]) continue;
    SFB_ASSIGN_OR_RETURN(*field, ctx.Scalar(n[key], StrCat(what, ".", key)));
    *field = ctx.Path(*field);
  }
  if (n["subject_name_strategy"]) {
    SFB_ASSIGN_OR_RETURN(std::string strategy,
                         ctx.Scalar(n["subject_name_strategy"], StrCat(what, ".subject_name_strategy")));
    if (strategy == "record") {
      c->record_name_strategy = true;
    } else if (strategy != "topic") {
      return ctx.Error(n["subject_name_strategy"],
                       StrCat(what, ".subject_name_strategy must be topic or record, not '", strategy, "'"),
                       "topic: the subject is <topic>-value (TopicNameStrategy); record: the record's full name "
                       "(RecordNameStrategy)");
    }
  }
  return std::shared_ptr<const SchemaRegistryConfig>(std::move(c));
}

// reader_schema: {subject: users-value, version: 3} or {version: latest}: a reader schema pinned in the
// registry (pinned_reader_schema.h). The subject, when not given, comes from the strategy (the topic's is
// filled in by ParseKafkaSourceSpec once the topics are known).
Status ParsePinnedReaderSchema(const SpecContext& ctx, const YAML::Node& n, const std::string& part, KafkaFormat* f) {
  const std::string what = part + ".reader_schema";
  const char* kExample =
      "reader_schema: {subject: users-value, version: 3} (or version: latest), or a file: user.avsc";
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, what, {"subject", "version"}));
  if (!n["version"]) {
    return ctx.Error(n, StrCat(what, " pins no version"), "add version: the subject's version number, or latest "
                     "(then each run reads with the subject's newest schema)");
  }
  SFB_ASSIGN_OR_RETURN(std::string version, ctx.Scalar(n["version"], what + ".version"));
  if (version == "latest") {
    f->avro_reader_version = kLatestSchemaVersion;
  } else {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(version.c_str(), &end, 10);
    if (version.empty() || *end != '\0' || errno != 0 || v < 1 || v > INT32_MAX) {
      return ctx.Error(n["version"], StrCat(what, ".version must be a version number (1, 2, ...) or latest, not '",
                                            version, "'"), kExample);
    }
    f->avro_reader_version = static_cast<int32_t>(v);
  }
  if (n["subject"]) {
    SFB_ASSIGN_OR_RETURN(f->avro_reader_subject, ctx.Scalar(n["subject"], what + ".subject"));
    if (f->avro_reader_subject.empty()) return ctx.Error(n["subject"], StrCat(what, ".subject is empty"), kExample);
  }
  return Status::OK();
}

Result<KafkaFormat> ParseFormat(const SpecContext& ctx, const YAML::Node& n, const std::string& part) {
  KafkaFormat f;
  std::string format;
  if (n.IsScalar()) {
    SFB_ASSIGN_OR_RETURN(format, ctx.Scalar(n, part));
  } else {
    SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, part, {"format", "as", "descriptor_set", "message", "registry", "schema", "reader_schema"}));
    if (!n["format"]) return ctx.Error(n, part + " has no format", std::string("add format: ") + kFormats);
    SFB_ASSIGN_OR_RETURN(format, ctx.Scalar(n["format"], part + ".format"));
  }
  const YAML::Node where = n.IsScalar() ? n : n["format"];
  if (format == "raw") {
    f.kind = KafkaFormat::Kind::kRaw;
  } else if (format == "json") {
    f.kind = KafkaFormat::Kind::kJson;
  } else if (format == "protobuf") {
    f.kind = KafkaFormat::Kind::kProtobuf;
  } else if (format == "avro") {
    f.kind = KafkaFormat::Kind::kAvro;
  } else {
    return ctx.Error(where, "unknown " + part + " format '" + format + "'",
                     std::string("the format is ") + kFormats + " (raw text or bytes: {format: raw, as: bytes})");
  }
  if (n.IsScalar()) {
    if (f.kind == KafkaFormat::Kind::kProtobuf) {
      return ctx.Error(n, part + ": protobuf needs the message type",
                       part + ": {format: protobuf, descriptor_set: schemas/x.desc, message: package.Message}");
    }
    if (f.kind == KafkaFormat::Kind::kAvro) {
      return ctx.Error(n, part + ": avro needs the schema registry its producer writes to",
                       part + ": {format: avro, registry: {url: \"http://registry:8081\"}}");
    }
    return f;
  }
  if (n["as"]) {
    if (f.kind != KafkaFormat::Kind::kRaw) return ctx.Error(n["as"], part + ".as applies to format raw only");
    SFB_ASSIGN_OR_RETURN(std::string as, ctx.Scalar(n["as"], part + ".as"));
    if (as == "bytes") f.raw_bytes = true;
    else if (as != "text") return ctx.Error(n["as"], part + ".as must be text or bytes, not '" + as + "'");
  }
  if (f.kind == KafkaFormat::Kind::kProtobuf && n["registry"]) {
    // The registry gives each message's schema and type (the wire format's message indexes).
    if (n["descriptor_set"] || n["message"]) {
      return ctx.Error(n, part + ": protobuf takes descriptor_set and message, or registry, not both",
                       "with a registry the schema id and message indexes in each message name the type");
    }
  } else if (f.kind == KafkaFormat::Kind::kProtobuf) {
    if (!n["descriptor_set"] || !n["message"]) {
      return ctx.Error(n, part + ": protobuf needs descriptor_set and message, or the schema registry its producer "
                       "writes to",
                       "descriptor_set: a file from protoc --include_imports --descriptor_set_out=F; "
                       "message: the full type name, e.g. example.Visit; or registry: {url: \"http://registry:8081\"}");
    }
    SFB_ASSIGN_OR_RETURN(f.descriptor_set, ctx.Scalar(n["descriptor_set"], part + ".descriptor_set"));
    f.descriptor_set = ctx.Path(f.descriptor_set);
    SFB_ASSIGN_OR_RETURN(f.message, ctx.Scalar(n["message"], part + ".message"));
  } else if (n["descriptor_set"] || n["message"]) {
    return ctx.Error(n, part + ": descriptor_set and message apply to format protobuf only");
  }
  if (n["schema"] && f.kind != KafkaFormat::Kind::kAvro) {
    return ctx.Error(n["schema"], part + ": schema applies to format avro only");
  }
  if (n["reader_schema"] && (f.kind != KafkaFormat::Kind::kAvro || !n["registry"])) {
    return ctx.Error(n["reader_schema"], part + ": reader_schema applies to format avro with a registry",
                     part + ": {format: avro, registry: {url: ...}, reader_schema: user.avsc} (or reader_schema: "
                     "{subject: S, version: V}); Protobuf and JSON Schema values are read with the schema of their id");
  }
  if (f.kind == KafkaFormat::Kind::kAvro) {
    if (n["registry"] && n["schema"]) {
      return ctx.Error(n, part + ": avro takes registry or schema, not both",
                       "registry when the producer writes the schema registry wire format; schema: file.avsc for "
                       "single-object encoded or bare Avro datums");
    }
    if (n["schema"]) {
      SFB_ASSIGN_OR_RETURN(std::string path, ctx.Scalar(n["schema"], part + ".schema"));
      f.avro_schema_path = ctx.Path(path);
      std::string text;
      Status read = ReadFileToString(f.avro_schema_path, &text);
      if (!read.ok()) return ctx.Error(n["schema"], StrCat(part, ".schema: ", read.message()));
      Result<std::shared_ptr<const AvroSchema>> schema = AvroSchema::Parse(text);
      Result<std::string> canonical = AvroParsingCanonicalForm(text);
      if (!schema.ok() || !canonical.ok()) {
        return ctx.Error(n["schema"], StrCat(part, ".schema ", f.avro_schema_path, ": ",
                                             (schema.ok() ? canonical.status() : schema.status()).message()),
                         "the file must hold the writer's Avro schema as JSON (an .avsc file)");
      }
      f.avro_schema = std::move(*schema);
      f.avro_fingerprint = AvroFingerprint64(*canonical);
      return f;
    }
    if (!n["registry"]) {
      return ctx.Error(n, part + ": avro needs the schema registry its producer writes to, or the schema",
                       "registry: {url: \"http://registry:8081\"} (the writer schema's id is in each message), or "
                       "schema: file.avsc (single-object encoded or bare datums)");
    }
    SFB_ASSIGN_OR_RETURN(f.registry, ParseRegistry(ctx, n["registry"], part + ".registry"));
    if (n["reader_schema"] && n["reader_schema"].IsMap()) {
      SFB_RETURN_IF_ERROR(ParsePinnedReaderSchema(ctx, n["reader_schema"], part, &f));
    } else if (n["reader_schema"]) {
      SFB_ASSIGN_OR_RETURN(std::string path, ctx.Scalar(n["reader_schema"], part + ".reader_schema"));
      f.avro_reader_schema_path = ctx.Path(path);
      std::string text;
      Status read = ReadFileToString(f.avro_reader_schema_path, &text);
      if (!read.ok()) return ctx.Error(n["reader_schema"], StrCat(part, ".reader_schema: ", read.message()));
      Result<std::shared_ptr<const AvroSchema>> schema = AvroSchema::Parse(text);
      if (!schema.ok()) {
        return ctx.Error(n["reader_schema"], StrCat(part, ".reader_schema ", f.avro_reader_schema_path, ": ",
                                                    schema.status().message()),
                         "the file must hold the Avro schema to read every record with, as JSON (an .avsc file)");
      }
      f.avro_reader_schema = std::move(*schema);
    }
    if (f.avro_reader_version == 0 && f.registry->record_name_strategy) {
      return ctx.Error(n["registry"]["subject_name_strategy"],
                       StrCat(part, ".registry.subject_name_strategy applies to a reader schema pinned in the registry"),
                       StrCat("writer schemas are found by the id in each message; add ", part,
                              ".reader_schema: {version: latest} (or a number) to read every record with the "
                              "subject's schema"));
    }
  } else if (n["registry"]) {
    if (n["registry"].IsMap() && n["registry"]["subject_name_strategy"]) {
      return ctx.Error(n["registry"]["subject_name_strategy"],
                       StrCat(part, ".registry.subject_name_strategy applies to format avro with a reader_schema "
                              "pinned in the registry"),
                       "only Avro values are projected onto a reader schema; Protobuf and JSON Schema values are "
                       "read with the schema of their id");
    }
    if (f.kind == KafkaFormat::Kind::kRaw) {
      return ctx.Error(n["registry"], part + ": registry applies to formats avro, json and protobuf, not raw");
    }
    SFB_ASSIGN_OR_RETURN(f.registry, ParseRegistry(ctx, n["registry"], part + ".registry"));
  }
  return f;
}

Status ParseStart(const SpecContext& ctx, const YAML::Node& n, KafkaSourceConfig* c) {
  const char* kHelp = "start is earliest, {timestamp: 2024-05-01T00:00:00Z} (or epoch ms), or "
                      "{offsets: {topic: {partition: offset, ...}}}";
  if (n.IsScalar()) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(n, "start"));
    if (s == "earliest") {
      c->start = KafkaSourceConfig::Start::kEarliest;
      return Status::OK();
    }
    return ctx.Error(n, "unknown start '" + s + "'", kHelp);
  }
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, "start", {"timestamp", "offsets"}));
  if (n.size() != 1) return ctx.Error(n, "start takes one of timestamp or offsets", kHelp);
  if (n["timestamp"]) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(n["timestamp"], "start.timestamp"));
    auto ms = ParseTimestampMillis(s);
    if (!ms.ok()) return Status(ms.status()).WithContext(ctx.Where(n["timestamp"]));
    c->start = KafkaSourceConfig::Start::kTimestamp;
    c->start_timestamp_ms = *ms;
    return Status::OK();
  }
  const YAML::Node offsets = n["offsets"];
  if (!offsets.IsMap() || offsets.size() == 0) {
    return ctx.Error(offsets, "start.offsets must map topics to {partition: offset}",
                     "offsets: {visits: {0: 1200, 1: 998}} (the end_offsets of a previous run's provenance fit)");
  }
  c->start = KafkaSourceConfig::Start::kOffsets;
  for (auto t = offsets.begin(); t != offsets.end(); ++t) {
    const std::string topic = t->first.as<std::string>();
    if (!t->second.IsMap() || t->second.size() == 0) {
      return ctx.Error(t->second, "start.offsets." + topic + " must map partitions to offsets", "{0: 1200, 1: 998}");
    }
    for (auto p = t->second.begin(); p != t->second.end(); ++p) {
      SFB_ASSIGN_OR_RETURN(int64_t partition, ctx.Integer(p->first, "partition", 0, INT32_MAX));
      SFB_ASSIGN_OR_RETURN(int64_t offset, ctx.Integer(p->second, "offset", 0, INT64_MAX));
      c->start_offsets[topic][static_cast<int32_t>(partition)] = offset;
    }
  }
  return Status::OK();
}

}  // namespace

Result<int64_t> ParseTimestampMillis(const std::string& text) {
  const auto fail = [&] {
    return Status::InvalidSpec("'" + text + "' is not a timestamp")
        .WithHint("write UTC time as 2024-05-01T12:00:00Z (or with an offset, +02:00), a date 2024-05-01, or epoch "
                  "milliseconds");
  };
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 18) return fail();
    return static_cast<int64_t>(std::stoll(text));
  }
  int year, month, day, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10) return fail();
  size_t pos = 10;
  int64_t millis = 0;
  int64_t zone_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != ' ') return fail();
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &used) != 3 || used != 8) {
      return fail();
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      int64_t scale = 100;
      for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
        millis += (text[pos] - '0') * scale;
        scale /= 10;
      }
    }
    if (pos >= text.size()) return fail();  // the zone is required: local time would be a guess
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      // UTC
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
      int zh, zm;
      if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &zh, &zm) != 2) return fail();
      zone_seconds = (text[pos] == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
    } else {
      return fail();
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return fail();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - zone_seconds;
  if (seconds < 0) return fail();
  return seconds * 1000 + millis;
}

Result<std::unique_ptr<Source>> KafkaSourceDefinition::Create() const {
  return std::unique_ptr<Source>(std::make_unique<KafkaSource>(config_, board_));
}

std::string KafkaSourceDefinition::default_delete_when() const {
  return config_.tombstones == KafkaSourceConfig::Tombstones::kDelete ? "{value} == null" : "";
}

std::string KafkaSourceDefinition::tombstone_field() const {
  return config_.tombstones == KafkaSourceConfig::Tombstones::kSkip ? "" : "value";
}

nlohmann::ordered_json KafkaSourceDefinition::Describe() const {
  const KafkaSourceConfig& c = config_;
  nlohmann::ordered_json j{{"kind", "kafka"}, {"brokers", c.brokers}};
  if (c.topic_pattern.empty()) {
    j["topics"] = c.topics;
  } else {
    j["topic_pattern"] = c.topic_pattern;
  }
  switch (c.start) {
    case KafkaSourceConfig::Start::kEarliest: j["start"] = "earliest"; break;
    case KafkaSourceConfig::Start::kTimestamp: j["start"] = {{"timestamp", c.start_timestamp_ms}}; break;
    case KafkaSourceConfig::Start::kOffsets: {
      nlohmann::ordered_json offsets = nlohmann::ordered_json::object();
      for (const auto& [topic, parts] : c.start_offsets) {
        for (const auto& [p, o] : parts) offsets[topic][std::to_string(p)] = o;
      }
      j["start"] = {{"offsets", offsets}};
      break;
    }
  }
  auto format = [](const KafkaFormat& f) {
    std::string s = KafkaFormatName(f.kind);
    if (f.kind == KafkaFormat::Kind::kRaw) s += f.raw_bytes ? " (bytes)" : " (text)";
    if (f.kind == KafkaFormat::Kind::kProtobuf && !f.message.empty()) s.append(StrCat(" ", f.message));
    if (!f.avro_schema_path.empty()) s.append(StrCat(" (schema ", f.avro_schema_path, ")"));
    if (!f.avro_reader_schema_path.empty()) s.append(StrCat(" (reader schema ", f.avro_reader_schema_path, ")"));
    if (f.avro_reader_version != 0 && f.avro_reader_schema_path.empty()) {
      const std::string version = SchemaVersionText(f.avro_reader_version);
      s.append(f.avro_reader_subject.empty()
                   ? StrCat(" (reader schema: version ", version, " of each writer record's subject)")
                   : StrCat(" (reader schema: subject ", f.avro_reader_subject, " version ", version, ")"));
    }
    if (f.registry) {  // the urls without credentials
      s += " (registry";
      for (const std::string& url : f.registry->urls) s.append(StrCat(" ", SchemaRegistryClient::Redacted(url)));
      s += ")";
    }
    return s;
  };
  j["key"] = format(c.key);
  j["value"] = format(c.value);
  j["isolation"] = c.read_committed ? "read_committed" : "read_uncommitted";
  j["tombstones"] = c.tombstones == KafkaSourceConfig::Tombstones::kDelete ? "delete"
                    : c.tombstones == KafkaSourceConfig::Tombstones::kSkip ? "skip"
                                                                           : "keep";
  if (!c.properties.empty()) {
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (const auto& [name, value] : c.properties) names.push_back(name);  // values may be secrets
    j["properties"] = names;
  }
  if (c.commit_offsets) j["commit_offsets_to"] = c.group_id;
  std::lock_guard<std::mutex> lock(board_->mu);
  if (!board_->plan.is_null()) j["read"] = board_->plan;
  return j;
}

Result<std::unique_ptr<SourceDefinition>> ParseKafkaSourceSpec(const SpecContext& ctx, const std::string& name,
                                                               const YAML::Node& k) {
  KafkaSourceConfig c;
  c.source_name = name;
  const std::string what = "kafka source " + name;
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(k, what,
                                    {"brokers", "topics", "topic_pattern", "start", "isolation", "key", "value",
                                     "tombstones", "properties", "group_id", "commit_offsets", "timeout",
                                     "read_timeout", "readers", "progress", "ingress"}));
  if (!k["brokers"]) {
    return ctx.Error(k, what + " has no brokers", "add brokers: host:9092 (the bootstrap servers, comma-separated)");
  }
  SFB_ASSIGN_OR_RETURN(c.brokers, ctx.Scalar(k["brokers"], "brokers"));
  if (c.brokers.empty()) return ctx.Error(k["brokers"], "brokers is empty", "brokers: host:9092");
  if (k["topics"] && k["topic_pattern"]) {
    return ctx.Error(k["topic_pattern"], what + " has both topics and topic_pattern", "keep one of them");
  }
  if (k["topics"]) {
    SFB_ASSIGN_OR_RETURN(c.topics, ctx.StringList(k["topics"], "topic"));
    if (c.topics.empty()) return ctx.Error(k["topics"], "topics is empty", "topics: [name, ...]");
    for (size_t i = 0; i < c.topics.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (c.topics[i] == c.topics[j]) return ctx.Error(k["topics"], "topic " + c.topics[i] + " is listed twice");
      }
    }
  } else if (k["topic_pattern"]) {
    SFB_ASSIGN_OR_RETURN(c.topic_pattern, ctx.Scalar(k["topic_pattern"], "topic_pattern"));
    if (c.topic_pattern.empty()) return ctx.Error(k["topic_pattern"], "topic_pattern is empty");
  } else {
    return ctx.Error(k, what + " names no topics", "add topics: [name, ...] or topic_pattern: \"regex\"");
  }
  if (k["start"]) SFB_RETURN_IF_ERROR(ParseStart(ctx, k["start"], &c));
  if (c.start == KafkaSourceConfig::Start::kOffsets && !c.topic_pattern.empty()) {
    return ctx.Error(k["start"], "start.offsets needs topics:, not topic_pattern",
                     "the partitions a pattern matches may change; list the topics");
  }
  if (k["isolation"]) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(k["isolation"], "isolation"));
    if (s == "read_committed") c.read_committed = true;
    else if (s != "read_uncommitted") {
      return ctx.Error(k["isolation"], "isolation must be read_uncommitted or read_committed, not '" + s + "'");
    }
  }
  if (k["key"]) {
    SFB_ASSIGN_OR_RETURN(c.key, ParseFormat(ctx, k["key"], "key"));
  }
  if (k["value"]) {
    SFB_ASSIGN_OR_RETURN(c.value, ParseFormat(ctx, k["value"], "value"));
  }
  for (auto [format, part] : {std::pair<KafkaFormat*, const char*>{&c.key, "key"}, {&c.value, "value"}}) {
    // TopicNameStrategy: a pinned version without a subject is in <topic>-<part>, known now for one topic.
    if (format->avro_reader_version == 0 || !format->avro_reader_subject.empty() ||
        format->registry->record_name_strategy) {
      continue;
    }
    if (c.topics.size() != 1) {
      return ctx.Error(k[part]["reader_schema"],
                       StrCat(part, ".reader_schema pins a version but no subject, and the source reads ",
                              c.topics.empty() ? "a topic pattern" : "several topics",
                              ": with subject_name_strategy: topic each topic has its own subject"),
                       StrCat("give ", part, ".reader_schema.subject (e.g. ",
                              c.topics.empty() ? "users" : c.topics[0], "-", part,
                              "), or subject_name_strategy: record to read each record with its record name's subject"));
    }
    format->avro_reader_subject = StrCat(c.topics[0], "-", part);
  }
  if (k["tombstones"]) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(k["tombstones"], "tombstones"));
    if (s == "delete") c.tombstones = KafkaSourceConfig::Tombstones::kDelete;
    else if (s == "skip") c.tombstones = KafkaSourceConfig::Tombstones::kSkip;
    else if (s == "keep") c.tombstones = KafkaSourceConfig::Tombstones::kKeep;
    else return ctx.Error(k["tombstones"], "tombstones must be delete, skip or keep, not '" + s + "'");
  }
  if (k["properties"]) {
    const YAML::Node props = k["properties"];
    if (!props.IsMap()) {
      return ctx.Error(props, "properties must map librdkafka property names to values",
                       "properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN}");
    }
    for (auto it = props.begin(); it != props.end(); ++it) {
      const std::string prop = it->first.as<std::string>();
      SFB_ASSIGN_OR_RETURN(std::string value, ctx.Scalar(it->second, "property " + prop));
      c.properties.emplace_back(prop, std::move(value));
    }
    Status s = CheckClientProperties(c.properties);
    if (!s.ok()) return s.WithContext(ctx.Where(props));
  }
  if (k["group_id"]) {
    SFB_ASSIGN_OR_RETURN(c.group_id, ctx.Scalar(k["group_id"], "group_id"));
    if (c.group_id.empty()) return ctx.Error(k["group_id"], "group_id is empty");
  }
  if (k["commit_offsets"]) {
    SFB_ASSIGN_OR_RETURN(c.commit_offsets, ctx.Boolean(k["commit_offsets"], "commit_offsets"));
    if (c.commit_offsets && !k["group_id"]) {
      return ctx.Error(k["commit_offsets"], "commit_offsets needs group_id: the consumer group to commit to",
                       "add group_id: the consumerGroupId of the application's ingress");
    }
  }
  for (const auto& [key, field] : {std::pair<const char*, int64_t*>{"timeout", &c.timeout_ms},
                                   std::pair<const char*, int64_t*>{"read_timeout", &c.read_timeout_ms}}) {
    if (!k[key]) continue;
    SFB_ASSIGN_OR_RETURN(*field, ctx.DurationMillis(k[key], key));
    if (*field < 100 || *field > 24 * 3600 * 1000) {
      return ctx.Error(k[key], std::string(key) + " must be between 100ms and 24h");
    }
  }
  if (k["readers"]) {
    SFB_ASSIGN_OR_RETURN(int64_t r, ctx.Integer(k["readers"], "readers", 1, 1024, "readers: 1..1024 partition groups"));
    c.readers = static_cast<int>(r);
  }
  if (k["progress"]) {
    SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(k["progress"], "progress"));
    if (s == "off" || s == "false") {
      c.progress_ms = 0;
    } else {
      SFB_ASSIGN_OR_RETURN(c.progress_ms, ctx.DurationMillis(k["progress"], "progress"));
    }
  }
  if (k["ingress"]) {
    const YAML::Node in = k["ingress"];
    SFB_RETURN_IF_ERROR(ctx.CheckKeys(in, "ingress", {"id", "consumer_group_id", "value_type", "targets"}));
    if (in["id"]) {
      SFB_ASSIGN_OR_RETURN(c.ingress.id, ctx.Scalar(in["id"], "ingress.id"));
    }
    if (in["consumer_group_id"]) {
      SFB_ASSIGN_OR_RETURN(c.ingress.consumer_group_id, ctx.Scalar(in["consumer_group_id"], "ingress.consumer_group_id"));
    }
    if (in["value_type"]) {
      SFB_ASSIGN_OR_RETURN(c.ingress.value_type, ctx.Scalar(in["value_type"], "ingress.value_type"));
    }
    if (in["targets"]) {
      SFB_ASSIGN_OR_RETURN(c.ingress.targets, ctx.StringList(in["targets"], "ingress target"));
    }
  }
  return std::unique_ptr<SourceDefinition>(std::make_unique<KafkaSourceDefinition>(std::move(c)));
}

}  // namespace sfb
