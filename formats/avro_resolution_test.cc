// AvroResolution on datums encoded here byte by byte with the writer schema: each resolved datum is read
// back with the reader schema's AvroDatumReader, so the assertions are on the fields a job would see.
// Covers every rule of the header: fields by name and alias, reader defaults (also nested records and
// unions with a null default), dropped writer fields, reordering, promotions, enums, unions both ways,
// and the schema pairs Compile must refuse.

#include "formats/avro_resolution.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sfb {
namespace {

struct Fields : FieldSink {
  std::vector<std::pair<std::string, Value>> got;
  void Add(std::string_view name, Value value) override { got.emplace_back(std::string(name), std::move(value)); }
  const Value* find(const std::string& name) const {
    for (const auto& [n, v] : got) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  const Value& at(const std::string& name) const {
    if (const Value* v = find(name)) return *v;
    ADD_FAILURE() << "no field " << name;
    static const Value kNull = Value::Null();
    return kNull;
  }
};

// The Avro binary encoding, written out independently of the code under test.
struct Encoder {
  std::string out;
  Encoder& Long(int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80) {
      out.push_back(static_cast<char>((z & 0x7f) | 0x80));
      z >>= 7;
    }
    out.push_back(static_cast<char>(z));
    return *this;
  }
  Encoder& Bytes(std::string_view b) {
    Long(static_cast<int64_t>(b.size()));
    out.append(b);
    return *this;
  }
  Encoder& Float(float f) {
    char b[4];
    std::memcpy(b, &f, 4);
    out.append(b, 4);
    return *this;
  }
};

std::shared_ptr<const AvroSchema> Schema(const char* json) {
  auto s = AvroSchema::Parse(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

// Resolves `datum` (of `writer`) and reads the result with `reader`: the fields, or the failing status.
Result<Fields> ResolveAndRead(const char* writer, const char* reader, const std::string& datum) {
  auto w = Schema(writer);
  auto r = Schema(reader);
  auto resolution = AvroResolution::Compile(w, r);
  if (!resolution.ok()) return resolution.status();
  std::string resolved;
  SFB_RETURN_IF_ERROR((*resolution)->Resolve(datum, &resolved));
  AvroDatumReader read(r);
  Fields f;
  std::string json;
  SFB_RETURN_IF_ERROR(read.Read(resolved, "value", &f, &json));
  f.got.emplace_back("json", Value::Text(json));
  return f;
}

const char* kUserV1 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "legacy", "type": "int"}]})";

const char* kUserV2 = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
  {"name": "name", "type": "string"},
  {"name": "id", "type": "long"},
  {"name": "email", "type": "string", "default": "none@example.com"},
  {"name": "nick", "type": ["null", "string"], "default": null},
  {"name": "home", "type": {"type": "record", "name": "Address", "fields": [
      {"name": "city", "type": "string", "default": "Oslo"},
      {"name": "zip", "type": ["null", "int"], "default": null}]},
   "default": {"zip": null}},
  {"name": "flags", "type": {"type": "array", "items": "int"}, "default": [1, 2]},
  {"name": "photo", "type": "bytes", "default": "\u00ff\u0001"}]})";

TEST(AvroResolution, ReaderDefaultsFillWhatTheWriterLacksAndWriterExtrasAreDropped) {
  const std::string datum = Encoder().Long(7).Bytes("ann").Long(99).out;
  Result<Fields> f = ResolveAndRead(kUserV1, kUserV2, datum);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.id").as_int(), 7);
  EXPECT_EQ(f->at("value.name").as_string(), "ann");
  EXPECT_EQ(f->at("value.email").as_string(), "none@example.com");
  EXPECT_EQ(f->at("value.nick").kind(), Value::Kind::kNull);
  EXPECT_EQ(f->at("value.home.city").as_string(), "Oslo");  // nested: the field's own default
  EXPECT_EQ(f->at("value.home.zip").kind(), Value::Kind::kNull);
  EXPECT_EQ(f->at("value.flags").as_string(), "[1,2]");
  EXPECT_EQ(f->at("value.photo").as_string(), "\xff\x01");
  EXPECT_EQ(f->find("value.legacy"), nullptr);
  EXPECT_EQ(f->at("json").as_string(),
            R"({"name":"ann","id":7,"email":"none@example.com","nick":null,"home":{"city":"Oslo","zip":null},)"
            R"("flags":[1,2],"photo":"/wE="})");
}

TEST(AvroResolution, FieldsMatchByReaderAliasAndNestedRecordsResolve) {
  const char* writer = R"({"type": "record", "name": "old.Person", "fields": [
    {"name": "full_name", "type": "string"},
    {"name": "home", "type": {"type": "record", "name": "Place", "fields": [
      {"name": "town", "type": "string"}, {"name": "extra", "type": "long"}]}}]})";
  const char* reader = R"({"type": "record", "name": "Person", "namespace": "example", "aliases": ["old.Person"],
    "fields": [
    {"name": "name", "type": "string", "aliases": ["full_name"]},
    {"name": "home", "type": {"type": "record", "name": "Place", "fields": [
      {"name": "city", "type": "string", "aliases": ["town"]},
      {"name": "zip", "type": "string", "default": "0000"}]}}]})";
  const std::string datum = Encoder().Bytes("bo").Bytes("Bergen").Long(5).out;
  Result<Fields> f = ResolveAndRead(writer, reader, datum);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.name").as_string(), "bo");
  EXPECT_EQ(f->at("value.home.city").as_string(), "Bergen");
  EXPECT_EQ(f->at("value.home.zip").as_string(), "0000");
}

TEST(AvroResolution, Promotions) {
  const char* writer = R"({"type": "record", "name": "P", "fields": [
    {"name": "a", "type": "int"}, {"name": "b", "type": "int"}, {"name": "c", "type": "long"},
    {"name": "d", "type": "float"}, {"name": "e", "type": "string"}, {"name": "f", "type": "bytes"},
    {"name": "g", "type": "int"}, {"name": "h", "type": "long"}]})";
  const char* reader = R"({"type": "record", "name": "P", "fields": [
    {"name": "a", "type": "long"}, {"name": "b", "type": "float"}, {"name": "c", "type": "double"},
    {"name": "d", "type": "double"}, {"name": "e", "type": "bytes"}, {"name": "f", "type": "string"},
    {"name": "g", "type": "double"}, {"name": "h", "type": "float"}]})";
  const std::string datum =
      Encoder().Long(-5).Long(3).Long(int64_t{1} << 40).Float(1.5f).Bytes("xy").Bytes("zw").Long(9).Long(-2).out;
  Result<Fields> f = ResolveAndRead(writer, reader, datum);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.a").as_int(), -5);
  EXPECT_EQ(f->at("value.b").as_double(), 3.0);
  EXPECT_EQ(f->at("value.c").as_double(), static_cast<double>(int64_t{1} << 40));
  EXPECT_EQ(f->at("value.d").as_double(), 1.5);
  EXPECT_EQ(f->at("value.e").kind(), Value::Kind::kBytes);
  EXPECT_EQ(f->at("value.e").as_string(), "xy");
  EXPECT_EQ(f->at("value.f").kind(), Value::Kind::kText);
  EXPECT_EQ(f->at("value.f").as_string(), "zw");
  EXPECT_EQ(f->at("value.g").as_double(), 9.0);
  EXPECT_EQ(f->at("value.h").as_double(), -2.0);

  auto refused = ResolveAndRead(R"("long")", R"("int")", Encoder().Long(1).out);  // no demotion
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidSpec);
  EXPECT_NE(refused.status().message().find("the writer's long cannot be read as the reader's int"), std::string::npos)
      << refused.status().message();
}

TEST(AvroResolution, UnionsOnEitherSide) {
  // writer union -> reader non-union: the null branch cannot resolve, only datums holding it fail
  const char* opt = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": ["null", "int"]}]})";
  const char* plain = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]})";
  Result<Fields> f = ResolveAndRead(opt, plain, Encoder().Long(1).Long(21).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.x").as_int(), 21);
  Result<Fields> null_branch = ResolveAndRead(opt, plain, Encoder().Long(0).out);
  ASSERT_FALSE(null_branch.ok());
  EXPECT_EQ(null_branch.status().code(), Status::Code::kBadRecord);
  EXPECT_NE(null_branch.status().message().find("R.x"), std::string::npos) << null_branch.status().message();

  // writer non-union -> reader union: the branch of the same type, else the first it promotes to
  const char* to_union = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": ["null", "string", "double"]}]})";
  const char* ints = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]})";
  f = ResolveAndRead(ints, to_union, Encoder().Long(4).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.x").as_double(), 4.0);
  const char* strings = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": "string"}]})";
  f = ResolveAndRead(strings, to_union, Encoder().Bytes("s").out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.x").as_string(), "s");

  // union -> union: each writer branch finds its reader branch
  const char* wide = R"({"type": "record", "name": "R", "fields": [{"name": "x", "type": ["string", "null", "long"]}]})";
  f = ResolveAndRead(opt, wide, Encoder().Long(0).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.x").kind(), Value::Kind::kNull);
  f = ResolveAndRead(opt, wide, Encoder().Long(1).Long(-8).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.x").as_int(), -8);
}

TEST(AvroResolution, EnumsTakeTheReaderDefaultForSymbolsItLacks) {
  const char* writer = R"({"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]})";
  const char* with_default = R"({"type": "enum", "name": "Color", "symbols": ["GREEN", "OTHER", "RED"], "default": "OTHER"})";
  const char* without = R"({"type": "enum", "name": "Color", "symbols": ["GREEN", "RED"]})";
  Result<Fields> f = ResolveAndRead(writer, with_default, Encoder().Long(0).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value").as_string(), "RED");
  f = ResolveAndRead(writer, with_default, Encoder().Long(2).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value").as_string(), "OTHER");
  f = ResolveAndRead(writer, without, Encoder().Long(2).out);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kBadRecord);
  EXPECT_NE(f.status().message().find("the writer's symbol BLUE is not one of the reader's enum Color"),
            std::string::npos)
      << f.status().message();
}

TEST(AvroResolution, ArraysAndMapsResolveTheirItems) {
  const char* writer = R"({"type": "record", "name": "R", "fields": [
    {"name": "a", "type": {"type": "array", "items": "int"}},
    {"name": "m", "type": {"type": "map", "values": {"type": "record", "name": "V", "fields": [{"name": "n", "type": "int"}]}}}]})";
  const char* reader = R"({"type": "record", "name": "R", "fields": [
    {"name": "a", "type": {"type": "array", "items": "double"}},
    {"name": "m", "type": {"type": "map", "values": {"type": "record", "name": "V", "fields": [
      {"name": "n", "type": "long"}, {"name": "tag", "type": "string", "default": "t"}]}}}]})";
  // a in two blocks, the second with a negative count and its byte size
  const std::string datum = Encoder().Long(1).Long(1).Long(-1).Long(1).Long(2).Long(0).Long(1).Bytes("k").Long(3).Long(0).out;
  Result<Fields> f = ResolveAndRead(writer, reader, datum);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("value.a").as_string(), "[1,2]");
  EXPECT_EQ(f->at("value.m").as_string(), R"({"k":{"n":3,"tag":"t"}})");
}

TEST(AvroResolution, AReaderFieldWithoutDefaultThatTheWriterLacksFailsCompile) {
  const char* reader = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "id", "type": "long"},
    {"name": "home", "type": {"type": "record", "name": "Address", "fields": [{"name": "zip", "type": "int"}]},
     "default": {"zip": 1}},
    {"name": "email", "type": "string"}]})";
  auto resolution = AvroResolution::Compile(Schema(kUserV1), Schema(reader));
  ASSERT_FALSE(resolution.ok());
  EXPECT_EQ(resolution.status().code(), Status::Code::kInvalidSpec);
  EXPECT_NE(resolution.status().message().find(
                "the reader's field example.User.email has no default and the writer's record example.User has no "
                "such field"),
            std::string::npos)
      << resolution.status().message();

  const char* nested_writer = R"({"type": "record", "name": "R", "fields": [
    {"name": "in", "type": {"type": "record", "name": "I", "fields": [{"name": "a", "type": "int"}]}}]})";
  const char* nested_reader = R"({"type": "record", "name": "R", "fields": [
    {"name": "in", "type": {"type": "record", "name": "I", "fields": [{"name": "b", "type": "int"}]}}]})";
  resolution = AvroResolution::Compile(Schema(nested_writer), Schema(nested_reader));
  ASSERT_FALSE(resolution.ok());
  EXPECT_NE(resolution.status().message().find("R.in.b has no default"), std::string::npos)
      << resolution.status().message();

  const char* other_name = R"({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]})";
  resolution = AvroResolution::Compile(Schema(kUserV1), Schema(other_name));
  ASSERT_FALSE(resolution.ok());
  EXPECT_NE(resolution.status().message().find("the writer's record example.User cannot be read as the reader's "
                                               "record Order"),
            std::string::npos)
      << resolution.status().message();

  const char* bad_default = R"({"type": "record", "name": "User", "namespace": "example", "fields": [
    {"name": "id", "type": "long"}, {"name": "n", "type": ["null", "int"], "default": "x"}]})";
  resolution = AvroResolution::Compile(Schema(kUserV1), Schema(bad_default));
  ASSERT_FALSE(resolution.ok());
  EXPECT_NE(resolution.status().message().find("the default of example.User.n is \"x\", not null"), std::string::npos)
      << resolution.status().message();
}

TEST(AvroResolution, RecursiveSchemasAndCorruptWriterDatums) {
  const char* list = R"({"type": "record", "name": "Node", "fields": [
    {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]})";
  const char* list_reader = R"({"type": "record", "name": "Node", "fields": [
    {"name": "v", "type": "long"}, {"name": "w", "type": "int", "default": 0}, {"name": "next", "type": ["null", "Node"]}]})";
  Result<Fields> f = ResolveAndRead(list, list_reader, Encoder().Long(1).Long(1).Long(2).Long(0).out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->at("json").as_string(), R"({"v":1,"w":0,"next":{"v":2,"w":0,"next":null}})");

  // a string length far beyond the datum: a BadRecord naming the field, nothing allocated for it
  Result<Fields> corrupt = ResolveAndRead(kUserV1, kUserV2, Encoder().Long(7).Long(int64_t{1} << 62).out);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), Status::Code::kBadRecord);
  EXPECT_NE(corrupt.status().message().find("example.User.name"), std::string::npos) << corrupt.status().message();
  Result<Fields> extra = ResolveAndRead(kUserV1, kUserV2, Encoder().Long(7).Bytes("a").Long(1).Long(0).out);
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("1 bytes are left over"), std::string::npos) << extra.status().message();
}

}  // namespace
}  // namespace sfb
