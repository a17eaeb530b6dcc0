// Expected forms and fingerprints were computed with fastavro (to_parsing_canonical_form, fingerprint
// "CRC-64-AVRO"), an implementation independent of this one.

#include "formats/avro_canonical_form.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

const char* kUser = R"({"type": "record", "name": "User", "namespace": "example", "doc": "a user", "fields": [
   {"name": "name", "type": "string", "default": "x", "doc": "d"},
   {"name": "address", "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}},
   {"name": "home", "type": ["null", "Address"]},
   {"name": "color", "type": {"type": "enum", "name": "Color", "namespace": "other", "symbols": ["RED", "GREEN"]}},
   {"name": "hash", "type": {"type": "fixed", "name": "x.Hash", "size": 4}},
   {"name": "tags", "type": {"type": "array", "items": "string"}},
   {"name": "attrs", "type": {"type": "map", "values": {"type": "long", "logicalType": "timestamp-millis"}}}]})";

TEST(AvroCanonicalForm, KeepsOnlyWhatParsingNeedsInTheSpecifiedOrder) {
  auto form = AvroParsingCanonicalForm(kUser);
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_EQ(*form,
            R"({"name":"example.User","type":"record","fields":[{"name":"name","type":"string"},)"
            R"({"name":"address","type":{"name":"example.Address","type":"record","fields":[{"name":"city",)"
            R"("type":"string"}]}},{"name":"home","type":["null","example.Address"]},{"name":"color","type":)"
            R"({"name":"other.Color","type":"enum","symbols":["RED","GREEN"]}},{"name":"hash","type":{"name":)"
            R"("x.Hash","type":"fixed","size":4}},{"name":"tags","type":{"type":"array","items":"string"}},)"
            R"({"name":"attrs","type":{"type":"map","values":"long"}}]})");
  EXPECT_EQ(AvroFingerprint64(*form), 0x2d3f952d11343be7ULL);
  auto primitive = AvroParsingCanonicalForm(R"({"type": "string", "logicalType": "uuid"})");
  ASSERT_TRUE(primitive.ok());
  EXPECT_EQ(*primitive, R"("string")");
  EXPECT_EQ(AvroFingerprint64(*primitive), 0x8f014872634503c7ULL);
  EXPECT_EQ(AvroFingerprint64(R"("int")"), 0x7275d51a3f395c8fULL);
}

TEST(AvroCanonicalForm, NotASchemaIsAnError) {
  EXPECT_FALSE(AvroParsingCanonicalForm("{").ok());
  EXPECT_FALSE(AvroParsingCanonicalForm(R"({"name": "x"})").ok());
  EXPECT_FALSE(AvroParsingCanonicalForm(R"({"type": "record", "fields": []})").ok());
}

}  // namespace
}  // namespace sfb
