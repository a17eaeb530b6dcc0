// KafkaClient: one librdkafka consumer handle configured for a kafka source, with librdkafka's log and
// error callbacks captured instead of printed, so a failure can say what the client saw ("Connect to
// ipv4#127.0.0.1:9092 failed: Connection refused") in one error, not as log noise.
//
// Readers never join a consumer group: partitions are assigned explicitly, nothing is committed
// (unless commit_offsets asks for it) and offsets out of range are errors, not silent resets. The
// properties statefun-bootstrap manages for that (group.id, enable.auto.commit, auto.offset.reset,
// enable.partition.eof, isolation.level, bootstrap.servers) cannot be overridden; everything else
// (security.protocol, sasl.*, ssl.*, fetch tuning) passes through.

#ifndef SFB_CONNECTORS_KAFKA_KAFKA_CLIENT_H_
#define SFB_CONNECTORS_KAFKA_KAFKA_CLIENT_H_

#include <librdkafka/rdkafka.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/kafka_config.h"

namespace sfb {

class KafkaClient {
 public:
  static Result<std::unique_ptr<KafkaClient>> Create(const KafkaSourceConfig& config);
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  rd_kafka_t* handle() const { return rk_; }
  // Serves error callbacks without waiting.
  void Poll() { rd_kafka_poll(rk_, 0); }
  // The client's most recent complaints (errors and warnings), newest last, joined by "; "; "" if none.
  std::string RecentErrors() const;
  // A fatal client error (the handle is unusable), or OK.
  Status FatalError() const;

 private:
  KafkaClient() = default;
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  void Remember(std::string message);

  rd_kafka_t* rk_ = nullptr;
  mutable std::mutex mu_;
  std::deque<std::string> recent_;
};

// Checks the pass-through properties without connecting: unknown names, bad values, and properties
// the connector manages. Errors name the property, never its value (it may be a secret).
Status CheckClientProperties(const std::vector<std::pair<std::string, std::string>>& properties);

// "Local: Broker transport failure" for an error code.
std::string KafkaErrorText(rd_kafka_resp_err_t err);

}  // namespace sfb

#endif  // SFB_CONNECTORS_KAFKA_KAFKA_CLIENT_H_
