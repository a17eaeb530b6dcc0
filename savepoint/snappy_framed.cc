#include "savepoint/snappy_framed.h"

#include <snappy.h>

#include <cstdint>

#include "common/crc32c.h"
#include "common/str_cat.h"

namespace sfb {
namespace {

constexpr uint8_t kCompressedChunk = 0x00;
constexpr uint8_t kUncompressedChunk = 0x01;
constexpr uint8_t kStreamIdentifier = 0xFF;
constexpr std::string_view kIdentifierBody = "sNaPpY";

uint32_t LittleEndian(std::string_view b, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  return v;
}

std::string Hex32(uint32_t v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s.push_back(kDigits[(v >> shift) & 0xF]);
  return s;
}

}  // namespace

Status DecodeSnappyFramedStream(std::string_view data, size_t offset, std::string* out) {
  size_t pos = offset;
  bool first = true;
  std::string block;
  while (pos < data.size()) {
    const size_t chunk_at = pos;
    auto where = [&] { return StrCat("snappy chunk at offset ", std::to_string(chunk_at)); };
    if (data.size() - pos < 4) {
      return Status::Corruption(StrCat(where(), ": truncated chunk header (", std::to_string(data.size() - pos),
                                       " of 4 bytes)"));
    }
    const uint8_t type = static_cast<uint8_t>(data[pos]);
    const size_t length = LittleEndian(data.substr(pos + 1, 3), 3);
    pos += 4;
    if (type == kStreamIdentifier && !first) return Status::OK();  // the next key group's stream
    if (data.size() - pos < length) {
      return Status::Corruption(StrCat(where(), ": truncated chunk: its header says ", std::to_string(length),
                                       " bytes, ", std::to_string(data.size() - pos), " remain"));
    }
    const std::string_view body = data.substr(pos, length);
    pos += length;
    if (first) {
      if (type != kStreamIdentifier || body != kIdentifierBody) {
        return Status::Corruption(StrCat(where(), ": not a snappy framed stream (no \"sNaPpY\" stream identifier)"));
      }
      first = false;
      continue;
    }
    if (type == kCompressedChunk || type == kUncompressedChunk) {
      if (body.size() < 4) return Status::Corruption(StrCat(where(), ": data chunk shorter than its CRC"));
      const uint32_t stored = LittleEndian(body, 4);
      std::string_view payload = body.substr(4);
      if (type == kCompressedChunk) {
        size_t n = 0;
        if (!snappy::GetUncompressedLength(payload.data(), payload.size(), &n) || n > kSnappyFramedMaxBlock) {
          return Status::Corruption(StrCat(where(), ": compressed block has no valid length of at most 64 KiB"));
        }
        block.clear();
        if (!snappy::Uncompress(payload.data(), payload.size(), &block)) {
          return Status::Corruption(StrCat(where(), ": compressed block does not decompress"));
        }
        payload = block;
      } else if (payload.size() > kSnappyFramedMaxBlock) {
        return Status::Corruption(StrCat(where(), ": uncompressed block larger than 64 KiB"));
      }
      const uint32_t actual = MaskCrc32c(Crc32c(payload));
      if (actual != stored) {
        return Status::Corruption(StrCat(where(), ": CRC mismatch (stored ", Hex32(stored), ", data gives ",
                                         Hex32(actual), ")"));
      }
      out->append(payload);
      continue;
    }
    if (type >= 0x02 && type <= 0x7F) {
      return Status::Corruption(StrCat(where(), ": reserved unskippable chunk type ", std::to_string(type)));
    }
    // 0x80..0xFE: skippable (0xFE is padding).
  }
  if (first) return Status::Corruption(StrCat("snappy stream at offset ", std::to_string(offset), " is empty"));
  return Status::OK();
}

}  // namespace sfb
