#include "router/protobuf_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "common/file_io.h"

namespace sfb {

namespace pb = google::protobuf;
constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

ProtobufCodec::~ProtobufCodec() = default;

Result<std::shared_ptr<ProtobufCodec>> ProtobufCodec::Load(const std::string& path, const std::string& message) {
  std::string bytes;
  SFB_RETURN_IF_ERROR(ReadFileToString(path, &bytes).WithHint(
      "generate it with: protoc --include_imports --descriptor_set_out=" + path + " your.proto"));
  pb::FileDescriptorSet set;
  if (!set.ParseFromString(bytes)) {
    return Status::InvalidSpec(path + " is not a protobuf FileDescriptorSet")
        .WithHint("generate it with: protoc --include_imports --descriptor_set_out=" + path + " your.proto");
  }
  auto codec = std::shared_ptr<ProtobufCodec>(new ProtobufCodec());
  codec->pool_ = std::make_unique<pb::DescriptorPool>();
  for (const auto& file : set.file()) {
    if (!codec->pool_->BuildFile(file)) {
      return Status::InvalidSpec("cannot load " + file.name() + " from " + path +
                                 " (a dependency missing from the set?)")
          .WithHint("pass --include_imports to protoc so the set contains every imported file");
    }
  }
  if (!codec->pool_->FindMessageTypeByName(message)) {
    return Status::InvalidSpec("message type '" + message + "' is not in " + path)
        .WithHint("write the full name with its package, e.g. example.Profile");
  }
  codec->factory_ = std::make_unique<pb::DynamicMessageFactory>(codec->pool_.get());
  codec->prototype_ = codec->factory_->GetPrototype(codec->pool_->FindMessageTypeByName(message));
  codec->message_name_ = message;
  codec->type_url_ = std::string(kTypeUrlPrefix) + "/" + message;
  codec->resolver_.reset(pb::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, codec->pool_.get()));
  return codec;
}

Result<std::string> ProtobufCodec::FromJson(const std::string& json) const {
  std::unique_ptr<pb::Message> message(prototype_->New());
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = pb::util::JsonStringToMessage(json, message.get(), options);
  if (!status.ok()) {
    return Status::BadRecord("cannot build a " + message_name_ + " message from " + json + ": " +
                             std::string(status.message()))
        .WithHint("the set: object's field names and value types must match the message definition");
  }
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message->SerializeToCodedStream(&coded)) {
      return Status::BadRecord("cannot serialize a " + message_name_ + " built from " + json +
                               " (a required field missing?)");
    }
  }
  return out;
}

Result<std::string> ProtobufCodec::ToJson(const std::string& bytes) const {
  std::string out;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::lock_guard<std::mutex> lock(mu_);
  auto status = pb::util::BinaryToJsonString(resolver_.get(), type_url_, bytes, &out, options);
  if (!status.ok()) return Status::Corruption("not a valid " + message_name_ + ": " + std::string(status.message()));
  return out;
}

}  // namespace sfb
