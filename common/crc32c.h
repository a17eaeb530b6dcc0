// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum the snappy framing format stores for
// each chunk's uncompressed bytes (savepoint/snappy_framed.h), plus the "masking" that format applies so a
// checksum of data that itself holds checksums stays well distributed.
//
// Table-driven and portable; speed matters little here (only snapshot-compressed bases are checked).

#ifndef SFB_COMMON_CRC32C_H_
#define SFB_COMMON_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace sfb {

// The CRC-32C of `data` ("123456789" gives 0xE3069283).
uint32_t Crc32c(std::string_view data);

// The framing format's masked form: rotate right by 15 bits, then add 0xA282EAD8 (mod 2^32).
inline uint32_t MaskCrc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

}  // namespace sfb

#endif  // SFB_COMMON_CRC32C_H_
