// sfb-kafka-tool: the Kafka side of the connector's tests and benchmark, on librdkafka.
//
//   sfb-kafka-tool metadata --brokers B [--timeout-ms N]            exit 0 once the cluster answers
//   sfb-kafka-tool create-topic --brokers B --topic T --partitions N [--config k=v]...
//   sfb-kafka-tool produce --brokers B [--transaction commit|open] < messages.jsonl
//       one JSON object per line: {"topic": T, "partition": 0, "key": "k" | "key_b64": "..",
//       "value": "text" | null | "value_b64": "..", "headers": [["h", "v"], ["h2", null]],
//       "timestamp": ms}; no "value" key at all is a tombstone too. Prints {"produced": N}.
//       --transaction open leaves the transaction open (not committed) when the tool exits.
//   sfb-kafka-tool generate --brokers B --topic T --count N [--keys K] [--pad BYTES]
//       N JSON messages {"user":"user-<i%K>","n":i,"amount":i%100,"pad":"..."} keyed by user.
//   sfb-kafka-tool offsets --brokers B --topic T                    {"0": end, "1": end, ...}
//   sfb-kafka-tool committed --brokers B --group G --topic T        the group's committed offsets
//                                                                   (-1001: none)
//   sfb-kafka-tool consume --brokers B --topic T
//       plain librdkafka consume of every partition from the earliest offset to the end offsets
//       captured at start, discarding the messages: the benchmark's baseline. Prints JSON.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "sfb-kafka-tool: %s\n", message.c_str());
  std::exit(1);
}

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> configs;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    if (it != options.end()) return it->second;
    if (fallback.empty()) Die("missing --" + name);
    return fallback;
  }
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc < 2) Die("usage: sfb-kafka-tool COMMAND --brokers B ... (see the source)");
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument " + arg);
    if (arg == "--config") {
      a.configs.push_back(argv[++i]);
    } else {
      a.options[arg.substr(2)] = argv[++i];
    }
  }
  return a;
}

std::string Base64Decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    const auto p = chars.find(c);
    if (p == std::string::npos) Die("bad base64");
    val = (val << 6) + static_cast<int>(p);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const Args& a, const std::vector<std::pair<std::string, std::string>>& extra) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> props = {{"bootstrap.servers", a.Get("brokers")},
                                                            {"log_level", "3"}};
  props.insert(props.end(), extra.begin(), extra.end());
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) Die(err);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) Die(err);
  return rk;
}

int Metadata(const Args& a) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, a, {});
  const struct rd_kafka_metadata* md = nullptr;
  const int timeout = std::stoi(a.Get("timeout-ms", "5000"));
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout);
  if (err) {
    rd_kafka_destroy(rk);
    Die(std::string("metadata: ") + rd_kafka_err2str(err));
  }
  nlohmann::json topics = nlohmann::json::array();
  for (int i = 0; i < md->topic_cnt; ++i) topics.push_back(md->topics[i].topic);
  std::printf("%s\n", nlohmann::json{{"brokers", md->broker_cnt}, {"topics", topics}}.dump().c_str());
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return 0;
}

int CreateTopic(const Args& a) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, a, {});
  char err[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(a.Get("topic").c_str(), std::stoi(a.Get("partitions", "1")), 1,
                                                     err, sizeof err);
  if (!topic) Die(err);
  for (const auto& c : a.configs) {
    const auto eq = c.find('=');
    if (eq == std::string::npos) Die("--config takes name=value");
    rd_kafka_NewTopic_set_config(topic, c.substr(0, eq).c_str(), c.substr(eq + 1).c_str());
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000);
  if (!ev) Die("create-topic: no answer within 30 s");
  if (rd_kafka_event_error(ev)) Die(std::string("create-topic: ") + rd_kafka_event_error_string(ev));
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_topic_result_error(topics[i])) {
      Die(std::string("create-topic: ") + rd_kafka_topic_result_error_string(topics[i]));
    }
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  // Wait until the topic's partitions have leaders, so producers and readers find it at once.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const struct rd_kafka_metadata* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, a.Get("topic").c_str(), nullptr);
    bool ready = rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
                 md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0;
    for (int p = 0; ready && p < md->topics[0].partition_cnt; ++p) ready = md->topics[0].partitions[p].leader >= 0;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (ready) break;
    rd_kafka_poll(rk, 100);
  }
  rd_kafka_destroy(rk);
  return 0;
}

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) Die(std::string("delivery failed: ") + rd_kafka_err2str(m->err));
  ++*static_cast<uint64_t*>(opaque);
}

rd_kafka_t* NewProducer(const Args& a, uint64_t* delivered, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> props = {{"linger.ms", "20"}, {"enable.idempotence", "true"}};
  props.insert(props.end(), extra.begin(), extra.end());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> all = {{"bootstrap.servers", a.Get("brokers")}, {"log_level", "3"}};
  all.insert(all.end(), props.begin(), props.end());
  for (const auto& [k, v] : all) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) Die(err);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, delivered);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) Die(err);
  return rk;
}

void Check(rd_kafka_error_t* error, const char* what) {
  if (!error) return;
  const std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  Die(std::string(what) + ": " + text);
}

void Produce(rd_kafka_t* rk, const std::string& topic, int32_t partition, const std::string* key,
             const std::string* value, int64_t timestamp, const std::vector<std::pair<std::string, const std::string*>>& hs) {
  rd_kafka_headers_t* headers = nullptr;
  if (!hs.empty()) {
    headers = rd_kafka_headers_new(hs.size());
    for (const auto& [name, v] : hs) {
      rd_kafka_header_add(headers, name.c_str(), -1, v ? v->data() : nullptr, v ? static_cast<ssize_t>(v->size()) : 0);
    }
  }
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key ? key->data() : nullptr, key ? key->size() : 0),
        RD_KAFKA_V_VALUE(value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0),
        RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 50);
      continue;
    }
    if (err) Die(std::string("produce: ") + rd_kafka_err2str(err));
    return;  // the headers now belong to the message
  }
}

int ProduceLines(const Args& a) {
  uint64_t delivered = 0;
  const std::string txn = a.Get("transaction", "none");
  std::vector<std::pair<std::string, std::string>> extra;
  if (txn != "none") extra.emplace_back("transactional.id", "sfb-kafka-tool-" + std::to_string(::getpid()));
  rd_kafka_t* rk = NewProducer(a, &delivered, extra);
  if (txn != "none") {
    Check(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    Check(rd_kafka_begin_transaction(rk), "begin_transaction");
  }
  std::string line;
  uint64_t n = 0;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json m = nlohmann::json::parse(line);
    std::string key, value;
    const std::string* key_ptr = nullptr;
    const std::string* value_ptr = nullptr;
    if (m.contains("key_b64")) key = Base64Decode(m["key_b64"]), key_ptr = &key;
    else if (m.contains("key") && !m["key"].is_null()) key = m["key"].get<std::string>(), key_ptr = &key;
    if (m.contains("value_b64")) value = Base64Decode(m["value_b64"]), value_ptr = &value;
    else if (m.contains("value") && !m["value"].is_null()) value = m["value"].get<std::string>(), value_ptr = &value;
    std::vector<std::string> header_values;
    std::vector<std::pair<std::string, const std::string*>> headers;
    if (m.contains("headers")) {
      header_values.reserve(m["headers"].size());
      for (const auto& h : m["headers"]) {
        if (h[1].is_null()) {
          headers.emplace_back(h[0].get<std::string>(), nullptr);
        } else {
          header_values.push_back(h[1].get<std::string>());
          headers.emplace_back(h[0].get<std::string>(), &header_values.back());
        }
      }
    }
    const int32_t partition = m.contains("partition") ? m["partition"].get<int32_t>() : RD_KAFKA_PARTITION_UA;
    const int64_t timestamp = m.contains("timestamp") ? m["timestamp"].get<int64_t>() : 0;
    Produce(rk, m["topic"].get<std::string>(), partition, key_ptr, value_ptr, timestamp, headers);
    ++n;
    rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 60000)) Die("flush timed out");
  if (txn == "commit") Check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
  if (delivered != n) Die("only " + std::to_string(delivered) + " of " + std::to_string(n) + " delivered");
  std::printf("%s\n", nlohmann::json{{"produced", n}}.dump().c_str());
  std::fflush(stdout);
  if (txn == "open") _exit(0);  // leave without committing or aborting: the transaction stays open
  rd_kafka_destroy(rk);
  return 0;
}

int Generate(const Args& a) {
  uint64_t delivered = 0;
  rd_kafka_t* rk = NewProducer(a, &delivered, {{"linger.ms", "50"}, {"batch.size", "1000000"},
                                               {"compression.type", "lz4"}, {"queue.buffering.max.messages", "1000000"}});
  const uint64_t count = std::stoull(a.Get("count"));
  const uint64_t keys = std::stoull(a.Get("keys", "100000"));
  const std::string pad(std::stoul(a.Get("pad", "0")), 'x');
  const std::string topic = a.Get("topic");
  const auto start = Clock::now();
  std::string key, value;
  for (uint64_t i = 0; i < count; ++i) {
    key = "user-" + std::to_string(i % keys);
    value = "{\"user\":\"" + key + "\",\"n\":" + std::to_string(i) + ",\"amount\":" + std::to_string(i % 100) +
            ",\"pad\":\"" + pad + "\"}";
    Produce(rk, topic, RD_KAFKA_PARTITION_UA, &key, &value, 0, {});
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 300000)) Die("flush timed out");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s\n", nlohmann::json{{"produced", delivered}, {"seconds", seconds}}.dump().c_str());
  rd_kafka_destroy(rk);
  return delivered == count ? 0 : 1;
}

// topic -> partitions' (low, high) watermarks.
std::vector<std::pair<int64_t, int64_t>> Watermarks(rd_kafka_t* rk, const std::string& topic) {
  const struct rd_kafka_metadata* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) Die("no topic " + topic);
  std::vector<std::pair<int64_t, int64_t>> out(static_cast<size_t>(md->topics[0].partition_cnt));
  for (int32_t p = 0; p < md->topics[0].partition_cnt; ++p) {
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &out[static_cast<size_t>(p)].first,
                                         &out[static_cast<size_t>(p)].second, 10000)) {
      Die("watermarks of partition " + std::to_string(p));
    }
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return out;
}

int Offsets(const Args& a) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER, a, {{"group.id", "sfb-kafka-tool"}});
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto marks = Watermarks(rk, a.Get("topic"));
  for (size_t p = 0; p < marks.size(); ++p) out[std::to_string(p)] = marks[p].second;
  std::printf("%s\n", out.dump().c_str());
  rd_kafka_destroy(rk);
  return 0;
}

int Committed(const Args& a) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER, a, {{"group.id", a.Get("group")}});
  const std::string topic = a.Get("topic");
  const auto marks = Watermarks(rk, topic);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(marks.size()));
  for (size_t p = 0; p < marks.size(); ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<int32_t>(p));
  if (rd_kafka_committed(rk, list, 10000)) Die("committed: no answer");
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (int i = 0; i < list->cnt; ++i) out[std::to_string(list->elems[i].partition)] = list->elems[i].offset;
  std::printf("%s\n", out.dump().c_str());
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return 0;
}

int Consume(const Args& a) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER, a, {{"group.id", "sfb-kafka-tool"}, {"enable.auto.commit", "false"},
                                                    {"enable.partition.eof", "true"}});
  rd_kafka_poll_set_consumer(rk);
  const std::string topic = a.Get("topic");
  const auto start = Clock::now();
  const auto marks = Watermarks(rk, topic);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(marks.size()));
  std::vector<int64_t> end;
  size_t remaining = 0;
  for (size_t p = 0; p < marks.size(); ++p) {
    end.push_back(marks[p].second);
    if (marks[p].second > marks[p].first) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<int32_t>(p))->offset = marks[p].first;
      ++remaining;
    }
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<bool> done(marks.size(), false);
  uint64_t messages = 0, bytes = 0;
  // Batches from the consumer queue, as the connector reads (and as fast as librdkafka delivers).
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(1024);
  while (remaining > 0) {
    const ssize_t n = rd_kafka_consume_batch_queue(queue, 1000, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      const size_t p = static_cast<size_t>(m->partition);
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && !done[p] && m->offset < end[p]) {
        ++messages;
        bytes += m->len + m->key_len;
      }
      if (!done[p] && (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m->err == RD_KAFKA_RESP_ERR_NO_ERROR) &&
          m->offset + (m->err ? 0 : 1) >= end[p]) {
        done[p] = true;
        --remaining;
      } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Die(std::string("consume: ") + rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_queue_destroy(queue);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s\n", nlohmann::json{{"messages", messages}, {"bytes", bytes}, {"seconds", seconds},
                                     {"messages_per_second", static_cast<double>(messages) / seconds}}
                          .dump()
                          .c_str());
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  if (a.command == "metadata") return Metadata(a);
  if (a.command == "create-topic") return CreateTopic(a);
  if (a.command == "produce") return ProduceLines(a);
  if (a.command == "generate") return Generate(a);
  if (a.command == "offsets") return Offsets(a);
  if (a.command == "consume") return Consume(a);
  if (a.command == "committed") return Committed(a);
  Die("unknown command " + a.command);
}
