#include "connectors/kafka/registry_decoder.h"

#include "common/str_cat.h"
#include "connectors/kafka/pinned_reader_schema.h"
#include "connectors/kafka/registry_wire_format.h"

namespace sfb {

RegistryAvroDecoder::RegistryAvroDecoder(std::shared_ptr<SchemaSource> registry,
                                         std::shared_ptr<const AvroSchema> reader_schema,
                                         std::string reader_schema_name, int32_t version_by_record_name)
    : registry_(std::move(registry)), version_by_record_name_(reader_schema ? 0 : version_by_record_name) {
  if (reader_schema) {
    reader_ = std::make_unique<ReaderSchema>();
    reader_->reader = std::make_unique<AvroDatumReader>(reader_schema);
    reader_->schema = std::move(reader_schema);
    reader_->name = std::move(reader_schema_name);
  }
}

Result<RegistryAvroDecoder::ReaderSchema*> RegistryAvroDecoder::ReaderByRecordName(const std::string& record_name,
                                                                                   std::string_view part) {
  auto it = by_record_name_.find(record_name);
  if (it == by_record_name_.end()) {
    Result<PinnedReaderSchema> pinned =
        FetchPinnedReaderSchema(*registry_, record_name, version_by_record_name_, part);
    if (!pinned.ok()) {
      if (pinned.status().code() != Status::Code::kInvalidSpec) return pinned.status();  // not kept: fails the run
      by_record_name_.emplace(record_name, pinned.status());  // the registry's answer: kept
    } else {
      auto reader = std::make_unique<ReaderSchema>();
      reader->reader = std::make_unique<AvroDatumReader>(pinned->schema);
      reader->schema = std::move(pinned->schema);
      reader->name = std::move(pinned->name);
      by_record_name_.emplace(record_name, std::move(reader));
    }
    it = by_record_name_.find(record_name);
  }
  if (!it->second.ok()) return it->second.status();
  return it->second->get();
}

RegistryAvroDecoder::~RegistryAvroDecoder() = default;

Result<const RegistryAvroDecoder::WriterSchema*> RegistryAvroDecoder::WriterFor(int32_t id, std::string_view part) {
  if (auto it = writers_.find(id); it != writers_.end()) {
    if (!it->second.ok()) return it->second.status();
    return &*it->second;
  }
  const std::string id_text = std::to_string(id);
  Result<std::shared_ptr<const RegistrySchema>> fetched = registry_->SchemaById(id);
  if (!fetched.ok()) {
    if (fetched.status().code() != Status::Code::kNotFound) return fetched.status();  // not kept: fails the run
    Status unknown = Status::BadRecord(StrCat("the ", part, "'s schema id ", id_text, " is unknown: ",
                                              fetched.status().message()))
                         .WithHint(fetched.status().hint());
    writers_.emplace(id, unknown);
    return unknown;
  }
  const RegistrySchema& schema = **fetched;
  auto compile = [&]() -> Result<WriterSchema> {
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
    WriterSchema writer;
    const std::string writer_name = (*compiled)->name();
    ReaderSchema* reader = reader_.get();
    if (!reader && version_by_record_name_ != 0) {
      Result<ReaderSchema*> by_name = ReaderByRecordName(writer_name, part);
      if (!by_name.ok()) {
        Status failed = by_name.status();
        return std::move(failed).WithContext(StrCat("the ", part, "'s writer schema id ", id_text));
      }
      reader = *by_name;
    }
    if (!reader) {
      writer.reader = std::make_unique<AvroDatumReader>(std::move(*compiled));
      return writer;
    }
    Result<std::unique_ptr<const AvroResolution>> resolution = AvroResolution::Compile(*compiled, reader->schema);
    if (!resolution.ok()) {
      // Not a bad record: every record with this id would fail the same way, so the run stops here.
      return Status::InvalidSpec(StrCat("the ", part, "'s writer schema id ", id_text, " (", writer_name,
                                        ") cannot be read with the reader schema ", reader->name, " (",
                                        reader->schema->name(), "): ", resolution.status().message()))
          .WithHint(StrCat("give the reader schema's field a default, or change ", part,
                           ".reader_schema to one that can read every schema the topic was written with"));
    }
    writer.resolution = std::move(*resolution);
    writer.projected_reader = reader->reader.get();
    return writer;
  };
  auto it = writers_.emplace(id, compile()).first;
  if (!it->second.ok()) return it->second.status();
  return &*it->second;
}

Status RegistryAvroDecoder::Decode(std::string_view bytes, std::string_view part, FieldSink* sink) {
  Result<RegistryFrame> frame = ParseRegistryFrame(bytes);
  if (!frame.ok()) {
    return Status::BadRecord(StrCat("the ", part, " is ", frame.status().message())).WithHint(frame.status().hint());
  }
  SFB_ASSIGN_OR_RETURN(const WriterSchema* writer, WriterFor(frame->schema_id, part));
  Status read;
  if (writer->resolution) {
    projected_.clear();
    read = writer->resolution->Resolve(frame->payload, &projected_);
    if (read.ok()) read = writer->projected_reader->Read(projected_, part, sink, &json_);
  } else {
    read = writer->reader->Read(frame->payload, part, sink, &json_);
  }
  if (!read.ok()) {
    return Status::BadRecord(StrCat("the ", part, " (schema id ", std::to_string(frame->schema_id), "): ",
                                    read.message()))
        .WithHint("check that the producer writes with the registry the job names");
  }
  return Status::OK();
}

}  // namespace sfb
