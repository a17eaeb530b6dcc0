#include "connectors/kafka/kafka_plan.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <set>

#include "connectors/kafka/kafka_client.h"
#include "router/template.h"

namespace sfb {
namespace {

std::string Seconds(int64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

std::string Join(const std::vector<std::string>& names, size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out.empty() ? "(none)" : out;
}

std::string Where(const PartitionRange& p) { return "topic " + p.topic + " partition " + std::to_string(p.partition); }

// Asks the cluster for one offset per partition (librdkafka's ListOffsets): `query` is a timestamp in
// ms, or -2 for the log start, or -1 for the end (high watermark, or last stable offset when
// read_committed). Results are in `partitions` order; -1 means no such offset (a timestamp after
// the last record).
Result<std::vector<int64_t>> QueryOffsets(KafkaClient& client, const std::vector<PartitionRange>& partitions,
                                          int64_t query, const char* what, const KafkaSourceConfig& config) {
  std::vector<int64_t> out;
  if (partitions.empty()) return out;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& p : partitions) rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = query;
  const rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(client.handle(), list, static_cast<int>(config.timeout_ms));
  Status status;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt > 0) {
    // Report the first partition that failed, else the request as a whole.
    for (int i = 0; i < list->cnt && status.ok(); ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = Status::IoError(std::string("cannot read the ") + what + " of topic " + list->elems[i].topic +
                                 " partition " + std::to_string(list->elems[i].partition) + ": " +
                                 KafkaErrorText(list->elems[i].err));
      }
    }
    if (status.ok()) {
      status = Status::IoError(std::string("cannot read the ") + what + " offsets within " +
                               Seconds(config.timeout_ms) + ": " + KafkaErrorText(err));
    }
    const std::string seen = client.RecentErrors();
    status = Status::IoError(status.message() + (seen.empty() ? "" : " (client: " + seen + ")"))
                 .WithHint("check that the brokers are up and the partitions have leaders; raise timeout: for a slow cluster");
  }
  for (int i = 0; status.ok() && i < list->cnt; ++i) out.push_back(list->elems[i].offset);
  rd_kafka_topic_partition_list_destroy(list);
  if (!status.ok()) return status;
  return out;
}

}  // namespace

uint64_t KafkaReadPlan::total_offsets() const {
  uint64_t n = 0;
  for (const auto& p : partitions) n += p.messages();
  return n;
}

nlohmann::ordered_json KafkaReadPlan::Describe() const {
  nlohmann::ordered_json topics_json = nlohmann::ordered_json::array();
  for (const auto& topic : topics) {
    nlohmann::ordered_json parts = nlohmann::ordered_json::array();
    uint64_t n = 0;
    for (const auto& p : partitions) {
      if (p.topic != topic) continue;
      parts.push_back({{"partition", p.partition}, {"start", p.start}, {"end", p.end}, {"messages", p.messages()}});
      n += p.messages();
    }
    topics_json.push_back({{"topic", topic}, {"messages", n}, {"partitions", std::move(parts)}});
  }
  return {{"captured_at_ms", captured_at_ms},
          {"messages", total_offsets()},
          {"readers", splits.size()},
          {"topics", std::move(topics_json)}};
}

Result<std::vector<std::string>> SelectTopics(const KafkaSourceConfig& config, const std::vector<std::string>& available) {
  std::vector<std::string> out;
  if (!config.topic_pattern.empty()) {
    std::regex re;
    try {
      re = std::regex(config.topic_pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::InvalidSpec("topic_pattern '" + config.topic_pattern + "' is not a regular expression: " + e.what());
    }
    for (const auto& t : available) {
      // Internal topics (__consumer_offsets, ...) only when named.
      if (t.rfind("__", 0) == 0) continue;
      if (std::regex_match(t, re)) out.push_back(t);
    }
    std::sort(out.begin(), out.end());
    if (out.empty()) {
      return Status::NotFound("topic_pattern '" + config.topic_pattern + "' matches no topic (topics: " +
                              Join(available) + ")")
          .WithHint("the pattern must match whole topic names, e.g. 'visits\\..*' for visits.eu and visits.us");
    }
    return out;
  }
  const std::set<std::string> have(available.begin(), available.end());
  for (const auto& t : config.topics) {
    if (have.count(t)) {
      out.push_back(t);
      continue;
    }
    const std::string suggestion = SuggestName(t, available);
    return Status::NotFound("topic '" + t + "' does not exist")
        .WithHint(suggestion.empty() ? "topics on the cluster: " + Join(available)
                                     : "did you mean '" + suggestion + "'?");
  }
  return out;
}

Status ApplyExplicitOffsets(const KafkaSourceConfig& config, const std::vector<int64_t>& low,
                            std::vector<PartitionRange>* partitions) {
  std::set<std::string> topics;
  for (const auto& p : *partitions) topics.insert(p.topic);
  for (const auto& [topic, offsets] : config.start_offsets) {
    if (!topics.count(topic)) {
      return Status::InvalidSpec("start.offsets names topic '" + topic + "', which this source does not read")
          .WithHint("list offsets for the source's topics only: " +
                    Join(std::vector<std::string>(topics.begin(), topics.end())));
    }
    for (const auto& [partition, offset] : offsets) {
      bool found = false;
      for (const auto& p : *partitions) found |= p.topic == topic && p.partition == partition;
      if (!found) {
        return Status::InvalidSpec("start.offsets gives partition " + std::to_string(partition) + " of topic " + topic +
                                   ", which does not exist")
            .WithHint("the topic's partitions are numbered from 0");
      }
    }
  }
  for (size_t i = 0; i < partitions->size(); ++i) {
    PartitionRange& p = (*partitions)[i];
    auto t = config.start_offsets.find(p.topic);
    auto o = t == config.start_offsets.end() ? decltype(t->second.end())() : t->second.find(p.partition);
    if (t == config.start_offsets.end() || o == t->second.end()) {
      return Status::InvalidSpec("start.offsets gives no offset for " + Where(p))
          .WithHint("give every partition of " + p.topic + " a start offset (its end offset is " + std::to_string(p.end) +
                    "), or start from earliest or a timestamp");
    }
    const int64_t offset = o->second;
    if (offset < low[i]) {
      return Status::InvalidSpec("start offset " + std::to_string(offset) + " of " + Where(p) +
                                 " is no longer in the log: the earliest available offset is " + std::to_string(low[i]))
          .WithHint("the records before it were deleted by retention; start from " + std::to_string(low[i]) +
                    " (or earliest) and accept the gap, or restore the data");
    }
    if (offset > p.end) {
      return Status::InvalidSpec("start offset " + std::to_string(offset) + " of " + Where(p) +
                                 " is past the end of the partition (" + std::to_string(p.end) + ")")
          .WithHint("offsets count records in the partition; the next record written gets offset " + std::to_string(p.end));
    }
    p.start = offset;
  }
  return Status::OK();
}

std::vector<std::vector<uint32_t>> GroupPartitions(const std::vector<PartitionRange>& partitions, int readers) {
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].messages() > 0) order.push_back(i);
  }
  const size_t groups = std::min(order.size(), static_cast<size_t>(std::max(1, readers)));
  std::vector<std::vector<uint32_t>> out(groups);
  if (groups == 0) return out;
  // Largest first, each to the lightest group: balanced, and deterministic (ties by index).
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return partitions[a].messages() > partitions[b].messages(); });
  std::vector<uint64_t> load(groups, 0);
  for (uint32_t i : order) {
    const size_t g = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[g].push_back(i);
    load[g] += partitions[i].messages();
  }
  for (auto& g : out) std::sort(g.begin(), g.end());
  return out;
}

Status CheckPositionLimits(const std::vector<PartitionRange>& partitions) {
  if (partitions.size() > kMaxPartitions) {
    return Status::InvalidSpec("the source reads " + std::to_string(partitions.size()) + " partitions; at most " +
                               std::to_string(kMaxPartitions) + " are supported")
        .WithHint("split the topics over several sources");
  }
  for (const auto& p : partitions) {
    if (p.end >= (int64_t{1} << kPositionOffsetBits)) {
      return Status::InvalidSpec(Where(p) + " has offsets up to " + std::to_string(p.end) +
                                 ", beyond the 2^48 statefun-bootstrap can order")
          .WithHint("this is a limit of the connector's record positions; please report it");
    }
  }
  return Status::OK();
}

Result<KafkaReadPlan> PlanRead(const KafkaSourceConfig& config, KafkaClient& client, int default_readers) {
  KafkaReadPlan plan;
  plan.captured_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const struct rd_kafka_metadata* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(client.handle(), 1, nullptr, &md, static_cast<int>(config.timeout_ms));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::string seen = client.RecentErrors();
    return Status::IoError("cannot reach the Kafka brokers " + config.brokers + " within " + Seconds(config.timeout_ms) +
                           ": " + (seen.empty() ? KafkaErrorText(err) : seen))
        .WithHint("check brokers: (host:port reachable from this machine) and the security settings under properties:; "
                  "raise timeout: for a slow network");
  }
  std::map<std::string, std::pair<int, rd_kafka_resp_err_t>> partition_count;  // topic -> (partitions, error)
  std::vector<std::string> available;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    partition_count[t.topic] = {t.partition_cnt, t.err};
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) available.push_back(t.topic);
  }
  rd_kafka_metadata_destroy(md);
  std::sort(available.begin(), available.end());
  SFB_ASSIGN_OR_RETURN(plan.topics, SelectTopics(config, available));
  for (const auto& topic : plan.topics) {
    const auto [count, topic_err] = partition_count[topic];
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
      return Status::IoError("topic " + topic + " is not readable: " + KafkaErrorText(topic_err));
    }
    for (int32_t p = 0; p < count; ++p) plan.partitions.push_back(PartitionRange{topic, p, 0, 0});
  }
  SFB_ASSIGN_OR_RETURN(std::vector<int64_t> ends, QueryOffsets(client, plan.partitions, -1, "end", config));
  SFB_ASSIGN_OR_RETURN(std::vector<int64_t> lows, QueryOffsets(client, plan.partitions, -2, "earliest", config));
  for (size_t i = 0; i < plan.partitions.size(); ++i) {
    PartitionRange& p = plan.partitions[i];
    if (ends[i] < 0 || lows[i] < 0) {
      return Status::IoError("the broker gave no offsets for " + Where(p)).WithHint("check the partition has a leader");
    }
    p.end = ends[i];
    p.start = std::min(lows[i], p.end);
  }
  switch (config.start) {
    case KafkaSourceConfig::Start::kEarliest:
      break;
    case KafkaSourceConfig::Start::kTimestamp: {
      SFB_ASSIGN_OR_RETURN(std::vector<int64_t> at,
                           QueryOffsets(client, plan.partitions, config.start_timestamp_ms, "timestamp", config));
      for (size_t i = 0; i < plan.partitions.size(); ++i) {
        PartitionRange& p = plan.partitions[i];
        // No record at or after the timestamp (-1), or only ones produced after the capture: none to read.
        p.start = at[i] < 0 ? p.end : std::min(std::max(at[i], p.start), p.end);
      }
      break;
    }
    case KafkaSourceConfig::Start::kOffsets:
      SFB_RETURN_IF_ERROR(ApplyExplicitOffsets(config, lows, &plan.partitions));
      break;
  }
  SFB_RETURN_IF_ERROR(CheckPositionLimits(plan.partitions));
  plan.splits = GroupPartitions(plan.partitions, config.readers > 0 ? config.readers : default_readers);
  return plan;
}

}  // namespace sfb
