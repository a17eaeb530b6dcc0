#include "connectors/kafka/registry_wire_format.h"

#include "common/str_cat.h"
#include "common/text_preview.h"

namespace sfb {

namespace {
constexpr size_t kHeaderBytes = 5;
constexpr size_t kPreviewBytes = 16;
}  // namespace

Result<RegistryFrame> ParseRegistryFrame(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes || bytes[0] != 0) {
    const std::string why =
        bytes.empty()   ? std::string("it is empty")
        : bytes[0] != 0 ? StrCat("its first byte is ", std::to_string(static_cast<uint8_t>(bytes[0])),
                                 ", not the magic byte 0")
                        : StrCat("it has ", std::to_string(bytes.size()), " bytes, fewer than the 5-byte header");
    return Status::BadRecord(StrCat("not in the schema registry wire format ('", PreviewText(bytes, kPreviewBytes),
                                    "'): ", why))
        .WithHint("the producer must use a schema registry serializer (magic byte 0, 4-byte schema id, payload); "
                  "for plain data use format json or raw");
  }
  RegistryFrame frame;
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  frame.schema_id = static_cast<int32_t>((uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) |
                                         uint32_t{b[4]});
  frame.payload = bytes.substr(kHeaderBytes);
  return frame;
}

}  // namespace sfb
