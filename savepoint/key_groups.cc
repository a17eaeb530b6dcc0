#include "savepoint/key_groups.h"

#include "common/java_string.h"
#include "common/murmur.h"

namespace sfb {

Status ValidateParallelism(int max_parallelism, int parallelism) {
  if (max_parallelism < 1 || max_parallelism > kMaxMaxParallelism) {
    return Status::InvalidSpec("max_parallelism " + std::to_string(max_parallelism) +
                               " is out of range 1..32768")
        .WithHint("set savepoint.max_parallelism to the application's max parallelism "
                  "(Flink's default is 128 for parallelism up to 85)");
  }
  if (parallelism < 1 || parallelism > max_parallelism) {
    return Status::InvalidSpec("parallelism " + std::to_string(parallelism) + " is out of range 1.." +
                               std::to_string(max_parallelism) + " (max_parallelism)")
        .WithHint("choose a parallelism between 1 and max_parallelism");
  }
  return Status::OK();
}

int KeyGroupForId(std::u16string_view id, int max_parallelism) {
  return KeyGroupForHash(JavaStringHashCode(id), max_parallelism);
}

int KeyGroupForHash(int32_t java_hash_code, int max_parallelism) {
  return FlinkMurmurHash(java_hash_code) % max_parallelism;
}

int KeyGroupPrefixBytes(int max_parallelism) { return max_parallelism > 128 ? 2 : 1; }

KeyGroupRange KeyGroupRangeForSubtask(int max_parallelism, int parallelism, int subtask) {
  const int64_t m = max_parallelism, p = parallelism, i = subtask;
  return KeyGroupRange{static_cast<int>((i * m + p - 1) / p), static_cast<int>(((i + 1) * m - 1) / p)};
}

int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group) {
  return static_cast<int>(static_cast<int64_t>(key_group) * parallelism / max_parallelism);
}

void AppendKeyGroupPrefix(std::string* out, int key_group, int prefix_bytes) {
  if (prefix_bytes == 2) out->push_back(static_cast<char>(key_group >> 8));
  out->push_back(static_cast<char>(key_group));
}

}  // namespace sfb
