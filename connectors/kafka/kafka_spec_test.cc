// The kafka: spec block, planning steps that need no broker, the handoff snippet, and what routes
// from a kafka source get by default.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/str_cat.h"
#include "connectors/kafka/handoff.h"
#include "connectors/kafka/kafka_plan.h"
#include "connectors/kafka/kafka_progress.h"
#include "connectors/kafka/kafka_source_spec.h"
#include "connectors/kafka/schema_registry_client.h"
#include "formats/avro_fields.h"
#include "job/job_spec.h"

namespace sfb {
namespace {

Result<std::unique_ptr<SourceDefinition>> Parse(const std::string& yaml) {
  SpecContext ctx("job.yaml", "/jobs");
  return ParseKafkaSourceSpec(ctx, "visits", YAML::Load(yaml));
}

const KafkaSourceConfig& ConfigOf(const Result<std::unique_ptr<SourceDefinition>>& d) {
  return static_cast<const KafkaSourceDefinition&>(*d.value()).config();
}

TEST(KafkaSpec, MinimalBlockGetsTheDocumentedDefaults) {
  auto d = Parse("{brokers: 'b1:9092,b2:9092', topics: visits}");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  EXPECT_EQ(c.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(c.topics, std::vector<std::string>{"visits"});
  EXPECT_EQ(c.start, KafkaSourceConfig::Start::kEarliest);
  EXPECT_EQ(c.key.kind, KafkaFormat::Kind::kRaw);
  EXPECT_FALSE(c.key.raw_bytes);
  EXPECT_EQ(c.value.kind, KafkaFormat::Kind::kJson);
  EXPECT_FALSE(c.read_committed);
  EXPECT_EQ(c.tombstones, KafkaSourceConfig::Tombstones::kDelete);
  EXPECT_FALSE(c.commit_offsets);
  EXPECT_EQ(c.timeout_ms, 30000);
  EXPECT_EQ(c.read_timeout_ms, 60000);
  EXPECT_TRUE((*d)->remote());
  EXPECT_EQ((*d)->default_route_id(), "{key}");
  EXPECT_EQ((*d)->default_delete_when(), "{value} == null");
}

TEST(KafkaSpec, EveryKey) {
  setenv("SFB_TEST_KAFKA_SECRET", "hunter2", 1);
  auto d = Parse(R"(
brokers: localhost:9092
topic_pattern: "visits\\..*"
start: {timestamp: "2024-05-01T12:00:00.250+02:00"}
isolation: read_committed
key: {format: json}
value: {format: raw, as: bytes}
tombstones: keep
properties: {security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN, sasl.username: app,
             sasl.password: "${SFB_TEST_KAFKA_SECRET}"}
group_id: bootstrap-1
commit_offsets: true
timeout: 5s
read_timeout: 2m
readers: 3
progress: off
ingress: {id: com.example/visits, consumer_group_id: app, value_type: com.example/Visit, targets: [com.example/fn]}
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  EXPECT_EQ(c.topic_pattern, "visits\\..*");
  EXPECT_EQ(c.start, KafkaSourceConfig::Start::kTimestamp);
  EXPECT_EQ(c.start_timestamp_ms, 1714557600250);
  EXPECT_TRUE(c.read_committed);
  EXPECT_EQ(c.key.kind, KafkaFormat::Kind::kJson);
  EXPECT_TRUE(c.value.raw_bytes);
  EXPECT_EQ(c.tombstones, KafkaSourceConfig::Tombstones::kKeep);
  EXPECT_EQ((*d)->default_delete_when(), "");
  ASSERT_EQ(c.properties.size(), 4u);
  EXPECT_EQ(c.properties[3].second, "hunter2");
  EXPECT_TRUE(c.commit_offsets);
  EXPECT_EQ(c.timeout_ms, 5000);
  EXPECT_EQ(c.read_timeout_ms, 120000);
  EXPECT_EQ(c.readers, 3);
  EXPECT_EQ(c.progress_ms, 0);
  EXPECT_EQ(c.ingress.targets, std::vector<std::string>{"com.example/fn"});
  // The plan names the properties, never their values.
  const std::string described = (*d)->Describe().dump();
  EXPECT_NE(described.find("sasl.password"), std::string::npos);
  EXPECT_EQ(described.find("hunter2"), std::string::npos);
}

TEST(KafkaSpec, StartOffsetsAndProtobuf) {
  auto d = Parse(R"(
brokers: b:9092
topics: [visits, clicks]
start: {offsets: {visits: {0: 12, 1: 0}, clicks: {0: 5}}}
value: {format: protobuf, descriptor_set: schemas/visit.desc, message: example.Visit}
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  EXPECT_EQ(c.start, KafkaSourceConfig::Start::kOffsets);
  EXPECT_EQ(c.start_offsets.at("visits").at(0), 12);
  EXPECT_EQ(c.start_offsets.at("clicks").at(0), 5);
  EXPECT_EQ(c.value.descriptor_set, "/jobs/schemas/visit.desc");
  EXPECT_EQ(c.value.message, "example.Visit");
}

struct BadSpec {
  const char* yaml;
  const char* message;
  const char* hint;
};

TEST(KafkaSpec, AvroWithARegistry) {
  setenv("SFB_TEST_REGISTRY_SECRET", "hunter2", 1);
  auto d = Parse(R"(
brokers: b:9092
topics: users
key: {format: avro, registry: {url: "http://one:8081, http://two:8081/apis/ccompat/v7"}}
value:
  format: avro
  registry:
    url: [ "https://reg.example/apis/ccompat/v7" ]
    basic.auth.user.info: "app:${SFB_TEST_REGISTRY_SECRET}"
    timeout: 2s
    ssl.ca.location: certs/ca.pem
    ssl.certificate.location: /etc/client.pem
    ssl.key.location: /etc/client.key
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  ASSERT_EQ(c.key.kind, KafkaFormat::Kind::kAvro);
  ASSERT_TRUE(c.key.registry);
  EXPECT_EQ(c.key.registry->urls, (std::vector<std::string>{"http://one:8081", "http://two:8081/apis/ccompat/v7"}));
  EXPECT_EQ(c.key.registry->timeout_ms, 10000);
  EXPECT_TRUE(c.key.registry->basic_auth_user_info.empty());
  ASSERT_EQ(c.value.kind, KafkaFormat::Kind::kAvro);
  const SchemaRegistryConfig& r = *c.value.registry;
  EXPECT_EQ(r.urls, std::vector<std::string>{"https://reg.example/apis/ccompat/v7"});
  EXPECT_EQ(r.basic_auth_user_info, "app:hunter2");
  EXPECT_EQ(r.timeout_ms, 2000);
  EXPECT_EQ(r.ssl_ca_location, "/jobs/certs/ca.pem");
  EXPECT_EQ(r.ssl_certificate_location, "/etc/client.pem");
  EXPECT_EQ(r.ssl_key_location, "/etc/client.key");
  const std::string described = (*d)->Describe().dump();
  EXPECT_NE(described.find("avro (registry https://reg.example/apis/ccompat/v7)"), std::string::npos) << described;
  EXPECT_EQ(described.find("hunter2"), std::string::npos) << described;
}

TEST(KafkaSpec, JsonAndProtobufWithARegistry) {
  auto d = Parse(R"(
brokers: b:9092
topics: users
key: {format: json, registry: {url: "http://one:8081"}}
value: {format: protobuf, registry: {url: "http://two:8081/apis/ccompat/v7", timeout: 3s}}
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  ASSERT_EQ(c.key.kind, KafkaFormat::Kind::kJson);
  ASSERT_TRUE(c.key.registry);
  EXPECT_EQ(c.key.registry->urls, std::vector<std::string>{"http://one:8081"});
  ASSERT_EQ(c.value.kind, KafkaFormat::Kind::kProtobuf);
  ASSERT_TRUE(c.value.registry);
  EXPECT_EQ(c.value.registry->timeout_ms, 3000);
  EXPECT_TRUE(c.value.descriptor_set.empty() && c.value.message.empty());
  const std::string described = (*d)->Describe().dump();
  EXPECT_NE(described.find("protobuf (registry http://two:8081/apis/ccompat/v7)"), std::string::npos) << described;
}

TEST(KafkaSpec, AvroWithASchemaFile) {
  const std::string dir = ::testing::TempDir() + "/kafka-spec-avsc";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/user.avsc") << R"({"type": "record", "name": "User", "fields": [{"name": "n", "type": "int"}]})";
  std::ofstream(dir + "/broken.avsc") << R"({"type": "record", "name": "User", "fields": [)";
  auto d = Parse(StrCat("brokers: b\ntopics: users\nvalue: {format: avro, schema: ", dir, "/user.avsc}\n"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  ASSERT_EQ(c.value.kind, KafkaFormat::Kind::kAvro);
  EXPECT_FALSE(c.value.registry);
  ASSERT_TRUE(c.value.avro_schema);
  EXPECT_EQ(c.value.avro_schema_path, dir + "/user.avsc");
  EXPECT_NE(c.value.avro_fingerprint, 0u);
  for (const auto& [spec, says] : std::vector<std::pair<std::string, std::string>>{
           {StrCat("{format: avro, schema: ", dir, "/broken.avsc}"), StrCat("value.schema ", dir, "/broken.avsc: ")},
           {StrCat("{format: avro, schema: ", dir, "/missing.avsc}"), "value.schema: "},
           {StrCat("{format: avro, schema: ", dir, "/user.avsc, registry: {url: 'http://r'}}"),
            "value: avro takes registry or schema, not both"},
           {"{format: json, schema: x.avsc}", "value: schema applies to format avro only"}}) {
    auto bad = Parse(StrCat("brokers: b\ntopics: users\nvalue: ", spec, "\n"));
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_NE(bad.status().message().find(says), std::string::npos) << bad.status().ToString();
  }
}

TEST(KafkaSpec, AvroWithARegistryAndAReaderSchema) {
  const std::string dir = ::testing::TempDir() + "/kafka-spec-reader-avsc";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/user.avsc") << R"({"type": "record", "name": "User", "fields": [{"name": "n", "type": "int"}]})";
  std::ofstream(dir + "/broken.avsc") << R"({"type": "record", "name": "User", "fields": [)";
  auto d = Parse(StrCat("brokers: b\ntopics: users\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: ",
                        dir, "/user.avsc}\n"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const KafkaSourceConfig& c = ConfigOf(d);
  ASSERT_TRUE(c.value.registry);
  ASSERT_TRUE(c.value.avro_reader_schema);
  EXPECT_EQ(c.value.avro_reader_schema->name(), "User");
  EXPECT_EQ(c.value.avro_reader_schema_path, dir + "/user.avsc");
  EXPECT_FALSE(c.value.avro_schema);
  const std::string described = (*d)->Describe().dump();
  EXPECT_NE(described.find(StrCat("(reader schema ", dir, "/user.avsc)")), std::string::npos) << described;
  for (const auto& [spec, says] : std::vector<std::pair<std::string, std::string>>{
           {StrCat("{format: avro, registry: {url: 'http://r'}, reader_schema: ", dir, "/broken.avsc}"),
            StrCat("value.reader_schema ", dir, "/broken.avsc: ")},
           {StrCat("{format: avro, registry: {url: 'http://r'}, reader_schema: ", dir, "/missing.avsc}"),
            "value.reader_schema: "},
           {StrCat("{format: avro, schema: ", dir, "/user.avsc, reader_schema: ", dir, "/user.avsc}"),
            "value: reader_schema applies to format avro with a registry"},
           {"{format: json, registry: {url: 'http://r'}, reader_schema: x.avsc}",
            "value: reader_schema applies to format avro with a registry"}}) {
    auto bad = Parse(StrCat("brokers: b\ntopics: users\nvalue: ", spec, "\n"));
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_NE(bad.status().message().find(says), std::string::npos) << bad.status().ToString();
  }
}

TEST(KafkaSpec, AReaderSchemaPinnedInTheRegistry) {
  auto pinned = Parse("brokers: b\ntopics: users\nvalue: {format: avro, registry: {url: 'http://r'}, "
                      "reader_schema: {subject: people-value, version: 3}}\n");
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_EQ(ConfigOf(pinned).value.avro_reader_subject, "people-value");
  EXPECT_EQ(ConfigOf(pinned).value.avro_reader_version, 3);
  EXPECT_FALSE(ConfigOf(pinned).value.avro_reader_schema);  // fetched when the source is prepared
  const std::string described = (*pinned)->Describe().dump();
  EXPECT_NE(described.find("(reader schema: subject people-value version 3)"), std::string::npos) << described;

  // no subject: the topic strategy's <topic>-value (or -key)
  auto latest = Parse("brokers: b\ntopics: [users]\nkey: {format: avro, registry: {url: 'http://r'}, "
                      "reader_schema: {version: latest}}\nvalue: {format: avro, registry: {url: 'http://r', "
                      "subject_name_strategy: topic}, reader_schema: {version: 2}}\n");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(ConfigOf(latest).key.avro_reader_subject, "users-key");
  EXPECT_EQ(ConfigOf(latest).key.avro_reader_version, kLatestSchemaVersion);
  EXPECT_EQ(ConfigOf(latest).value.avro_reader_subject, "users-value");
  EXPECT_EQ(ConfigOf(latest).value.avro_reader_version, 2);

  // the record strategy leaves the subject to each writer record's name, for any number of topics
  auto record = Parse("brokers: b\ntopic_pattern: 'users.*'\nvalue: {format: avro, registry: {url: 'http://r', "
                      "subject_name_strategy: record}, reader_schema: {version: latest}}\n");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_TRUE(ConfigOf(record).value.registry->record_name_strategy);
  EXPECT_EQ(ConfigOf(record).value.avro_reader_subject, "");
  EXPECT_NE((*record)->Describe().dump().find("(reader schema: version latest of each writer record's subject)"),
            std::string::npos);

  for (const auto& [spec, says] : std::vector<std::pair<std::string, std::string>>{
           {"topics: [users, admins]\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {version: 1}}",
            "value.reader_schema pins a version but no subject, and the source reads several topics"},
           {"topic_pattern: 'u.*'\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {version: 1}}",
            "the source reads a topic pattern"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {subject: s}}",
            "value.reader_schema pins no version"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {version: 0}}",
            "value.reader_schema.version must be a version number (1, 2, ...) or latest, not '0'"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {version: newest}}",
            "not 'newest'"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r'}, reader_schema: {version: 1, "
            "subjekt: s}}",
            "subjekt"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r', subject_name_strategy: topic_record}}",
            "value.registry.subject_name_strategy must be topic or record, not 'topic_record'"},
           {"topics: users\nvalue: {format: avro, registry: {url: 'http://r', subject_name_strategy: record}}",
            "value.registry.subject_name_strategy applies to a reader schema pinned in the registry"},
           {"topics: users\nvalue: {format: protobuf, registry: {url: 'http://r', subject_name_strategy: record}}",
            "value.registry.subject_name_strategy applies to format avro with a reader_schema"},
           {"topics: users\nvalue: {format: json, registry: {url: 'http://r'}, reader_schema: {version: 1}}",
            "value: reader_schema applies to format avro with a registry"}}) {
    auto bad = Parse(StrCat("brokers: b\n", spec, "\n"));
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_NE(bad.status().message().find(says), std::string::npos) << bad.status().ToString();
  }
}

TEST(KafkaSpec, MistakesAreLocatedAndSayHowToFixThem) {
  const BadSpec cases[] = {
      {"{topics: visits}", "kafka source visits has no brokers",
       "add brokers: host:9092 (the bootstrap servers, comma-separated)"},
      {"{brokers: b, topic: visits}", "unknown key 'topic' in kafka source visits", nullptr},
      {"{brokers: b}", "kafka source visits names no topics", "add topics: [name, ...] or topic_pattern: \"regex\""},
      {"{brokers: b, topics: v, start: latest}", "unknown start 'latest'", nullptr},
      {"{brokers: b, topics: v, start: {timestamp: yesterday}}", "'yesterday' is not a timestamp", nullptr},
      {"{brokers: b, topics: v, value: avrox}", "unknown value format 'avrox'", nullptr},
      {"{brokers: b, topics: v, value: avro}", "value: avro needs the schema registry its producer writes to",
       "value: {format: avro, registry: {url: \"http://registry:8081\"}}"},
      {"{brokers: b, topics: v, value: {format: avro, registry: {urls: x}}}", "unknown key 'urls' in value.registry",
       nullptr},
      {"{brokers: b, topics: v, value: {format: avro, registry: {url: 'registry:8081'}}}",
       "value.registry.url 'registry:8081' is not an http:// or https:// URL", nullptr},
      {"{brokers: b, topics: v, value: {format: avro, registry: {url: 'ftp://u:hunter2@r/'}}}",
       "value.registry.url 'ftp://***@r/' is not an http:// or https:// URL", nullptr},
      {"{brokers: b, topics: v, value: {format: avro, registry: {url: 'http://r', basic.auth.user.info: hunter2}}}",
       "value.registry.basic.auth.user.info must be user:password", nullptr},
      {"{brokers: b, topics: v, value: {format: raw, registry: {url: 'http://r'}}}",
       "value: registry applies to formats avro, json and protobuf, not raw", nullptr},
      {"{brokers: b, topics: v, value: {format: protobuf, message: a.B, registry: {url: 'http://r'}}}",
       "value: protobuf takes descriptor_set and message, or registry, not both", nullptr},
      {"{brokers: b, topics: v, value: {format: protobuf, message: a.B}}",
       "value: protobuf needs descriptor_set and message, or the schema registry its producer writes to", nullptr},
      {"{brokers: b, topics: v, value: protobuf}", "value: protobuf needs the message type", nullptr},
      {"{brokers: b, topics: v, value: {format: json, as: bytes}}", "value.as applies to format raw only", nullptr},
      {"{brokers: b, topics: v, properties: {group.id: x}}",
       "the Kafka client property group.id is set by statefun-bootstrap", "remove it from properties: and use group_id:"},
      {"{brokers: b, topics: v, properties: {fetch.wait.max.msx: 5}}",
       "Kafka client property fetch.wait.max.msx: No such configuration property: \"fetch.wait.max.msx\"", nullptr},
      {"{brokers: b, topics: v, properties: {security.protocol: hunter2}}",
       "Kafka client property security.protocol: Invalid value \"***\"", nullptr},
      {"{brokers: b, topics: v, commit_offsets: true}", "commit_offsets needs group_id: the consumer group to commit to",
       nullptr},
      {"{brokers: b, topic_pattern: 'v.*', start: {offsets: {v: {0: 1}}}}",
       "start.offsets needs topics:, not topic_pattern", nullptr},
      {"{brokers: b, topics: [v, v]}", "topic v is listed twice", nullptr},
      {"{brokers: b, topics: v, tombstones: drop}", "tombstones must be delete, skip or keep, not 'drop'", nullptr},
  };
  for (const auto& c : cases) {
    auto d = Parse(c.yaml);
    ASSERT_FALSE(d.ok()) << c.yaml;
    EXPECT_EQ(d.status().code(), Status::Code::kInvalidSpec) << c.yaml;
    EXPECT_NE(d.status().message().find(c.message), std::string::npos) << c.yaml << "\n" << d.status().ToString();
    EXPECT_EQ(d.status().location().rfind("job.yaml:1:", 0), 0u) << c.yaml << "\n" << d.status().ToString();
    if (std::string(c.yaml).find("topic:") != std::string::npos) {
      EXPECT_EQ(d.status().hint().rfind("did you mean 'topics'?", 0), 0u) << d.status().hint();
    }
    if (c.hint) {
      EXPECT_EQ(d.status().hint(), c.hint) << c.yaml;
    }
    EXPECT_EQ(d.status().ToUserString().find("hunter2"), std::string::npos) << d.status().ToUserString();
  }
}

TEST(KafkaSpec, Timestamps) {
  EXPECT_EQ(*ParseTimestampMillis("0"), 0);
  EXPECT_EQ(*ParseTimestampMillis("1700000000123"), 1700000000123);
  EXPECT_EQ(*ParseTimestampMillis("1970-01-02"), 86400000);
  EXPECT_EQ(*ParseTimestampMillis("2024-05-01T00:00:00Z"), 1714521600000);
  EXPECT_EQ(*ParseTimestampMillis("2024-05-01T00:00:00.5Z"), 1714521600500);
  EXPECT_EQ(*ParseTimestampMillis("2024-05-01T02:00:00+02:00"), 1714521600000);
  EXPECT_FALSE(ParseTimestampMillis("2024-05-01T00:00:00").ok());  // no zone: ambiguous
  EXPECT_FALSE(ParseTimestampMillis("2024-13-01").ok());
  EXPECT_FALSE(ParseTimestampMillis("soon").ok());
}

TEST(KafkaSpec, RoutesFromKafkaDefaultToTheKeyAndToTombstoneDeletes) {
  const std::string job = R"(
savepoint: {path: out}
functions:
  example/user: {states: {profile: {type: io.statefun.types/string}}}
sources:
  users: {kafka: {brokers: "b:9092", topics: users}}
  raw: {kafka: {brokers: "b:9092", topics: users, tombstones: skip}}
routes:
  - {from: users, to: example/user, set: {profile: "{value}"}}
  - {from: users, to: example/user, id: "{value.id}", delete_when: [], set: {profile: "{value}"}}
  - {from: raw, to: example/user, set: {profile: "{value}"}}
)";
  auto spec = ParseJobSpec(job, "job.yaml", "/jobs");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->routes[0].id, "{key}");
  EXPECT_EQ(spec->routes[0].delete_when, std::vector<std::string>{"{value} == null"});
  EXPECT_EQ(spec->routes[1].id, "{value.id}");
  EXPECT_TRUE(spec->routes[1].delete_when.empty());
  EXPECT_TRUE(spec->routes[2].delete_when.empty());
}

PartitionRange Range(const std::string& topic, int32_t p, int64_t start, int64_t end) {
  return PartitionRange{topic, p, start, end};
}

TEST(KafkaPlan, TopicsByListOrPattern) {
  KafkaSourceConfig c;
  c.topics = {"b", "a"};
  EXPECT_EQ(*SelectTopics(c, {"a", "b", "c"}), (std::vector<std::string>{"b", "a"}));  // as listed
  c.topics = {"vists"};
  auto missing = SelectTopics(c, {"visits", "clicks"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().hint(), "did you mean 'visits'?");
  c.topics = {"zzz"};
  EXPECT_EQ(SelectTopics(c, {"visits", "clicks"}).status().hint(), "topics on the cluster: visits, clicks");
  c.topics.clear();
  c.topic_pattern = "visits\\..*";
  EXPECT_EQ(*SelectTopics(c, {"visits.us", "clicks", "visits.eu", "visits", "__consumer_offsets"}),
            (std::vector<std::string>{"visits.eu", "visits.us"}));  // by name
  c.topic_pattern = "nothing.*";
  EXPECT_EQ(SelectTopics(c, {"visits"}).status().code(), Status::Code::kNotFound);
  c.topic_pattern = "(";
  EXPECT_EQ(SelectTopics(c, {"visits"}).status().code(), Status::Code::kInvalidSpec);
}

TEST(KafkaPlan, PartitionGroupsAreBalancedAndDeterministic) {
  std::vector<PartitionRange> parts = {Range("t", 0, 0, 100), Range("t", 1, 0, 10), Range("t", 2, 5, 5),
                                       Range("t", 3, 0, 60),  Range("t", 4, 0, 50), Range("u", 0, 0, 1)};
  const auto groups = GroupPartitions(parts, 2);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<uint32_t>{0, 1, 5}));  // 100 + 10 + 1
  EXPECT_EQ(groups[1], (std::vector<uint32_t>{3, 4}));     // 60 + 50
  EXPECT_EQ(GroupPartitions(parts, 64).size(), 5u);           // empty partition 2 is not read
  EXPECT_EQ(GroupPartitions({Range("t", 0, 3, 3)}, 4).size(), 0u);
}

TEST(KafkaPlan, ExplicitOffsetsAreChecked) {
  KafkaSourceConfig c;
  c.start_offsets["t"] = {{0, 10}, {1, 3}};
  std::vector<PartitionRange> parts = {Range("t", 0, 0, 20), Range("t", 1, 0, 3)};
  ASSERT_TRUE(ApplyExplicitOffsets(c, {0, 0}, &parts).ok());
  EXPECT_EQ(parts[0].start, 10);
  EXPECT_EQ(parts[1].start, 3);
  EXPECT_EQ(parts[1].messages(), 0u);
  Status gone = ApplyExplicitOffsets(c, {11, 0}, &parts);
  EXPECT_EQ(gone.message(),
            "start offset 10 of topic t partition 0 is no longer in the log: the earliest available offset is 11");
  c.start_offsets["t"][1] = 4;
  EXPECT_EQ(ApplyExplicitOffsets(c, {0, 0}, &parts).message(),
            "start offset 4 of topic t partition 1 is past the end of the partition (3)");
  c.start_offsets["t"][7] = 0;
  EXPECT_EQ(ApplyExplicitOffsets(c, {0, 0}, &parts).message(),
            "start.offsets gives partition 7 of topic t, which does not exist");
  c.start_offsets.clear();
  c.start_offsets["other"][0] = 0;
  EXPECT_EQ(ApplyExplicitOffsets(c, {0, 0}, &parts).message(),
            "start.offsets names topic 'other', which this source does not read");
}

TEST(KafkaPlan, PositionsOrderByPartitionThenOffset) {
  EXPECT_LT(EncodePosition(0, (int64_t{1} << 48) - 1), EncodePosition(1, 0));
  EXPECT_LT(EncodePosition(3, 5), EncodePosition(3, 6));
  EXPECT_EQ(PositionPartition(EncodePosition(65535, 7)), 65535u);
  EXPECT_EQ(PositionOffset(EncodePosition(65535, 7)), 7);
  EXPECT_TRUE(CheckPositionLimits({Range("t", 0, 0, (int64_t{1} << 48) - 1)}).ok());
  const Status s = CheckPositionLimits({Range("t", 0, 0, int64_t{1} << 48)});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("beyond the 2^48"), std::string::npos);
}

TEST(KafkaHandoff, IngressSnippetStartsAtTheEndOffsets) {
  KafkaSourceConfig c;
  c.source_name = "visits";
  c.brokers = "b1:9092,b2:9092";
  c.read_committed = true;
  KafkaReadPlan plan;
  plan.captured_at_ms = 1714521600000;
  plan.topics = {"visits"};
  plan.partitions = {Range("visits", 0, 0, 120), Range("visits", 1, 7, 98)};
  const std::string y = IngressSnippet(c, plan);
  const YAML::Node n = YAML::Load(y);
  EXPECT_EQ(n["kind"].as<std::string>(), "io.statefun.kafka.v1/ingress");
  EXPECT_EQ(n["spec"]["address"].as<std::string>(), "b1:9092,b2:9092");
  EXPECT_EQ(n["spec"]["id"].as<std::string>(), "CHANGE-ME/visits");
  EXPECT_EQ(n["spec"]["startupPosition"]["type"].as<std::string>(), "specific-offsets");
  EXPECT_EQ(n["spec"]["startupPosition"]["offsets"][0]["visits/0"].as<int64_t>(), 120);
  EXPECT_EQ(n["spec"]["startupPosition"]["offsets"][1]["visits/1"].as<int64_t>(), 98);
  EXPECT_EQ(n["spec"]["topics"][0]["topic"].as<std::string>(), "visits");
  EXPECT_EQ(n["spec"]["properties"][0]["isolation.level"].as<std::string>(), "read_committed");
  EXPECT_NE(y.find("2024-05-01T00:00:00Z"), std::string::npos);

  c.ingress = {"com.example/visits", "app", "com.example/Visit", {"com.example/fn"}};
  const YAML::Node named = YAML::Load(IngressSnippet(c, plan));
  EXPECT_EQ(named["spec"]["consumerGroupId"].as<std::string>(), "app");
  EXPECT_EQ(named["spec"]["topics"][0]["targets"][0].as<std::string>(), "com.example/fn");
  EXPECT_EQ(IngressSnippet(c, plan).find("CHANGE-ME"), std::string::npos);

  const auto prov = KafkaProvenance(c, plan, 211);
  EXPECT_EQ(prov["end_offsets"]["visits"]["1"], 98);
  EXPECT_EQ(prov["start_offsets"]["visits"]["1"], 7);
  EXPECT_EQ(prov["messages_read"], 211);
  EXPECT_EQ(prov["ingress_snippet"], "kafka-ingress-visits.yaml");
  EXPECT_EQ(IngressSnippetFileName("a/b c"), "kafka-ingress-a_b_c.yaml");
}

TEST(KafkaProgress, PerTopicMessagesRatePercentAndEta) {
  KafkaReadPlan plan;
  plan.topics = {"visits", "clicks"};
  plan.partitions = {Range("visits", 0, 0, 600), Range("visits", 1, 100, 500), Range("clicks", 0, 0, 50)};
  KafkaProgress progress("web", plan, 0);
  progress.Add(0, 400, 500);  // 1000 offsets to read in visits
  progress.Add(1, 50, 50);
  const auto lines = progress.Lines(2.0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "kafka web: topic visits 400 messages, 200/s, 50.0% of the captured range, ETA 0:02");
  EXPECT_EQ(lines[1], "kafka web: topic clicks 50 messages, 25/s, 100.0% of the captured range, done");
}

}  // namespace
}  // namespace sfb
