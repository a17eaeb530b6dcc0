#include "connectors/postgres/pg_endpoint.h"

#include <gtest/gtest.h>

namespace sfb {
namespace {

TEST(PgEndpoint, FieldsOverrideTheDsn) {
  auto e = PgEndpoint::Make("postgresql://reader:s3cret@db.example.com:6543/shop?sslmode=require",
                            {{"dbname", "other"}, {"sslrootcert", "/etc/ca.pem"}});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->Label(), "reader@db.example.com:6543/other");
  EXPECT_EQ(e->Describe().dump(),
            R"({"server":"db.example.com:6543","database":"other","user":"reader","sslmode":"require"})");
  EXPECT_NE(e->conninfo().find("password='s3cret'"), std::string::npos);
  EXPECT_NE(e->conninfo().find("sslrootcert='/etc/ca.pem'"), std::string::npos);
  EXPECT_NE(e->conninfo().find("connect_timeout='10'"), std::string::npos);
}

TEST(PgEndpoint, NeverShowsThePassword) {
  auto e = PgEndpoint::Make("host=h user=u", {{"password", "pa'ss\\word"}});
  ASSERT_TRUE(e.ok());
  EXPECT_NE(e->conninfo().find("password='pa\\'ss\\\\word'"), std::string::npos);
  EXPECT_EQ(e->Describe().dump().find("pa'ss"), std::string::npos);
  EXPECT_EQ(e->Label().find("pa'ss"), std::string::npos);
}

TEST(PgEndpoint, AShortPasswordLeavesOtherTextIntact) {
  // The password's text occurs in the database, host and user names: they are shown as they are.
  auto e = PgEndpoint::Make("postgresql://xavier:x@box.example.com/bars14x", {});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Label(), "xavier@box.example.com/bars14x");
  EXPECT_EQ(e->Describe().dump(), R"({"server":"box.example.com","database":"bars14x","user":"xavier"})");
  EXPECT_NE(e->conninfo().find("password='x'"), std::string::npos);
}

TEST(PgEndpoint, BadDsnsSayWhatWithoutEchoingThem) {
  auto e = PgEndpoint::Make("host=h pasword=secret1", {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("invalid connection option"), std::string::npos);
  EXPECT_EQ(e.status().message().find("secret1"), std::string::npos);
  e = PgEndpoint::Make("host=h password='unclosed secret2", {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToUserString().find("secret2"), std::string::npos);
}

}  // namespace
}  // namespace sfb
