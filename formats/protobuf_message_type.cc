#include "formats/protobuf_message_type.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

#include "common/file_io.h"

namespace sfb {

namespace pb = google::protobuf;

ProtobufMessageType::~ProtobufMessageType() = default;

Result<std::unique_ptr<const ProtobufMessageType>> ProtobufMessageType::Load(const std::string& path,
                                                                             const std::string& message) {
  const std::string regenerate =
      "generate it with: protoc --include_imports --descriptor_set_out=" + path + " your.proto";
  std::string bytes;
  SFB_RETURN_IF_ERROR(ReadFileToString(path, &bytes).WithHint(regenerate));
  pb::FileDescriptorSet set;
  if (!set.ParseFromString(bytes)) {
    return Status::InvalidSpec(path + " is not a protobuf FileDescriptorSet").WithHint(regenerate);
  }
  auto pool = std::make_shared<pb::DescriptorPool>();
  for (const auto& file : set.file()) {
    if (!pool->BuildFile(file)) {
      return Status::InvalidSpec("cannot load " + file.name() + " from " + path +
                                 " (a dependency missing from the set?)")
          .WithHint("pass --include_imports to protoc so the set contains every imported file");
    }
  }
  const pb::Descriptor* descriptor = pool->FindMessageTypeByName(message);
  if (!descriptor) {
    return Status::InvalidSpec("message type '" + message + "' is not in " + path)
        .WithHint("write the full name with its package, e.g. example.Profile");
  }
  return FromPool(std::move(pool), descriptor);
}

std::unique_ptr<const ProtobufMessageType> ProtobufMessageType::FromPool(std::shared_ptr<const pb::DescriptorPool> pool,
                                                                         const pb::Descriptor* descriptor) {
  auto type = std::unique_ptr<ProtobufMessageType>(new ProtobufMessageType());
  type->pool_ = std::move(pool);
  type->descriptor_ = descriptor;
  type->factory_ = std::make_unique<pb::DynamicMessageFactory>(type->pool_.get());
  type->prototype_ = type->factory_->GetPrototype(descriptor);
  type->name_ = descriptor->full_name();
  return type;
}

}  // namespace sfb
