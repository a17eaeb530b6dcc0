// SchemaRegistryClient without a registry: how urls are shown, and what a run is told when no url
// answers. The answers of a real registry (Apicurio's Confluent API) are tested in
// tests/integration/test_kafka_registry.py.

#include "connectors/kafka/schema_registry_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace sfb {
namespace {

// A local port nothing listens on (bound once to get a free one, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(SchemaRegistryClient, RedactsCredentialsInUrls) {
  EXPECT_EQ(SchemaRegistryClient::Redacted("http://user:hunter2@reg:8081/apis"), "http://***@reg:8081/apis");
  EXPECT_EQ(SchemaRegistryClient::Redacted("https://reg:8081/a@b"), "https://reg:8081/a@b");
  EXPECT_EQ(SchemaRegistryClient::Redacted("http://reg:8081"), "http://reg:8081");
}

TEST(SchemaRegistryClient, NoUrlAnsweringFailsNamingEachAndNoSecret) {
  SchemaRegistryConfig config;
  const std::string first = "http://bob:hunter2@127.0.0.1:" + std::to_string(ClosedPort());
  const std::string second = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/apis/ccompat/v7";
  config.urls = {first, second};
  config.basic_auth_user_info = "app:hunter3";
  config.timeout_ms = 2000;
  SchemaRegistryClient client(config);
  auto schema = client.SchemaById(7);
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), Status::Code::kIoError);
  const std::string text = schema.status().ToUserString();
  EXPECT_NE(text.find("the schema registry does not answer"), std::string::npos) << text;
  EXPECT_NE(text.find(SchemaRegistryClient::Redacted(first)), std::string::npos) << text;
  EXPECT_NE(text.find(second), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter3"), std::string::npos) << text;
  EXPECT_EQ(client.requests(), 2);
  // Being down is not an answer about the id: the next look-up asks again.
  EXPECT_FALSE(client.SchemaById(7).ok());
  EXPECT_EQ(client.requests(), 4);
  Status check = client.Check();
  EXPECT_EQ(check.code(), Status::Code::kIoError);
  EXPECT_EQ(check.ToUserString().find("hunter"), std::string::npos) << check.ToUserString();
}

}  // namespace
}  // namespace sfb
