// ProtobufMessageType: one protobuf message type loaded at run time from a FileDescriptorSet file
// (protoc --include_imports --descriptor_set_out=F), with a factory for dynamic messages of it.
//
// Both users of protobuf without generated code load their type this way: the Kafka connector's
// `format: protobuf` (messages -> record fields) and the router's `codec: protobuf` (record fields ->
// state bytes). Load's errors name the file or type and say how to produce a set that works.

#ifndef SFB_FORMATS_PROTOBUF_MESSAGE_TYPE_H_
#define SFB_FORMATS_PROTOBUF_MESSAGE_TYPE_H_

#include <memory>
#include <string>

#include "common/status.h"

namespace google::protobuf {
class Descriptor;
class DescriptorPool;
class DynamicMessageFactory;
class Message;
}  // namespace google::protobuf

namespace sfb {

class ProtobufMessageType {
 public:
  // `message_name` is the full name, package included (example.Profile).
  static Result<std::unique_ptr<const ProtobufMessageType>> Load(const std::string& descriptor_set_path,
                                                                 const std::string& message_name);
  // A type from a pool built elsewhere (a schema registry's schema); `descriptor` must be in `pool`, which
  // the type keeps alive.
  static std::unique_ptr<const ProtobufMessageType> FromPool(
      std::shared_ptr<const google::protobuf::DescriptorPool> pool, const google::protobuf::Descriptor* descriptor);
  ~ProtobufMessageType();

  const std::string& name() const { return name_; }
  const google::protobuf::DescriptorPool* pool() const { return pool_.get(); }
  const google::protobuf::Descriptor* descriptor() const { return descriptor_; }
  // An empty message of the type; New() on it gives a fresh one.
  const google::protobuf::Message* prototype() const { return prototype_; }

 private:
  ProtobufMessageType() = default;
  std::string name_;
  std::shared_ptr<const google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;  // after pool_: destroyed first
  const google::protobuf::Descriptor* descriptor_ = nullptr;
  const google::protobuf::Message* prototype_ = nullptr;
};

}  // namespace sfb

#endif  // SFB_FORMATS_PROTOBUF_MESSAGE_TYPE_H_
