// Key groups: how Flink partitions keyed state, reproduced exactly.
//
//   key group of id  = FlinkMurmurHash(JavaStringHashCode(id as UTF-16)) % max_parallelism
//   subtask i of p   owns key groups [ceil(i*maxP/p), floor(((i+1)*maxP-1)/p)]
//   key group kg     belongs to subtask kg*p/maxP
//   key prefix       = kg, big-endian, 1 byte when maxP <= 128 else 2 bytes
//
// (flink-runtime KeyGroupRangeAssignment, CompositeKeySerializationUtils.)

#ifndef SFB_SAVEPOINT_KEY_GROUPS_H_
#define SFB_SAVEPOINT_KEY_GROUPS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

inline constexpr int kMaxMaxParallelism = 32768;  // Flink's UPPER_BOUND_MAX_PARALLELISM

struct KeyGroupRange {
  int start = 0;  // inclusive
  int end = -1;   // inclusive; end < start means empty
  int size() const { return end < start ? 0 : end - start + 1; }
  bool Contains(int kg) const { return kg >= start && kg <= end; }
};

// Checks 1 <= max_parallelism <= 32768 and 1 <= parallelism <= max_parallelism.
Status ValidateParallelism(int max_parallelism, int parallelism);

int KeyGroupForId(std::u16string_view id, int max_parallelism);
// The same from the id's String.hashCode.
int KeyGroupForHash(int32_t java_hash_code, int max_parallelism);
int KeyGroupPrefixBytes(int max_parallelism);
KeyGroupRange KeyGroupRangeForSubtask(int max_parallelism, int parallelism, int subtask);
int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group);

// Appends the key-group prefix; `last_in_run` sets Flink's 0x80 "meta data follows" flag on its first byte.
void AppendKeyGroupPrefix(std::string* out, int key_group, int prefix_bytes);

}  // namespace sfb

#endif  // SFB_SAVEPOINT_KEY_GROUPS_H_
