// AvroSchemaFileDecoder through RecordDecoder: single-object encoded and bare datums of the schema file,
// and messages written with another schema.

#include "connectors/kafka/avro_schema_file_decoder.h"

#include <gtest/gtest.h>

#include "connectors/kafka/record_decoder.h"
#include "connectors/kafka/testing_schema_source.h"
#include "formats/avro_canonical_form.h"

namespace sfb {
namespace {

using namespace std::string_literals;

const char* kUser = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "name", "type": "string"}, {"name": "age", "type": "int"}]})";

std::string AvroString(const std::string& s) { return std::string(1, static_cast<char>(s.size() * 2)) + s; }
std::string AvroSmallInt(int v) { return std::string(1, static_cast<char>(v * 2)); }

std::string SingleObject(uint64_t fingerprint, const std::string& datum) {
  std::string out = "\xC3\x01"s;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xff));
  out.append(datum);
  return out;
}

struct AvroFileFixture {
  uint64_t fingerprint = AvroFingerprint64(*AvroParsingCanonicalForm(kUser));
  KafkaFormat raw{KafkaFormat::Kind::kRaw, false, "", "", nullptr};
  KafkaFormat avro = [this] {
    KafkaFormat f{KafkaFormat::Kind::kAvro, false, "", "", nullptr};
    f.avro_schema_path = "/jobs/user.avsc";
    f.avro_schema = *AvroSchema::Parse(kUser);
    f.avro_fingerprint = fingerprint;
    return f;
  }();
  RecordDecoder decoder{raw, avro, nullptr, nullptr};
};

TEST(AvroSchemaFileDecoder, SingleObjectAndBareDatumsDecodeTheSame) {
  AvroFileFixture f;
  const std::string datum = AvroString("ana") + AvroSmallInt(31);
  Record single, bare;
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(SingleObject(f.fingerprint, datum), 0), &single).ok());
  ASSERT_TRUE(f.decoder.Decode(TestingMessage(datum, 1), &bare).ok());
  for (const Record* r : {&single, &bare}) {
    EXPECT_EQ(r->Get("value.name"), Value::Text("ana"));
    EXPECT_EQ(r->Get("value.age"), Value::Int(31));
    EXPECT_EQ(r->Get("value"), Value::Text(R"({"name":"ana","age":31})"));
  }
}

TEST(AvroSchemaFileDecoder, AnotherSchemasFingerprintIsABadRecordNamingBoth) {
  AvroFileFixture f;
  Record r;
  Status s = f.decoder.Decode(TestingMessage(SingleObject(0x1122334455667788ULL, AvroString("ana") + AvroSmallInt(3)), 0), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("the value is Avro single-object encoded with schema fingerprint 0x1122334455667788, not "
                             "that of /jobs/user.avsc (0x"),
            std::string::npos)
      << s.ToString();
  // a bare datum that does not decode names the schema file
  s = f.decoder.Decode(TestingMessage(AvroString("ana"), 1), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the value (schema /jobs/user.avsc): the bytes are not an Avro datum of example.User"),
            std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace sfb
