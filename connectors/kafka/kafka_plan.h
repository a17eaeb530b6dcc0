// KafkaReadPlan: what a kafka source reads, fixed once when the run starts.
//
// Planning connects, lists the topics (a regex is matched against every topic name), and captures
// each partition's range: the start (earliest, the first offset at or after a timestamp, or an
// explicit offset) and the end, the high watermark (or, with read_committed, the last stable offset)
// at that moment. Readers stop at the captured end, so records produced during the run are not read
// and the run always ends; the end offsets are the handoff to the live application (handoff.h).
//
// Positions: partitions are numbered in source order (topics as listed, or by name for a regex, then
// partition number), and a record's position is (partition number << 48) | offset. So an address sees
// a partition's records in offset order ("last" is last by offset), and records of different
// partitions in a fixed order, whatever reader read them. Offsets must be below 2^48 and a source may
// have up to 65536 partitions.
//
// Partitions with records to read are grouped into splits (one reader, one client each), balanced
// by message count.

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_PLAN_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "connectors/kafka/kafka_config.h"

namespace sfb {

class KafkaClient;

struct PartitionRange {
  std::string topic;
  int32_t partition = 0;
  int64_t start = 0;  // first offset to read
  int64_t end = 0;    // captured end: offsets [start, end) are read
  uint64_t messages() const { return end > start ? static_cast<uint64_t>(end - start) : 0; }
};

struct KafkaReadPlan {
  int64_t captured_at_ms = 0;
  std::vector<std::string> topics;         // source order
  std::vector<PartitionRange> partitions;  // source order; the index is the position's partition number
  std::vector<std::vector<uint32_t>> splits;  // partitions with records to read, per reader

  // Upper bound of the messages to read (offset ranges; compaction and transactions leave gaps).
  uint64_t total_offsets() const;
  // For the plan (validate --connect): topics, partitions and offset ranges.
  nlohmann::ordered_json Describe() const;
};

constexpr int kPositionOffsetBits = 48;
constexpr size_t kMaxPartitions = size_t{1} << (64 - kPositionOffsetBits);
inline uint64_t EncodePosition(uint32_t partition_index, int64_t offset) {
  return (static_cast<uint64_t>(partition_index) << kPositionOffsetBits) | static_cast<uint64_t>(offset);
}
inline uint32_t PositionPartition(uint64_t position) { return static_cast<uint32_t>(position >> kPositionOffsetBits); }
inline int64_t PositionOffset(uint64_t position) {
  return static_cast<int64_t>(position & ((uint64_t{1} << kPositionOffsetBits) - 1));
}

// --- Planning steps, separated from the client so they can be tested without a broker. ---

// The topics to read, in source order, from the names the cluster has. Unknown topics and patterns
// that match nothing are errors naming the closest or the available topics.
Result<std::vector<std::string>> SelectTopics(const KafkaSourceConfig& config, const std::vector<std::string>& available);
// Checks explicit start offsets against the captured [low, end] ranges and sets each range's start.
// `low[i]` is partition i's log start offset.
Status ApplyExplicitOffsets(const KafkaSourceConfig& config, const std::vector<int64_t>& low,
                            std::vector<PartitionRange>* partitions);
// Groups partitions with records into at most `readers` splits, balanced by message count;
// deterministic, each split in partition order.
std::vector<std::vector<uint32_t>> GroupPartitions(const std::vector<PartitionRange>& partitions, int readers);
// Fails when an offset does not fit a position.
Status CheckPositionLimits(const std::vector<PartitionRange>& partitions);

// Connects with `client` and captures the plan (bounded by config.timeout_ms). `default_readers` is
// used when config.readers is 0.
Result<KafkaReadPlan> PlanRead(const KafkaSourceConfig& config, KafkaClient& client, int default_readers);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_PLAN_H_
