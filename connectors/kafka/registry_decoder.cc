#include "connectors/kafka/registry_decoder.h"

#include "common/str_cat.h"
#include "connectors/kafka/registry_wire_format.h"

namespace sfb {

RegistryAvroDecoder::RegistryAvroDecoder(std::shared_ptr<SchemaSource> registry)
    : registry_(std::move(registry)) {}

RegistryAvroDecoder::~RegistryAvroDecoder() = default;

Result<AvroDatumReader*> RegistryAvroDecoder::ReaderFor(int32_t id, std::string_view part) {
  if (auto it = readers_.find(id); it != readers_.end()) {
    if (!it->second.ok()) return it->second.status();
    return it->second->get();
  }
  const std::string id_text = std::to_string(id);
  Result<std::shared_ptr<const RegistrySchema>> fetched = registry_->SchemaById(id);
  if (!fetched.ok()) {
    if (fetched.status().code() != Status::Code::kNotFound) return fetched.status();  // not kept: fails the run
    Status unknown = Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " is unknown: ",
                                              fetched.status().message()))
                         .WithHint(fetched.status().hint());
    readers_.emplace(id, unknown);
    return unknown;
  }
  const RegistrySchema& schema = **fetched;
  auto compile = [&]() -> Result<std::unique_ptr<AvroDatumReader>> {
    if (schema.type != "AVRO") {
      return Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " is a ", schema.type,
                                      " schema, not Avro"))
          .WithHint(StrCat("read the ", part, " with the format its producer writes"));
    }
    Result<std::shared_ptr<const AvroSchema>> compiled = AvroSchema::Parse(schema.text);
    if (!compiled.ok()) {
      return Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " from the registry: ",
                                      compiled.status().message()));
    }
    return std::make_unique<AvroDatumReader>(std::move(*compiled));
  };
  Result<std::unique_ptr<AvroDatumReader>> reader = compile();
  auto it = readers_.emplace(id, std::move(reader)).first;
  if (!it->second.ok()) return it->second.status();
  return it->second->get();
}

Status RegistryAvroDecoder::Decode(std::string_view bytes, std::string_view part, FieldSink* sink) {
  Result<RegistryFrame> frame = ParseRegistryFrame(bytes);
  if (!frame.ok()) {
    return Status::BadRecord(StrCat("the ", part, " is ", frame.status().message())).WithHint(frame.status().hint());
  }
  SFB_ASSIGN_OR_RETURN(AvroDatumReader* reader, ReaderFor(frame->schema_id, part));
  Status read = reader->Read(frame->payload, part, sink, &json_);
  if (!read.ok()) {
    return Status::BadRecord(StrCat("the ", part, " (schema id ", std::to_string(frame->schema_id), "): ",
                                    read.message()))
        .WithHint("check that the producer writes with the registry the job names");
  }
  return Status::OK();
}

}  // namespace sfb
