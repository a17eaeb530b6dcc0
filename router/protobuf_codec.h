// ProtobufCodec: builds serialized protobuf messages of a type named in a descriptor set file.
//
// `codec: protobuf` states name a FileDescriptorSet (protoc --include_imports --descriptor_set_out=F)
// and a message type. Messages are serialized canonically (fields in number order, deterministic maps),
// as protoc and the SDKs' generated code do. The router builds the message's JSON form from the record (the same object
// syntax as `codec: json`) and converts it with protobuf's own JSON mapping, so nested messages,
// repeated fields, enums and well-known types all work as protobuf defines them.

#ifndef SFB_ROUTER_PROTOBUF_CODEC_H_
#define SFB_ROUTER_PROTOBUF_CODEC_H_

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "formats/protobuf_message_type.h"

namespace google::protobuf {
namespace util {
class TypeResolver;
}
}  // namespace google::protobuf

namespace sfb {

class ProtobufCodec {
 public:
  static Result<std::shared_ptr<ProtobufCodec>> Load(const std::string& descriptor_set_path,
                                                     const std::string& message_name);
  ~ProtobufCodec();
  // JSON text (protobuf JSON mapping) -> serialized message.
  Result<std::string> FromJson(const std::string& json) const;
  // Serialized message -> JSON text, for dump.
  Result<std::string> ToJson(const std::string& bytes) const;
  const std::string& message_name() const { return type_->name(); }

 private:
  ProtobufCodec() = default;
  std::unique_ptr<const ProtobufMessageType> type_;
  std::string type_url_;
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;  // after type_: destroyed first
  mutable std::mutex mu_;
};

}  // namespace sfb

#endif  // SFB_ROUTER_PROTOBUF_CODEC_H_
