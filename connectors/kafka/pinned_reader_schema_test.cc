// Reader schemas pinned in the registry (pinned_reader_schema.h) with an in-memory SchemaSource: fetching
// a subject's version or its latest, the errors naming subject and version with what the registry has,
// projection through a pinned schema equal to projection through the same schema as a file, and
// subject_name_strategy: record (each writer record's name is the subject) through RecordDecoder.

#include "connectors/kafka/pinned_reader_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/testing_schema_source.h"

namespace sfb {
namespace {

const char* kUserV1 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "int"}]})";
const char* kUserV2 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "long"},
    {"name": "tier", "type": "string", "default": "basic"}]})";
const char* kVisit = R"({"type": "record", "name": "Visit", "namespace": "example", "fields": [
    {"name": "page", "type": "string"}]})";

std::string AvroString(const std::string& s) { return std::string(1, static_cast<char>(s.size() * 2)) + s; }
std::string AvroSmallInt(int v) { return std::string(1, static_cast<char>(v * 2)); }

struct Registry {
  std::shared_ptr<TestingSchemaSource> source = std::make_shared<TestingSchemaSource>();
  Registry() {
    source->schemas[1] = RegistrySchema{1, "AVRO", kUserV1, {}};
    source->schemas[2] = RegistrySchema{2, "AVRO", kUserV2, {}};
    source->schemas[3] = RegistrySchema{3, "AVRO", kVisit, {}};
    source->versions[{"users-value", 1}] = source->schemas[1];
    source->versions[{"users-value", 2}] = source->schemas[2];
    source->versions[{"example.User", 1}] = source->schemas[1];
    source->versions[{"example.User", 2}] = source->schemas[2];
    source->versions[{"visits-value", 1}] = RegistrySchema{7, "PROTOBUF", "syntax = \"proto3\"; message V {}", {}};
  }
};

TEST(PinnedReaderSchema, AVersionOrTheLatestOfASubject) {
  Registry r;
  Result<PinnedReaderSchema> v1 = FetchPinnedReaderSchema(*r.source, "users-value", 1, "value");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->name, "subject users-value version 1 (schema id 1)");
  EXPECT_EQ(v1->schema->name(), "example.User");
  Result<PinnedReaderSchema> latest = FetchPinnedReaderSchema(*r.source, "users-value", kLatestSchemaVersion, "value");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->name, "subject users-value version latest (schema id 2)");
}

TEST(PinnedReaderSchema, ErrorsNameSubjectVersionAndWhatTheRegistryHas) {
  Registry r;
  Result<PinnedReaderSchema> no_version = FetchPinnedReaderSchema(*r.source, "users-value", 9, "value");
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.status().code(), Status::Code::kInvalidSpec);
  EXPECT_EQ(no_version.status().message(),
            "the value's reader schema (subject users-value version 9): subject users-value has no version 9 "
            "(it has versions 1, 2)");
  EXPECT_NE(no_version.status().hint().find("reader_schema.version"), std::string::npos);

  Result<PinnedReaderSchema> no_subject = FetchPinnedReaderSchema(*r.source, "user-value", 1, "key");
  ASSERT_FALSE(no_subject.ok());
  EXPECT_EQ(no_subject.status().code(), Status::Code::kInvalidSpec);
  EXPECT_EQ(no_subject.status().message(),
            "the key's reader schema (subject user-value version 1): the schema registry has no subject user-value "
            "(its subjects: example.User, users-value, visits-value)");
  EXPECT_NE(no_subject.status().hint().find("reader_schema.subject"), std::string::npos);

  Result<PinnedReaderSchema> protobuf = FetchPinnedReaderSchema(*r.source, "visits-value", 1, "value");
  ASSERT_FALSE(protobuf.ok());
  EXPECT_EQ(protobuf.status().code(), Status::Code::kInvalidSpec);
  EXPECT_EQ(protobuf.status().message(),
            "the value's reader schema (subject visits-value version 1) is a PROTOBUF schema (id 7), not Avro");
  EXPECT_NE(protobuf.status().hint().find("only Avro values are projected"), std::string::npos);

  r.source->versions[{"broken", 1}] = RegistrySchema{8, "AVRO", R"({"type": "record", "name": "B", "fields": [)", {}};
  Result<PinnedReaderSchema> broken = FetchPinnedReaderSchema(*r.source, "broken", 1, "value");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("(subject broken version 1), schema id 8, does not compile: "),
            std::string::npos) << broken.status().ToString();

  r.source->down = true;
  Result<PinnedReaderSchema> down = FetchPinnedReaderSchema(*r.source, "users-value", 1, "value");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Status::Code::kIoError);
  EXPECT_NE(down.status().ToString().find("the value's reader schema (subject users-value version 1)"),
            std::string::npos) << down.status().ToString();
  EXPECT_NE(down.status().ToString().find("the schema registry does not answer"), std::string::npos);
}

// The fields and JSON of each record, decoded with `format`.
std::vector<std::string> Decoded(const KafkaFormat& format, std::shared_ptr<SchemaSource> source,
                                 const std::vector<std::string>& values) {
  const KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  RecordDecoder decoder{raw, format, nullptr, nullptr, nullptr, std::move(source)};
  std::vector<std::string> out;
  for (size_t i = 0; i < values.size(); ++i) {
    Record r;
    Status s = decoder.Decode(TestingMessage(values[i], static_cast<int64_t>(i)), &r);
    if (!s.ok()) {
      out.push_back(StrCat("error: ", s.ToString()));
      continue;
    }
    for (const std::string& name : r.schema().names()) out.push_back(StrCat(name, "=", r.Get(name).is_null() ? "NULL" : r.Get(name).ToText()));
  }
  return out;
}

TEST(PinnedReaderSchema, ProjectsExactlyAsTheSameSchemaFromAFile) {
  Registry r;
  const std::vector<std::string> values{RegistryFramed(1, AvroString("ana") + AvroSmallInt(31)),
                                        RegistryFramed(2, AvroString("bo") + AvroSmallInt(40) + AvroString("gold"))};
  KafkaFormat pinned{KafkaFormat::Kind::kAvro, false, "", "", std::make_shared<SchemaRegistryConfig>()};
  Result<PinnedReaderSchema> fetched = FetchPinnedReaderSchema(*r.source, "users-value", 2, "value");
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  pinned.avro_reader_schema = fetched->schema;  // what KafkaSource::Prepare does
  pinned.avro_reader_schema_path = fetched->name;
  KafkaFormat file = pinned;
  file.avro_reader_schema = AvroSchema::Parse(kUserV2).value();
  file.avro_reader_schema_path = "user-v2.avsc";
  const std::vector<std::string> through_pin = Decoded(pinned, r.source, values);
  EXPECT_EQ(through_pin, Decoded(file, r.source, values));
  // and the v1 record took v2's default
  EXPECT_NE(std::find(through_pin.begin(), through_pin.end(), "value.tier=basic"), through_pin.end());
  EXPECT_NE(std::find(through_pin.begin(), through_pin.end(), "value.tier=gold"), through_pin.end());
}

TEST(PinnedReaderSchema, RecordNameStrategyReadsEachWriterWithItsRecordNamesSubject) {
  Registry r;
  KafkaFormat by_name{KafkaFormat::Kind::kAvro, false, "", "", std::make_shared<SchemaRegistryConfig>()};
  by_name.avro_reader_version = kLatestSchemaVersion;  // no subject: each writer record's full name
  r.source->versions[{"example.Visit", 1}] = r.source->schemas[3];
  const std::vector<std::string> got =
      Decoded(by_name, r.source,
              {RegistryFramed(1, AvroString("ana") + AvroSmallInt(31)), RegistryFramed(3, AvroString("/home")),
               RegistryFramed(1, AvroString("cy") + AvroSmallInt(22))});
  const std::vector<std::string> expected{
      "topic=users", "partition=1", "offset=0", "timestamp=NULL", "key=u1",
      R"(value={"name":"ana","age":31,"tier":"basic"})", "value.name=ana", "value.age=31", "value.tier=basic",
      "topic=users", "partition=1", "offset=1", "timestamp=NULL", "key=u1", R"(value={"page":"/home"})",
      "value.page=/home",
      "topic=users", "partition=1", "offset=2", "timestamp=NULL", "key=u1",
      R"(value={"name":"cy","age":22,"tier":"basic"})", "value.name=cy", "value.age=22", "value.tier=basic"};
  EXPECT_EQ(got, expected);

  // a record whose name has no subject fails the run (not a bad record), naming the id and the subject
  r.source->versions.erase({"example.Visit", 1});
  KafkaFormat pinned_v1 = by_name;
  pinned_v1.avro_reader_version = 1;
  const KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  RecordDecoder decoder{raw, pinned_v1, nullptr, nullptr, nullptr, r.source};
  Record rec;
  const std::string visit = RegistryFramed(3, AvroString("/home"));
  Status s = decoder.Decode(TestingMessage(visit, 0), &rec);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidSpec) << s.ToString();
  EXPECT_NE(s.ToString().find("the value's writer schema id 3: the value's reader schema (subject example.Visit "
                              "version 1): the schema registry has no subject example.Visit"),
            std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sfb
