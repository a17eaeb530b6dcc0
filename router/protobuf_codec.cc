#include "router/protobuf_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>


namespace sfb {

namespace pb = google::protobuf;
constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

ProtobufCodec::~ProtobufCodec() = default;

Result<std::shared_ptr<ProtobufCodec>> ProtobufCodec::Load(const std::string& path, const std::string& message) {
  auto codec = std::shared_ptr<ProtobufCodec>(new ProtobufCodec());
  SFB_ASSIGN_OR_RETURN(codec->type_, ProtobufMessageType::Load(path, message));
  codec->type_url_ = std::string(kTypeUrlPrefix) + "/" + message;
  codec->resolver_.reset(pb::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, codec->type_->pool()));
  return codec;
}

Result<std::string> ProtobufCodec::FromJson(const std::string& json) const {
  std::unique_ptr<pb::Message> message(type_->prototype()->New());
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = pb::util::JsonStringToMessage(json, message.get(), options);
  if (!status.ok()) {
    return Status::BadRecord("cannot build a " + type_->name() + " message from " + json + ": " +
                             std::string(status.message()))
        .WithHint("the set: object's field names and value types must match the message definition");
  }
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message->SerializeToCodedStream(&coded)) {
      return Status::BadRecord("cannot serialize a " + type_->name() + " built from " + json +
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
  if (!status.ok()) return Status::Corruption("not a valid " + type_->name() + ": " + std::string(status.message()));
  return out;
}

}  // namespace sfb
