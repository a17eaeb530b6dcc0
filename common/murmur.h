// The two hash functions Flink uses to place state.
//
// FlinkMurmurHash: org.apache.flink.util.MathUtils#murmurHash(int) — one round of MurmurHash3_x86_32 over
// the 4 little-endian bytes of a Java hashCode (seed 0), made non-negative. Key groups use it.
//
// Murmur3_128: MurmurHash3_x64_128 with seed 0, output as h1 then h2, each little-endian (Guava's
// asBytes order). Flink derives an OperatorID from an operator uid with it.

#ifndef SFB_COMMON_MURMUR_H_
#define SFB_COMMON_MURMUR_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace sfb {

int32_t FlinkMurmurHash(int32_t code);
std::array<uint8_t, 16> Murmur3_128(std::string_view data, uint32_t seed = 0);

}  // namespace sfb

#endif  // SFB_COMMON_MURMUR_H_
