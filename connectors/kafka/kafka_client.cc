#include "connectors/kafka/kafka_client.h"

#include <syslog.h>

#include <algorithm>

namespace sfb {
namespace {

constexpr size_t kRecentErrors = 4;

// Managed by the connector: the property, and the spec key that sets it instead (or why it is fixed).
const std::pair<const char*, const char*> kManaged[] = {
    {"bootstrap.servers", "brokers:"},
    {"metadata.broker.list", "brokers:"},
    {"group.id", "group_id:"},
    {"enable.auto.commit", "commit_offsets: (readers never commit on their own)"},
    {"enable.auto.offset.store", "commit_offsets:"},
    {"auto.offset.reset", "start: (an offset that is gone is an error, never a silent jump)"},
    {"enable.partition.eof", "nothing: the connector needs partition-end events to stop"},
    {"isolation.level", "isolation: read_committed or read_uncommitted"},
};

Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, bool user) {
  char err[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK) return Status::OK();
  // librdkafka's message may quote the value, which may be a secret: say only what is wrong with it.
  std::string why = err;
  if (!value.empty()) {
    for (size_t p = why.find(value); p != std::string::npos; p = why.find(value, p)) why.replace(p, value.size(), "***");
  }
  Status s = Status::InvalidSpec("Kafka client property " + name + ": " + why);
  if (user) s.WithHint("properties: takes librdkafka consumer properties (see CONFIGURATION.md of librdkafka 2.0)");
  return s;
}

}  // namespace

std::string KafkaErrorText(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

Status CheckClientProperties(const std::vector<std::pair<std::string, std::string>>& properties) {
  for (const auto& [name, value] : properties) {
    for (const auto& [managed, instead] : kManaged) {
      if (name == managed) {
        return Status::InvalidSpec("the Kafka client property " + name + " is set by statefun-bootstrap")
            .WithHint(std::string("remove it from properties: and use ") + instead);
      }
    }
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status status;
  for (const auto& [name, value] : properties) {
    status = SetProperty(conf, name, value, true);
    if (!status.ok()) break;
  }
  rd_kafka_conf_destroy(conf);
  return status;
}

Result<std::unique_ptr<KafkaClient>> KafkaClient::Create(const KafkaSourceConfig& config) {
  std::unique_ptr<KafkaClient> client(new KafkaClient());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", config.brokers},
      {"client.id", "statefun-bootstrap"},
      {"group.id", config.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "true"},
      {"allow.auto.create.topics", "false"},
      {"isolation.level", config.read_committed ? "read_committed" : "read_uncommitted"},
      {"log.connection.close", "false"},
      // Prefetch deeper than librdkafka's default of 100k messages per partition: a reader slower
      // than the network (decoding JSON, routing) otherwise keeps finding its queue full, and
      // librdkafka 2.0 then backs that partition's fetching off for a fixed second (no setting
      // shortens it before 2.2's fetch.queue.backoff.ms), so the reader sits idle; measured on
      // bench/kafka, 300k halves the read time. A run sizes both bounds from its memory budget
      // instead (prefetch_messages, prefetch_kbytes); properties override either.
      {"queued.min.messages", config.prefetch_messages > 0 ? std::to_string(config.prefetch_messages) : "300000"},
  };
  if (config.prefetch_kbytes > 0) props.emplace_back("queued.max.messages.kbytes", std::to_string(config.prefetch_kbytes));
  Status status;
  for (const auto& [name, value] : props) {
    status = SetProperty(conf, name, value, false);
    if (!status.ok()) break;
  }
  for (size_t i = 0; status.ok() && i < config.properties.size(); ++i) {
    status = SetProperty(conf, config.properties[i].first, config.properties[i].second, true);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, client.get());
  rd_kafka_conf_set_error_cb(conf, OnError);
  rd_kafka_conf_set_log_cb(conf, OnLog);
  char err[512];
  client->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!client->rk_) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidSpec(std::string("cannot create a Kafka client: ") + err)
        .WithHint("check brokers: and the properties: of the source");
  }
  // Error callbacks are served by rd_kafka_consumer_poll from here on.
  rd_kafka_poll_set_consumer(client->rk_);
  return client;
}

KafkaClient::~KafkaClient() {
  if (!rk_) return;
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

void KafkaClient::OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  std::string text = reason ? reason : KafkaErrorText(static_cast<rd_kafka_resp_err_t>(err));
  self->Remember(std::move(text));
}

void KafkaClient::OnLog(const rd_kafka_t* rk, int level, const char*, const char* message) {
  if (level > LOG_WARNING || !rk) return;
  auto* self = static_cast<KafkaClient*>(rd_kafka_opaque(rk));
  if (self) self->Remember(message);
}

void KafkaClient::Remember(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  // Drop librdkafka's "[thrd:...]: " prefix; keep what happened.
  if (message.rfind("[thrd:", 0) == 0) {
    const auto p = message.find("]: ");
    if (p != std::string::npos) message = message.substr(p + 3);
  }
  if (std::find(recent_.begin(), recent_.end(), message) != recent_.end()) return;
  recent_.push_back(std::move(message));
  if (recent_.size() > kRecentErrors) recent_.pop_front();
}

std::string KafkaClient::RecentErrors() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& m : recent_) out += (out.empty() ? "" : "; ") + m;
  return out;
}

Status KafkaClient::FatalError() const {
  char buf[512];
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_, buf, sizeof buf);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  return Status::IoError(std::string("the Kafka client failed: ") + buf);
}

}  // namespace sfb
