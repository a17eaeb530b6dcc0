#include "connectors/kafka/record_decoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sfb {
namespace {

KafkaFormat Format(KafkaFormat::Kind kind, bool bytes = false) { return KafkaFormat{kind, bytes, "", "", nullptr}; }

KafkaMessageView Message(std::optional<std::string_view> key, std::optional<std::string_view> value) {
  KafkaMessageView m;
  m.topic = "visits";
  m.partition = 2;
  m.offset = 41;
  m.timestamp = 1700000000123;
  m.key = key;
  m.value = value;
  return m;
}

std::vector<std::string> Names(const Record& r) { return r.schema().names(); }

TEST(RecordDecoder, JsonObjectsFlattenUnderValueWithTheirTypes) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  const std::string value =
      R"({"user":"ana","n":5,"x":1.5,"ok":true,"nil":null,"addr":{"city":"Oslo","geo":{"lat":59}},"tags":[1,2]})";
  Record r;
  ASSERT_TRUE(d.Decode(Message("ana", value), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value",
                                                "value.user", "value.n", "value.x", "value.ok", "value.nil",
                                                "value.addr.city", "value.addr.geo.lat", "value.tags"}));
  EXPECT_EQ(r.Get("topic"), Value::Text("visits"));
  EXPECT_EQ(r.Get("partition"), Value::Int(2));
  EXPECT_EQ(r.Get("offset"), Value::Int(41));
  EXPECT_EQ(r.Get("timestamp"), Value::Int(1700000000123));
  EXPECT_EQ(r.Get("key"), Value::Text("ana"));
  EXPECT_EQ(r.Get("value"), Value::Text(value));
  EXPECT_EQ(r.Get("value.n"), Value::Int(5));
  EXPECT_EQ(r.Get("value.x"), Value::Double(1.5));
  EXPECT_EQ(r.Get("value.ok"), Value::Bool(true));
  EXPECT_TRUE(r.Get("value.nil").is_null());
  EXPECT_EQ(r.Get("value.addr.geo.lat"), Value::Int(59));
  EXPECT_EQ(r.Get("value.tags"), Value::Text("[1,2]"));
}

TEST(RecordDecoder, JsonScalarsArraysAndNull) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record r;
  ASSERT_TRUE(d.Decode(Message("k", "42"), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Int(42));
  ASSERT_TRUE(d.Decode(Message("k", "\"text\""), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Text("text"));
  ASSERT_TRUE(d.Decode(Message("k", " [1, 2] "), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Text("[1,2]"));
  ASSERT_TRUE(d.Decode(Message("k", "null"), &r).ok());
  EXPECT_TRUE(r.Get("value").is_null());
}

TEST(RecordDecoder, JsonArraysStayCompactJsonTextAndRepeatedMembersKeepTheLastValue) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record r;
  const std::string value = R"({"a": [ 1, -2.50, "x\"y", null, true, {"k": [ ], "m": {"n": 18446744073709551615}}, [[]] ],
                               "b": 1, "a2": {}, "b": 2, "big": 18446744073709551615})";
  ASSERT_TRUE(d.Decode(Message("k", value), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value", "value.a",
                                                "value.b", "value.big"}));
  EXPECT_EQ(r.Get("value.a"), Value::Text(R"([1,-2.50,"x\"y",null,true,{"k":[],"m":{"n":18446744073709551615}},[[]]])"));
  EXPECT_EQ(r.Get("value.b"), Value::Int(2));
  EXPECT_EQ(r.Get("value.big"), Value::Text("18446744073709551615"));
  // The same field list again takes the cached path.
  ASSERT_TRUE(d.Decode(Message("k", R"({"a": [], "b": 5, "a2": {}, "b": 6, "big": 1})"), &r).ok());
  EXPECT_EQ(r.Get("value.b"), Value::Int(6));
  EXPECT_EQ(r.Get("value.a"), Value::Text("[]"));
}

TEST(RecordDecoder, MalformedJsonIsABadRecordWithAFix) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record r;
  const Status s = d.Decode(Message("k", "{\"user\": ana}"), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_NE(s.message().find("the value is not JSON ('{\"user\": ana}'): parse error"), std::string::npos) << s.message();
  EXPECT_EQ(s.hint(), "fix the producer, or read the value as text: value: raw");
}

TEST(RecordDecoder, ErrorsQuoteTheTextAsWrittenAndEscapeOnlyWhatIsNotPrintableText) {
  RecordDecoder json(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record r;
  Status s = json.Decode(Message("Zoë", "{\"name\": Zoë,\n \"city\": \"Zürich\"}"), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the value is not JSON ('{\"name\": Zoë,\\n \"city\": \"Zürich\"}'): parse error at byte 10: "
                         "expected a JSON value, found 'Z'");
  s = json.Decode(Message("k", "{\"name\": ë}"), &r);
  EXPECT_NE(s.message().find("found 'ë'"), std::string::npos) << s.message();
  // A long value is cut at the preview's length, before a character that would not fit whole.
  s = json.Decode(Message("k", "{\"name\": \"" + std::string(28, 'x') + "Zoë\" x}"), &r);
  EXPECT_NE(s.message().find("('{\"name\": \"" + std::string(28, 'x') + "Zo...')"), std::string::npos) << s.message();

  RecordDecoder text(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  s = text.Decode(Message("k", "Zoë is \xeb in Latin-1"), &r);
  EXPECT_EQ(s.message(), "the value is not UTF-8 text ('Zoë is \\xeb in Latin-1')");
}

TEST(RecordDecoder, RawValuesAreCheckedTextOrBytes) {
  RecordDecoder text(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  Record r;
  ASSERT_TRUE(text.Decode(Message("k", "héllo"), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Text("héllo"));
  const Status s = text.Decode(Message("k", std::string_view("\xff\xfe", 2)), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "the value is not UTF-8 text ('\\xff\\xfe')");
  EXPECT_EQ(s.hint(), "read binary data as bytes: value: {format: raw, as: bytes}");

  RecordDecoder bytes(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw, true), nullptr, nullptr);
  ASSERT_TRUE(bytes.Decode(Message("k", std::string_view("\xff\x00", 2)), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Bytes(std::string("\xff\x00", 2)));
  ASSERT_TRUE(bytes.Decode(Message("k", ""), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Bytes(""));  // empty, not null
}

TEST(RecordDecoder, TombstonesAndMissingKeysAreNull) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record r;
  ASSERT_TRUE(d.Decode(Message(std::nullopt, std::nullopt), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value"}));
  EXPECT_TRUE(r.Get("key").is_null());
  EXPECT_TRUE(r.Get("value").is_null());
}

TEST(RecordDecoder, HeadersLastOfARepeatedNameWinsNullAndBinaryKept) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  KafkaMessageView m = Message("k", "v");
  m.headers = {{"source", "web"}, {"trace", std::nullopt}, {"source", "app"}, {"bin", std::string_view("\xc3", 1)}};
  m.timestamp = -1;
  Record r;
  ASSERT_TRUE(d.Decode(m, &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "headers.source",
                                                "headers.trace", "headers.bin", "value"}));
  EXPECT_EQ(r.Get("headers.source"), Value::Text("app"));
  EXPECT_TRUE(r.Get("headers.trace").is_null());
  EXPECT_EQ(r.Get("headers.bin"), Value::Bytes("\xc3"));
  EXPECT_TRUE(r.Get("timestamp").is_null());
}

TEST(RecordDecoder, JsonKeysFlattenUnderKey) {
  RecordDecoder d(Format(KafkaFormat::Kind::kJson), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  Record r;
  ASSERT_TRUE(d.Decode(Message(R"({"id":7,"region":"eu"})", "v"), &r).ok());
  EXPECT_EQ(r.Get("key.id"), Value::Int(7));
  EXPECT_EQ(r.Get("key.region"), Value::Text("eu"));
  const Status s = d.Decode(Message("plain", "v"), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the key is not JSON"), std::string::npos);
}

TEST(RecordDecoder, RecordsWithTheSameFieldsShareOneSchema) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  Record a, b, c, e;
  ASSERT_TRUE(d.Decode(Message("k", R"({"x":1})"), &a).ok());
  ASSERT_TRUE(d.Decode(Message("k", R"({"y":1})"), &b).ok());
  ASSERT_TRUE(d.Decode(Message("k", R"({"x":2})"), &c).ok());
  ASSERT_TRUE(d.Decode(Message("k", R"({"y":3})"), &e).ok());
  EXPECT_EQ(a.schema_ptr(), c.schema_ptr());
  EXPECT_EQ(b.schema_ptr(), e.schema_ptr());
  EXPECT_NE(a.schema_ptr(), b.schema_ptr());
}

// Every field a record has, with its value, as text: for comparing a selected decode with a whole one.
std::map<std::string, std::string> FieldsOf(const Record& r) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < r.size(); ++i) out[r.schema().names()[i]] = std::to_string(static_cast<int>(r.value(i).kind())) + ":" + r.value(i).ToText();
  return out;
}

TEST(RecordDecoder, ASelectionKeepsOnlyTheSelectedFieldsWithTheSameValues) {
  RecordDecoder whole(Format(KafkaFormat::Kind::kJson), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  RecordDecoder some(Format(KafkaFormat::Kind::kJson), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  const std::vector<std::string> names{"offset", "key.id", "value.user", "value.addr.geo.lat", "value.tags"};
  some.SelectFields(std::make_shared<const FieldSelection>(names));
  const std::string value =
      R"({"user":"ana","n":5,"x":1.5,"addr":{"city":"Oslo","geo":{"lat":59}},"tags":[1,2]})";
  Record a, b;
  ASSERT_TRUE(whole.Decode(Message(R"({"id":7,"region":"eu"})", value), &a).ok());
  ASSERT_TRUE(some.Decode(Message(R"({"id":7,"region":"eu"})", value), &b).ok());
  EXPECT_EQ(Names(b), (std::vector<std::string>{"offset", "key.id", "value.user", "value.addr.geo.lat", "value.tags"}));
  std::map<std::string, std::string> want;
  for (const auto& [name, v] : FieldsOf(a)) {
    if (std::find(names.begin(), names.end(), name) != names.end()) want[name] = v;
  }
  EXPECT_EQ(FieldsOf(b), want);
  // The same messages are rejected, with the same message, members outside the selection included.
  const Status ws = whole.Decode(Message(R"({"id":7})", R"({"user":"ana","n":05})"), &a);
  const Status ss = some.Decode(Message(R"({"id":7})", R"({"user":"ana","n":05})"), &b);
  ASSERT_FALSE(ss.ok());
  EXPECT_EQ(ss.ToString(), ws.ToString());
}

TEST(RecordDecoder, ASelectionKeepsTombstonesAndNullDocumentsNull) {
  RecordDecoder d(Format(KafkaFormat::Kind::kJson), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  d.SelectFields(std::make_shared<const FieldSelection>(std::vector<std::string>{"key.id"}));
  Record r;
  ASSERT_TRUE(d.Decode(Message(R"({"id":7})", std::nullopt), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"key.id", "value"}));
  EXPECT_TRUE(r.Get("value").is_null());
  ASSERT_TRUE(d.Decode(Message(R"({"id":7})", " null "), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"key.id", "value"}));
  EXPECT_TRUE(r.Get("value").is_null());
  // An object value outside the selection gives nothing, not even its text.
  ASSERT_TRUE(d.Decode(Message(R"({"id":7})", R"({"a":1})"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"key.id"}));
}

TEST(RecordDecoder, ASelectedFieldMissingGivesTheWholeMessage) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  d.SelectFields(std::make_shared<const FieldSelection>(std::vector<std::string>{"value.user", "value.n"}));
  Record r;
  ASSERT_TRUE(d.Decode(Message("k", R"({"user":"ana","n":5,"x":1})"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"value.user", "value.n"}));
  // "n" missing: every field, so an error about it can name those the message has.
  ASSERT_TRUE(d.Decode(Message("k", R"({"user":"ana","m":5})"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value",
                                                "value.user", "value.m"}));
  ASSERT_TRUE(d.Decode(Message("k", R"({"user":"bo","n":6})"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"value.user", "value.n"}));
  EXPECT_EQ(r.Get("value.user"), Value::Text("bo"));
}

TEST(RecordDecoder, APartOnlyTestedForNullIsAMarkerNotACopy) {
  RecordDecoder json(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kJson), nullptr, nullptr);
  json.SelectFields(std::make_shared<const FieldSelection>(std::vector<std::string>{"value", "value.id", "key"},
                                                           std::vector<std::string>{"value", "key"}));
  Record r;
  ASSERT_TRUE(json.Decode(Message("k", R"({"id":7})"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"key", "value", "value.id"}));
  EXPECT_EQ(r.Get("value"), Value::Bool(true));
  EXPECT_EQ(r.Get("key"), Value::Bool(true));
  EXPECT_EQ(r.Get("value.id"), Value::Int(7));
  // NULL stays NULL: a tombstone, a JSON null document, a message without a key.
  ASSERT_TRUE(json.Decode(Message(std::nullopt, "null"), &r).ok());
  EXPECT_TRUE(r.Get("value").is_null());
  EXPECT_TRUE(r.Get("key").is_null());
  ASSERT_TRUE(json.Decode(Message("k", std::nullopt), &r).ok());
  EXPECT_TRUE(r.Get("value").is_null());
  // A scalar document is its own (cheap) value, as without the mark.
  ASSERT_TRUE(json.Decode(Message("k", "5"), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Int(5));
  // Raw text is still checked.
  RecordDecoder raw(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  raw.SelectFields(std::make_shared<const FieldSelection>(std::vector<std::string>{"value"},
                                                          std::vector<std::string>{"value"}));
  ASSERT_TRUE(raw.Decode(Message("k", "text"), &r).ok());
  EXPECT_EQ(r.Get("value"), Value::Bool(true));
  EXPECT_FALSE(raw.Decode(Message("k", "\xff"), &r).ok());
}

TEST(RecordDecoder, ASelectionStillChecksRawText) {
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), Format(KafkaFormat::Kind::kRaw), nullptr, nullptr);
  d.SelectFields(std::make_shared<const FieldSelection>(std::vector<std::string>{"offset"}));
  Record r;
  ASSERT_TRUE(d.Decode(Message("k", "text"), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"offset"}));
  const Status s = d.Decode(Message("k", "\xff"), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the value is not UTF-8 text"), std::string::npos) << s.ToString();
}

// A descriptor set for:
//   syntax = "proto3"; package test;
//   message Address { string city = 1; }
//   enum Kind { KIND_UNKNOWN = 0; KIND_WEB = 1; }
//   message Visit { string user = 1; int64 count = 2; Address address = 3; repeated string tags = 4;
//                   Kind kind = 5; optional int32 rating = 6; bytes blob = 7; uint64 big = 8;
//                   double score = 9; bool vip = 10; map<string, int32> scores = 11; }
class ProtobufDecoding : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace pb = google::protobuf;
    pb::FileDescriptorProto file;
    file.set_name("test/visit.proto");
    file.set_package("test");
    file.set_syntax("proto3");
    auto* address = file.add_message_type();
    address->set_name("Address");
    AddField(address, "city", 1, pb::FieldDescriptorProto::TYPE_STRING);
    auto* kind = file.add_enum_type();
    kind->set_name("Kind");
    auto* v0 = kind->add_value();
    v0->set_name("KIND_UNKNOWN");
    v0->set_number(0);
    auto* v1 = kind->add_value();
    v1->set_name("KIND_WEB");
    v1->set_number(1);
    auto* visit = file.add_message_type();
    visit->set_name("Visit");
    AddField(visit, "user", 1, pb::FieldDescriptorProto::TYPE_STRING);
    AddField(visit, "count", 2, pb::FieldDescriptorProto::TYPE_INT64);
    AddField(visit, "address", 3, pb::FieldDescriptorProto::TYPE_MESSAGE)->set_type_name(".test.Address");
    AddField(visit, "tags", 4, pb::FieldDescriptorProto::TYPE_STRING)->set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
    AddField(visit, "kind", 5, pb::FieldDescriptorProto::TYPE_ENUM)->set_type_name(".test.Kind");
    auto* rating = AddField(visit, "rating", 6, pb::FieldDescriptorProto::TYPE_INT32);
    rating->set_proto3_optional(true);
    rating->set_oneof_index(0);
    visit->add_oneof_decl()->set_name("_rating");
    AddField(visit, "blob", 7, pb::FieldDescriptorProto::TYPE_BYTES);
    AddField(visit, "big", 8, pb::FieldDescriptorProto::TYPE_UINT64);
    AddField(visit, "score", 9, pb::FieldDescriptorProto::TYPE_DOUBLE);
    AddField(visit, "vip", 10, pb::FieldDescriptorProto::TYPE_BOOL);
    auto* entry = visit->add_nested_type();
    entry->set_name("ScoresEntry");
    entry->mutable_options()->set_map_entry(true);
    AddField(entry, "key", 1, pb::FieldDescriptorProto::TYPE_STRING);
    AddField(entry, "value", 2, pb::FieldDescriptorProto::TYPE_INT32);
    auto* scores = AddField(visit, "scores", 11, pb::FieldDescriptorProto::TYPE_MESSAGE);
    scores->set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
    scores->set_type_name(".test.Visit.ScoresEntry");

    pb::FileDescriptorSet set;
    *set.add_file() = file;
    path_ = (std::filesystem::temp_directory_path() / ("sfb-visit-" + std::to_string(::getpid()) + ".desc")).string();
    std::ofstream(path_, std::ios::binary) << set.SerializeAsString();
    pool_ = std::make_unique<pb::DescriptorPool>();
    ASSERT_NE(pool_->BuildFile(file), nullptr);
    factory_ = std::make_unique<pb::DynamicMessageFactory>(pool_.get());
  }
  void TearDown() override { std::filesystem::remove(path_); }

  static google::protobuf::FieldDescriptorProto* AddField(google::protobuf::DescriptorProto* m, const char* name,
                                                          int number, google::protobuf::FieldDescriptorProto::Type type) {
    auto* f = m->add_field();
    f->set_name(name);
    f->set_number(number);
    f->set_type(type);
    f->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    return f;
  }

  // A serialized test.Visit from its JSON form.
  std::string Encode(const std::string& json) {
    std::unique_ptr<google::protobuf::Message> m(
        factory_->GetPrototype(pool_->FindMessageTypeByName("test.Visit"))->New());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, m.get()).ok());
    return m->SerializeAsString();
  }

  std::string path_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
};

TEST_F(ProtobufDecoding, FieldsAreTypedAndPresenceIsRespected) {
  auto fields = ProtobufFields::Load(path_, "test.Visit");
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  KafkaFormat format{KafkaFormat::Kind::kProtobuf, false, path_, "test.Visit", nullptr};
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), format, nullptr, *fields);
  const std::string full = Encode(R"({"user":"ana","count":"9000000000","address":{"city":"Oslo"},"tags":["a","b"],
      "kind":"KIND_WEB","rating":0,"blob":"AAE=","big":"18446744073709551615","score":0.5,"vip":true,
      "scores":{"x":1}})");
  Record r;
  ASSERT_TRUE(d.Decode(Message("ana", full), &r).ok());
  EXPECT_EQ(Names(r), (std::vector<std::string>{"topic", "partition", "offset", "timestamp", "key", "value",
                                                "value.user", "value.count", "value.address.city", "value.tags",
                                                "value.kind", "value.rating", "value.blob", "value.big", "value.score",
                                                "value.vip", "value.scores"}));
  EXPECT_EQ(r.Get("value.user"), Value::Text("ana"));
  EXPECT_EQ(r.Get("value.count"), Value::Int(9000000000));
  EXPECT_EQ(r.Get("value.address.city"), Value::Text("Oslo"));
  EXPECT_EQ(r.Get("value.tags"), Value::Text(R"(["a","b"])"));
  EXPECT_EQ(r.Get("value.kind"), Value::Text("KIND_WEB"));
  EXPECT_EQ(r.Get("value.rating"), Value::Int(0));  // set explicitly: present
  EXPECT_EQ(r.Get("value.blob"), Value::Bytes(std::string("\x00\x01", 2)));
  EXPECT_EQ(r.Get("value.big"), Value::Text("18446744073709551615"));
  EXPECT_EQ(r.Get("value.score"), Value::Double(0.5));
  EXPECT_EQ(r.Get("value.vip"), Value::Bool(true));
  EXPECT_EQ(r.Get("value.scores"), Value::Text(R"({"x":1})"));
  const nlohmann::json json = nlohmann::json::parse(r.Get("value").as_string());
  EXPECT_EQ(json["user"], "ana");
  EXPECT_EQ(json["address"]["city"], "Oslo");

  // Unset: proto3 scalars have their defaults, optional ones and every leaf of a message are NULL.
  ASSERT_TRUE(d.Decode(Message("bob", Encode(R"({"user":"bob"})")), &r).ok());
  EXPECT_EQ(r.Get("value.count"), Value::Int(0));
  EXPECT_TRUE(r.Get("value.address.city").is_null());
  EXPECT_TRUE(r.Get("value.rating").is_null());
  EXPECT_EQ(r.Get("value.kind"), Value::Text("KIND_UNKNOWN"));
  EXPECT_EQ(r.Get("value.tags"), Value::Text("[]"));
  EXPECT_EQ(r.Get("value.scores"), Value::Text("{}"));
}

TEST_F(ProtobufDecoding, MalformedMessagesAreBadRecords) {
  auto fields = ProtobufFields::Load(path_, "test.Visit");
  ASSERT_TRUE(fields.ok());
  KafkaFormat format{KafkaFormat::Kind::kProtobuf, false, path_, "test.Visit", nullptr};
  RecordDecoder d(Format(KafkaFormat::Kind::kRaw), format, nullptr, *fields);
  Record r;
  const Status s = d.Decode(Message("k", std::string_view("\x0a\x10oops", 6)), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kBadRecord);
  EXPECT_EQ(s.message(), "the value is not a valid test.Visit protobuf message (6 bytes)");
  EXPECT_NE(s.hint().find("value: {format: raw, as: bytes}"), std::string::npos);
}

TEST_F(ProtobufDecoding, UnknownMessageTypeIsASpecError) {
  auto fields = ProtobufFields::Load(path_, "test.Visits");
  ASSERT_FALSE(fields.ok());
  EXPECT_EQ(fields.status().message(), "message type 'test.Visits' is not in " + path_);
}

}  // namespace
}  // namespace sfb
