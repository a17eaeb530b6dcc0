// Tests of ProtobufMessageType::Load: a message type from a descriptor set, and each way a set can be
// wrong, with the message and hint the user sees.

#include "formats/protobuf_message_type.h"

#include <gtest/gtest.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_io.h"

namespace sfb {
namespace {

namespace pb = google::protobuf;

class ProtobufMessageTypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sfb-protobuf-type-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a set holding `files` and returns its path.
  std::string WriteSet(const std::vector<pb::FileDescriptorProto>& files, const std::string& name = "set.desc") {
    pb::FileDescriptorSet set;
    for (const auto& f : files) *set.add_file() = f;
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteStringToFileSynced(path, set.SerializeAsString()).ok());
    return path;
  }

  static pb::FileDescriptorProto VisitFile() {
    pb::FileDescriptorProto f;
    f.set_name("visit.proto");
    f.set_package("example");
    f.set_syntax("proto3");
    pb::DescriptorProto* m = f.add_message_type();
    m->set_name("Visit");
    pb::FieldDescriptorProto* page = m->add_field();
    page->set_name("page");
    page->set_number(1);
    page->set_type(pb::FieldDescriptorProto::TYPE_STRING);
    page->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
    return f;
  }

  std::string dir_;
};

TEST_F(ProtobufMessageTypeTest, LoadsAMessageTypeByItsFullName) {
  auto type = ProtobufMessageType::Load(WriteSet({VisitFile()}), "example.Visit");
  ASSERT_TRUE(type.ok()) << type.status().ToString();
  EXPECT_EQ((*type)->name(), "example.Visit");
  EXPECT_EQ((*type)->descriptor()->full_name(), "example.Visit");
  EXPECT_EQ((*type)->descriptor()->field(0)->name(), "page");
  std::unique_ptr<pb::Message> message((*type)->prototype()->New());
  EXPECT_EQ(message->GetDescriptor(), (*type)->descriptor());
  EXPECT_EQ((*type)->pool()->FindMessageTypeByName("example.Visit"), (*type)->descriptor());
}

TEST_F(ProtobufMessageTypeTest, UnknownMessageTypeNamesTheSetAndAsksForThePackage) {
  const std::string path = WriteSet({VisitFile()});
  auto type = ProtobufMessageType::Load(path, "Visit");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().message(), "message type 'Visit' is not in " + path);
  EXPECT_EQ(type.status().hint(), "write the full name with its package, e.g. example.Profile");
}

TEST_F(ProtobufMessageTypeTest, MissingFileSaysHowToGenerateIt) {
  const std::string path = dir_ + "/missing.desc";
  auto type = ProtobufMessageType::Load(path, "example.Visit");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find(path), std::string::npos) << type.status().ToString();
  EXPECT_EQ(type.status().hint(),
            "generate it with: protoc --include_imports --descriptor_set_out=" + path + " your.proto");
}

TEST_F(ProtobufMessageTypeTest, AFileThatIsNotADescriptorSetIsRefused) {
  const std::string path = dir_ + "/visit.proto";
  ASSERT_TRUE(WriteStringToFileSynced(path, "syntax = \"proto3\"; message Visit { string page = 1; }").ok());
  auto type = ProtobufMessageType::Load(path, "example.Visit");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().message(), path + " is not a protobuf FileDescriptorSet");
  EXPECT_EQ(type.status().hint(),
            "generate it with: protoc --include_imports --descriptor_set_out=" + path + " your.proto");
}

TEST_F(ProtobufMessageTypeTest, AnImportMissingFromTheSetAsksForIncludeImports) {
  pb::FileDescriptorProto f = VisitFile();
  f.add_dependency("common.proto");  // not in the set: protoc ran without --include_imports
  const std::string path = WriteSet({f});
  auto type = ProtobufMessageType::Load(path, "example.Visit");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().message(), "cannot load visit.proto from " + path + " (a dependency missing from the set?)");
  EXPECT_EQ(type.status().hint(), "pass --include_imports to protoc so the set contains every imported file");
}

}  // namespace
}  // namespace sfb
