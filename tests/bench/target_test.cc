#include "bench/harness/target.h"

#include "bench/harness/units.h"
#include "gtest/gtest.h"

namespace recd::bench {
namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(Target, ParsesHostPortAndBuildsTheHostHeader) {
  absl::StatusOr<Target> t = ParseTarget("http://127.0.0.1:8080");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->base_path, "");
  EXPECT_EQ(t->host_header, "127.0.0.1:8080");
}

TEST(Target, DefaultsToPort80AndKeepsABasePathWithoutTrailingSlash) {
  absl::StatusOr<Target> t = ParseTarget("http://localhost/recd/");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->base_path, "/recd");
}

TEST(Target, AcceptsBracketedIpv6) {
  absl::StatusOr<Target> t = ParseTarget("http://[::1]:9000");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->host_header, "[::1]:9000");
}

TEST(Target, RefusesHttpsWithAReason) {
  absl::StatusOr<Target> t = ParseTarget("https://127.0.0.1:8443");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(Message(t.status()).find("https is not supported"), std::string::npos);
}

TEST(Target, RefusesMalformedUrlsNamingThePart) {
  EXPECT_NE(Message(ParseTarget("127.0.0.1:8080").status()).find("http://"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://h:0").status()).find("port"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://h:65536").status()).find("port"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://h:80x").status()).find("port"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://h:").status()).find("empty port"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://u:p@h:1").status()).find("user info"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://h/x?y=1").status()).find("query"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://:80").status()).find("bad host"), std::string::npos);
  EXPECT_NE(Message(ParseTarget("http://[::1:80").status()).find("unclosed"), std::string::npos);
}

TEST(Target, KnowsLoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

TEST(Duration, ParsesUnitsFractionsAndSums) {
  EXPECT_EQ(*ParseDurationNs("30s"), 30'000'000'000);
  EXPECT_EQ(*ParseDurationNs("250ms"), 250'000'000);
  EXPECT_EQ(*ParseDurationNs("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseDurationNs("1m30s"), 90'000'000'000);
  EXPECT_EQ(*ParseDurationNs("2h"), 7'200'000'000'000);
  EXPECT_EQ(*ParseDurationNs("0s"), 0);
}

TEST(Duration, RefusesBadTextSayingWhy) {
  EXPECT_NE(Message(ParseDurationNs("30x").status()).find("unknown unit 'x'"), std::string::npos);
  EXPECT_NE(Message(ParseDurationNs("30").status()).find("missing unit"), std::string::npos);
  EXPECT_NE(Message(ParseDurationNs("").status()).find("empty"), std::string::npos);
  EXPECT_NE(Message(ParseDurationNs("-5s").status()).find("negative"), std::string::npos);
  EXPECT_FALSE(ParseDurationNs("1..5s").ok());
  EXPECT_FALSE(ParseDurationNs("s").ok());
}

TEST(Duration, FormatsShortHumanForms) {
  EXPECT_EQ(FormatDurationNs(30'000'000'000), "30s");
  EXPECT_EQ(FormatDurationNs(90'000'000'000), "90s");
  EXPECT_EQ(FormatDurationNs(120'000'000'000), "2m");
  EXPECT_EQ(FormatDurationNs(250'000'000), "250ms");
  EXPECT_EQ(FormatDurationNs(1'500'000'000), "1.5s");
  EXPECT_EQ(FormatLatencyUs(850), "850us");
  EXPECT_EQ(FormatLatencyUs(1250), "1.25ms");
  EXPECT_EQ(FormatLatencyUs(1'520'000), "1.52s");
}

}  // namespace
}  // namespace recd::bench
