// KafkaSource against librdkafka's built-in mock cluster: the faults a real single broker cannot
// produce on demand (brokers lost mid-read, partition leaders moving), plus bounded failure when no
// broker answers. The real-broker behaviour is covered by tests/integration/test_kafka.py.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "api/savepoint_creator.h"
#include "api/types.h"
#include "common/str_cat.h"
#include "connectors/kafka/kafka_source.h"

namespace sfb {
namespace {

constexpr int kPartitions = 4;
constexpr int kPerPartition = 400;
constexpr char kTopic[] = "events";

// A mock cluster of three brokers with one topic, filled with kPerPartition messages per partition:
// key "k<partition>-<i % 7>", value {"p": partition, "i": i}.
class MockCluster {
 public:
  MockCluster() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mcluster_ = rd_kafka_mock_cluster_new(host_, 3);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(mcluster_);
    rd_kafka_mock_topic_create(mcluster_, kTopic, kPartitions, 3);
    Produce();
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mcluster_);
    rd_kafka_destroy(host_);
  }
  rd_kafka_mock_cluster_t* get() { return mcluster_; }
  const std::string& bootstraps() const { return bootstraps_; }
  // Slow responses, so a fault injected early in a read finds most fetches still to come.
  void SetRtt(int ms) {
    for (int b = 1; b <= 3; ++b) rd_kafka_mock_broker_set_rtt(mcluster_, b, ms);
  }
  void SetAllBrokers(bool up) {
    for (int b = 1; b <= 3; ++b) {
      if (up) rd_kafka_mock_broker_set_up(mcluster_, b);
      else rd_kafka_mock_broker_set_down(mcluster_, b);
    }
  }

 private:
  void Produce() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    // Small record batches: a fetch returns whole batches, so big ones would hand a reader its whole
    // partition in one response, before any fault could hit it.
    rd_kafka_conf_set(conf, "batch.num.messages", "10", err, sizeof err);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    for (int p = 0; p < kPartitions; ++p) {
      for (int i = 0; i < kPerPartition; ++i) {
        const std::string key = StrCat("k", std::to_string(p), "-", std::to_string(i % 7));
        const std::string value = StrCat("{\"p\":", std::to_string(p), ",\"i\":", std::to_string(i), "}");
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_PARTITION(p),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
      }
    }
    rd_kafka_flush(producer, 30000);
    rd_kafka_destroy(producer);
  }

  rd_kafka_t* host_;
  rd_kafka_mock_cluster_t* mcluster_;
  std::string bootstraps_;
};

KafkaSourceConfig Config(const std::string& brokers) {
  KafkaSourceConfig c;
  c.source_name = "events";
  c.brokers = brokers;
  c.topics = {kTopic};
  c.timeout_ms = 10000;
  c.read_timeout_ms = 10000;
  c.progress_ms = 0;
  c.readers = 2;
  // Small fetches, so faults injected mid-read hit reads still to come (not a prefetched queue).
  c.properties = {{"fetch.message.max.bytes", "1024"}, {"fetch.wait.max.ms", "10"}};
  return c;
}

// Collects (position, value) and runs a hook after every record.
class Collect : public RecordConsumer {
 public:
  std::function<void(size_t)> after;
  Status Consume(const Record& r, uint64_t position) override {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.emplace_back(position, r.Get("value").ToText());
      n = seen_.size();
    }
    if (after) after(n);
    return Status::OK();
  }
  std::vector<std::pair<uint64_t, std::string>> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<uint64_t, std::string>> seen_;
};

Status ReadAll(KafkaSource& source, RecordConsumer& consumer) {
  std::atomic<bool> cancel{false};
  Status first;
  std::vector<std::thread> threads;
  std::mutex mu;
  for (size_t s = 0; s < source.num_splits(); ++s) {
    threads.emplace_back([&, s] {
      Status st = source.ReadSplit(s, consumer, cancel);
      std::lock_guard<std::mutex> lock(mu);
      if (!st.ok() && first.ok()) first = st;
      if (!st.ok()) cancel = true;
    });
  }
  for (auto& t : threads) t.join();
  return first;
}

// Every message exactly once, each partition in offset order.
void ExpectComplete(const std::vector<std::pair<uint64_t, std::string>>& seen) {
  ASSERT_EQ(seen.size(), static_cast<size_t>(kPartitions * kPerPartition));
  std::set<uint64_t> positions;
  std::map<uint32_t, int64_t> last;
  for (const auto& [position, value] : seen) {
    EXPECT_TRUE(positions.insert(position).second) << "position read twice: " << position;
    const uint32_t p = PositionPartition(position);
    const int64_t offset = PositionOffset(position);
    if (last.count(p)) {
      EXPECT_GT(offset, last[p]);
    }
    last[p] = offset;
    EXPECT_EQ(value, "{\"p\":" + std::to_string(p) + ",\"i\":" + std::to_string(offset) + "}");
  }
}

TEST(KafkaSourceMock, ReadsEveryPartitionUpToTheCapturedEnd) {
  MockCluster cluster;
  KafkaSource source(Config(cluster.bootstraps()));
  ASSERT_TRUE(source.Prepare().ok());
  EXPECT_EQ(source.num_splits(), 2u);
  EXPECT_EQ(source.plan().total_offsets(), static_cast<uint64_t>(kPartitions * kPerPartition));
  Collect collect;
  ASSERT_TRUE(ReadAll(source, collect).ok());
  ExpectComplete(collect.seen());
  EXPECT_EQ(source.messages_read(), static_cast<uint64_t>(kPartitions * kPerPartition));
  EXPECT_EQ(source.DescribePosition(EncodePosition(2, 17)), "topic events partition 2 offset 17");
  const auto provenance = source.Provenance();
  EXPECT_EQ(provenance["end_offsets"][kTopic]["3"], kPerPartition);
}

// Headers are read unless the fields the routes name are all ones that need none (set_fields_read).
TEST(KafkaSourceMock, HeadersAreLeftOutOnlyWhenNoFieldReadCouldNeedThem) {
  MockCluster cluster;
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstraps().c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    rd_kafka_mock_topic_create(cluster.get(), "with-headers", 1, 1);
    const std::string value = "{\"v\":1}";
    ASSERT_EQ(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("with-headers"), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_HEADER("origin", "web", 3), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_flush(producer, 30000);
    rd_kafka_destroy(producer);
  }
  class Fields : public RecordConsumer {
   public:
    Status Consume(const Record& r, uint64_t) override {
      std::lock_guard<std::mutex> lock(mu);
      names = r.schema().names();
      origin = r.Find("headers.origin") ? r.Get("headers.origin").ToText() : "(absent)";
      return Status::OK();
    }
    std::mutex mu;
    std::vector<std::string> names;
    std::string origin;
  };
  auto read = [&](const std::vector<std::string>* fields) {
    KafkaSourceConfig c = Config(cluster.bootstraps());
    c.topics = {"with-headers"};
    KafkaSource source(c);
    if (fields) source.set_fields_read(*fields);
    EXPECT_TRUE(source.Prepare().ok());
    Fields got;
    EXPECT_TRUE(ReadAll(source, got).ok());
    return got.origin;
  };
  EXPECT_EQ(read(nullptr), "web");  // never told: every field
  const std::vector<std::string> plain = {"value.v", "key", "topic", "partition", "offset", "timestamp", "value"};
  EXPECT_EQ(read(&plain), "(absent)");
  const std::vector<std::string> named = {"value.v", "headers.origin"};
  EXPECT_EQ(read(&named), "web");
  const std::vector<std::string> typo = {"value.v", "header.origin"};  // its error may suggest headers.origin
  EXPECT_EQ(read(&typo), "web");
  const std::vector<std::string> prefix = {"values.v"};  // not value.<f>
  EXPECT_EQ(read(&prefix), "web");
}

TEST(KafkaSourceMock, PartitionLeadersMovingMidReadLoseAndRepeatNothing) {
  MockCluster cluster;
  cluster.SetRtt(30);
  KafkaSource source(Config(cluster.bootstraps()));
  ASSERT_TRUE(source.Prepare().ok());
  Collect collect;
  std::once_flag moved;
  collect.after = [&](size_t n) {
    if (n < 20) return;
    std::call_once(moved, [&] {
      for (int p = 0; p < kPartitions; ++p) rd_kafka_mock_partition_set_leader(cluster.get(), kTopic, p, 1 + (p + 1) % 3);
    });
  };
  ASSERT_TRUE(ReadAll(source, collect).ok());
  ExpectComplete(collect.seen());
}

TEST(KafkaSourceMock, BrokersBackWithinReadTimeoutAreRetried) {
  MockCluster cluster;
  cluster.SetRtt(30);
  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.read_timeout_ms = 30000;
  config.properties.emplace_back("reconnect.backoff.max.ms", "500");
  KafkaSource source(config);
  ASSERT_TRUE(source.Prepare().ok());
  Collect collect;
  std::once_flag down;
  std::thread revive;
  collect.after = [&](size_t n) {
    if (n < 20) return;
    std::call_once(down, [&] {
      cluster.SetAllBrokers(false);
      revive = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        cluster.SetAllBrokers(true);
      });
    });
  };
  const Status s = ReadAll(source, collect);
  if (revive.joinable()) revive.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectComplete(collect.seen());
}

TEST(KafkaSourceMock, BrokersLostMidReadFailClearlyAfterReadTimeout) {
  MockCluster cluster;
  cluster.SetRtt(30);
  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.read_timeout_ms = 1500;
  KafkaSource source(config);
  ASSERT_TRUE(source.Prepare().ok());
  Collect collect;
  std::once_flag down;
  collect.after = [&](size_t n) {
    if (n >= 20) std::call_once(down, [&] { cluster.SetAllBrokers(false); });
  };
  const auto start = std::chrono::steady_clock::now();
  const Status s = ReadAll(source, collect);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(s.message().find("no data from the Kafka brokers"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("events/"), std::string::npos) << s.message();
  EXPECT_NE(s.hint().find("read_timeout"), std::string::npos) << s.hint();
  EXPECT_LT(seconds, 15);
}

// A router and a function for a whole savepoint run over the mock cluster.
class CountRouter : public Router {
 public:
  explicit CountRouter(std::function<void()> hook) : hook_(std::move(hook)) {}
  Status Route(const Record& r, Downstream& d) const override {
    hook_();
    return d.Forward("test/counter", r.Get("key").ToText());
  }

 private:
  std::function<void()> hook_;
};

class Counter : public StateBootstrapFunction {
 public:
  PersistedValue<int64_t> count{this, "count", types::Long()};
  Status Bootstrap(Context&, const Record&) override {
    count.Set(count.GetOrDefault(0) + 1);
    return Status::OK();
  }
};

TEST(KafkaSourceMock, BrokerLostMidRunLeavesNoSavepoint) {
  MockCluster cluster;
  cluster.SetRtt(30);
  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.read_timeout_ms = 1500;
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("sfb-kafka-mock-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(out);
  std::atomic<int> routed{0};
  SavepointCreator creator(128);
  creator.WithThreads(2);
  creator.WithStateBootstrapFunctionProvider("test/counter", [] { return std::make_unique<Counter>(); });
  creator.WithBootstrapData("events", std::make_unique<KafkaSource>(config), std::make_shared<CountRouter>([&] {
                              if (++routed == 20) cluster.SetAllBrokers(false);
                            }));
  const Status s = creator.Write(out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("no data from the Kafka brokers"), std::string::npos) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    EXPECT_EQ(e.path().filename().string().find("sfb-kafka-mock-" + std::to_string(::getpid())), std::string::npos)
        << "left behind: " << e.path();
  }
}

TEST(KafkaSourceMock, HandoffFilesAndProvenanceOfAWholeRun) {
  MockCluster cluster;
  KafkaSourceConfig config = Config(cluster.bootstraps());
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("sfb-kafka-mock-ok-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(out);
  SavepointCreator creator(128);
  creator.WithThreads(2);
  creator.WithStateBootstrapFunctionProvider("test/counter", [] { return std::make_unique<Counter>(); });
  creator.WithBootstrapData("events", std::make_unique<KafkaSource>(config), std::make_shared<CountRouter>([] {}));
  const Status s = creator.Write(out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::filesystem::exists(out + "/kafka-ingress-events.yaml"));
  EXPECT_EQ(creator.summary().records_read, static_cast<uint64_t>(kPartitions * kPerPartition));
  EXPECT_EQ(creator.summary().addresses, static_cast<uint64_t>(kPartitions * 7));
  std::filesystem::remove_all(out);
}

TEST(KafkaSourceMock, UnreachableBrokersFailWithinTheTimeout) {
  KafkaSourceConfig config = Config("127.0.0.1:1");
  config.timeout_ms = 1500;
  KafkaSource source(config);
  const auto start = std::chrono::steady_clock::now();
  const Status s = source.Prepare();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot reach the Kafka brokers 127.0.0.1:1 within 1500 ms"), std::string::npos)
      << s.message();
  EXPECT_NE(s.hint().find("timeout"), std::string::npos);
  EXPECT_LT(seconds, 5);
}

TEST(KafkaSourceMock, UnknownTopicSuggestsTheClosest) {
  MockCluster cluster;
  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.topics = {"event"};
  KafkaSource source(config);
  const Status s = source.Prepare();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "topic 'event' does not exist");
  EXPECT_EQ(s.hint(), "did you mean 'events'?");
}

TEST(KafkaSourceMock, ExplicitStartOffsets) {
  MockCluster cluster;
  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.start = KafkaSourceConfig::Start::kOffsets;
  config.start_offsets[kTopic] = {{0, 390}, {1, 400}, {2, 0}, {3, 399}};
  KafkaSource source(config);
  ASSERT_TRUE(source.Prepare().ok());
  Collect collect;
  ASSERT_TRUE(ReadAll(source, collect).ok());
  EXPECT_EQ(collect.seen().size(), 10u + 0u + 400u + 1u);

  config.start_offsets[kTopic] = {{0, 0}, {1, 0}, {2, 0}};
  KafkaSource missing(config);
  const Status s = missing.Prepare();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "start.offsets gives no offset for topic events partition 3");
}

// The prefetch follows the memory offered: per partition, messages at 256 bytes each and keys and values
// in half the share, within librdkafka's floors and ceilings.
TEST(KafkaPrefetch, BoundsFollowTheShare) {
  const KafkaPrefetch p = KafkaPrefetchFor(256ull << 20);
  EXPECT_EQ(p.messages, (256ll << 20) / 256);
  EXPECT_EQ(p.kbytes, (128ll << 20) / 1024);
  const KafkaPrefetch tiny = KafkaPrefetchFor(1000);
  EXPECT_EQ(tiny.messages, 1000);
  EXPECT_EQ(tiny.kbytes, 1024);
  const KafkaPrefetch huge = KafkaPrefetchFor(1ull << 40);
  EXPECT_EQ(huge.messages, 10000000);
  EXPECT_EQ(huge.kbytes, 2097151);
}

// A prepared source takes the read-ahead offered and still reads everything with the smallest queues;
// one whose properties set both bounds takes nothing, and nothing is taken before Prepare().
TEST(KafkaSourceMock, ReadAheadIsTakenUnlessPropertiesSetTheQueues) {
  MockCluster cluster;
  KafkaSource source(Config(cluster.bootstraps()));
  EXPECT_EQ(source.ReserveReadAhead(1 << 20), 0u);
  ASSERT_TRUE(source.Prepare().ok());
  EXPECT_EQ(source.ReserveReadAhead(1 << 20), 1u << 20);
  Collect collect;
  ASSERT_TRUE(ReadAll(source, collect).ok());
  ExpectComplete(collect.seen());

  KafkaSourceConfig config = Config(cluster.bootstraps());
  config.properties.push_back({"queued.min.messages", "5000"});
  KafkaSource one_set(config);
  ASSERT_TRUE(one_set.Prepare().ok());
  EXPECT_EQ(one_set.ReserveReadAhead(1 << 20), 1u << 20);
  config.properties.push_back({"queued.max.messages.kbytes", "4096"});
  KafkaSource both_set(config);
  ASSERT_TRUE(both_set.Prepare().ok());
  EXPECT_EQ(both_set.ReserveReadAhead(1 << 20), 0u);
}

}  // namespace
}  // namespace sfb
