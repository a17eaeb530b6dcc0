// Reading the snappy framing format, as Flink 1.16 writes each key group of a keyed-state stream when
// `execution.checkpointing.snapshot-compression` is on (its snappy stream decorator wraps xerial's
// SnappyFramedOutputStream: blocks of at most 64 KiB, a block stored uncompressed when snappy does not
// shrink it below 85%). Every key group is a stream of its own, beginning with a stream identifier.
//
// A stream is a sequence of chunks, each: u8 type, u24 little-endian length, then `length` bytes:
//   0xFF  stream identifier: the 6 bytes "sNaPpY" (must come first; a later one begins the next stream)
//   0x00  compressed data:   u32 little-endian masked CRC-32C of the UNcompressed bytes, then one snappy
//                            block (raw snappy format) of at most 65536 uncompressed bytes
//   0x01  uncompressed data: u32 masked CRC-32C, then at most 65536 bytes as they are
//   0xFE, 0x80..0xFD         padding / skippable: ignored
//   0x02..0x7F               reserved, unskippable: an error
// The masked CRC is common/crc32c.h's MaskCrc32c(Crc32c(uncompressed)).
//
// Flink's reader does not check the CRCs (it opens the stream with checksum verification off); we do, so
// a damaged base fails with Corruption naming where, rather than restoring garbage.

#ifndef SFB_SAVEPOINT_SNAPPY_FRAMED_H_
#define SFB_SAVEPOINT_SNAPPY_FRAMED_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

inline constexpr size_t kSnappyFramedMaxBlock = 65536;

// Decodes the framed stream that starts at `offset` of `data` (with its stream identifier) up to where the
// next stream's identifier starts or `data` ends, appending the uncompressed bytes to `out`. Errors are
// Corruption naming the chunk's offset in `data`: a missing identifier, a truncated chunk, a reserved
// chunk type, a block that does not decompress or is larger than 64 KiB, or a CRC mismatch.
Status DecodeSnappyFramedStream(std::string_view data, size_t offset, std::string* out);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_SNAPPY_FRAMED_H_
