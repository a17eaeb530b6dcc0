#include "connectors/kafka/avro_schema_file_decoder.h"

#include <cstdio>

#include "common/str_cat.h"

namespace sfb {
namespace {

constexpr size_t kSingleObjectHeader = 10;  // C3 01 and the fingerprint

std::string Hex(uint64_t v) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(v));
  return text;
}

// A FieldSink that keeps nothing: for trying whether bytes decode.
class DiscardingSink : public FieldSink {
 public:
  void Add(std::string_view, Value) override {}
};

}  // namespace

AvroSchemaFileDecoder::AvroSchemaFileDecoder(std::shared_ptr<const AvroSchema> schema, uint64_t fingerprint,
                                             std::string schema_path)
    : reader_(std::move(schema)), fingerprint_(fingerprint), schema_path_(std::move(schema_path)) {}

Status AvroSchemaFileDecoder::Decode(std::string_view bytes, std::string_view part, FieldSink* sink) {
  std::string_view datum = bytes;
  if (bytes.size() >= kSingleObjectHeader && static_cast<uint8_t>(bytes[0]) == 0xC3 &&
      static_cast<uint8_t>(bytes[1]) == 0x01) {
    uint64_t written_with = 0;
    for (int i = 0; i < 8; ++i) written_with |= uint64_t{static_cast<uint8_t>(bytes[2 + i])} << (8 * i);
    if (written_with == fingerprint_) {
      datum = bytes.substr(kSingleObjectHeader);
    } else {
      DiscardingSink discard;
      if (!reader_.Read(bytes, part, &discard, &json_).ok()) {
        return Status::BadRecord(StrCat("the ", part, " is Avro single-object encoded with schema fingerprint ",
                                        Hex(written_with), ", not that of ", schema_path_, " (", Hex(fingerprint_),
                                        ")"))
            .WithHint(StrCat("give the schema the producer writes with as ", part, ".schema"));
      }
    }
  }
  Status read = reader_.Read(datum, part, sink, &json_);
  if (!read.ok()) {
    return Status::BadRecord(StrCat("the ", part, " (schema ", schema_path_, "): ", read.message()))
        .WithHint(StrCat("check that the producer writes with the schema in ", schema_path_));
  }
  return Status::OK();
}

}  // namespace sfb
