#include "connectors/kafka/registry_json_decoder.h"

#include <string>

#include "common/str_cat.h"
#include "connectors/kafka/registry_wire_format.h"

namespace sfb {

RegistryJsonDecoder::RegistryJsonDecoder(std::shared_ptr<SchemaSource> registry) : registry_(std::move(registry)) {}

Status RegistryJsonDecoder::CheckId(int32_t id, std::string_view part) {
  if (auto it = checked_.find(id); it != checked_.end()) return it->second;
  const std::string id_text = std::to_string(id);
  Result<std::shared_ptr<const RegistrySchema>> fetched = registry_->SchemaById(id);
  Status verdict = Status::OK();
  if (!fetched.ok()) {
    if (fetched.status().code() != Status::Code::kNotFound) return fetched.status();  // not kept: fails the run
    verdict = Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " is unknown: ",
                                       fetched.status().message()))
                  .WithHint(fetched.status().hint());
  } else if ((*fetched)->type != "JSON") {
    verdict = Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " is a ", (*fetched)->type,
                                       " schema, not JSON Schema"))
                  .WithHint(StrCat("read the ", part, " with the format its producer writes (",
                                   (*fetched)->type == "PROTOBUF" ? "protobuf" : "avro", " with a registry)"));
  }
  checked_.emplace(id, verdict);
  return verdict;
}

Result<std::string_view> RegistryJsonDecoder::Payload(std::string_view bytes, std::string_view part) {
  Result<RegistryFrame> frame = ParseRegistryFrame(bytes);
  if (!frame.ok()) {
    return Status::BadRecord(StrCat("the ", part, " is ", frame.status().message())).WithHint(frame.status().hint());
  }
  SFB_RETURN_IF_ERROR(CheckId(frame->schema_id, part));
  return frame->payload;
}

}  // namespace sfb
