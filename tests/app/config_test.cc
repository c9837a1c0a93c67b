#include "app/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "app/daemon.h"
#include "tests/support/daemon_process.h"

namespace recd::app {
namespace {

// `text` is refused, with `needle` in the message.
void ExpectConfigError(const char* text, const char* needle) {
  auto c = ParseConfig(text, "t.toml");
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_NE(std::string(c.status().message()).find(needle), std::string::npos)
      << c.status().message();
}

TEST(Config, EmptyConfigIsTheEmbeddedDefault) {
  auto c = ParseConfig("", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->tiers.Get(Tier::kPremium).quotas.recommendations_per_s, 1000);
  EXPECT_EQ(c->f32_prefilter_min_rows, 10'000);
  EXPECT_EQ(c->max_future_skew_s, 300);
}

TEST(Config, MaxFutureSkewTakesTheSpecNameAndItsOldOne) {
  auto spec_name = ParseConfig("max_future_skew = 60", "t.toml");
  ASSERT_TRUE(spec_name.ok()) << spec_name.status();
  EXPECT_EQ(spec_name->max_future_skew_s, 60);
  auto old_name = ParseConfig("max_future_skew_s = 0", "t.toml");
  ASSERT_TRUE(old_name.ok()) << old_name.status();
  EXPECT_EQ(old_name->max_future_skew_s, 0);
  ExpectConfigError("max_future_skew = 60\nmax_future_skew_s = 60", "set only one");
}

TEST(Config, TiersAndLimitsAreRead) {
  auto c = ParseConfig(R"(
listen = "0.0.0.0:9000"
io_nice = 7
priority_io_threads = 0
f32_prefilter_min_rows = 0
[tiers.standard]
threads = 3
events_per_s = 10
durability = "power"
[popularity]
half_life_s = 3600
event_weights = { purchase = 10 }
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_port, 9000);
  EXPECT_EQ(c->io_nice, 7);
  EXPECT_EQ(c->priority_io_threads, 0);
  EXPECT_EQ(c->f32_prefilter_min_rows, 0);
  EXPECT_EQ(c->tiers.Get(Tier::kStandard).threads, 3);
  EXPECT_EQ(c->tiers.Get(Tier::kStandard).quotas.events_per_s, 10);
  EXPECT_EQ(c->tiers.Get(Tier::kStandard).quotas.durability, sched::Durability::kPower);
  EXPECT_EQ(c->popularity.event_weights.at("purchase"), 10);
  EXPECT_EQ(c->popularity.event_weights.at("view"), 1);
}

TEST(Config, CpuListsAreReadAndCheckedAgainstTheCpusThisProcessMayUse) {
  // A CPU this process may use (not necessarily 0 under a cpuset).
  const int cpu = util::ProcessCpus().front();
  const std::string list = "[" + std::to_string(cpu) + "]";
  auto c = ParseConfig("cpus = " + list + "\nio_cpus = " + list + "\npriority_io_cpus = " + list +
                           "\n[tiers.premium]\ncpus = " + list + "\n",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cpus, util::CpuList{cpu});
  EXPECT_EQ(c->io_cpus, util::CpuList{cpu});
  EXPECT_EQ(c->priority_io_cpus, util::CpuList{cpu});
  EXPECT_EQ(c->tiers.Get(Tier::kPremium).cpus, util::CpuList{cpu});
  EXPECT_TRUE(c->tiers.Get(Tier::kStandard).cpus.empty()) << "absent: any CPU";
  ExpectConfigError("cpus = []", "\"cpus\": must be a non-empty list");
  ExpectConfigError("io_cpus = 1", "\"io_cpus\": must be a non-empty list");
  ExpectConfigError("io_cpus = [\"0\"]", "\"io_cpus\": must list CPU numbers");
  ExpectConfigError("[tiers.premium]\ncpus = [1023]",
                    "\"tiers.premium.cpus\": CPU 1023 is not one");
}

// The shipped files parse: configs/recd.toml spells out the embedded default, and the 2-CPU
// example of dedicated CPUs is valid where CPUs 0 and 1 exist.
TEST(Config, ShippedConfigFilesParse) {
  auto shipped = LoadConfigFile(RECD_SOURCE_DIR "/configs/recd.toml");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  auto defaults = ParseConfig("", "empty.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(shipped->max_future_skew_s, defaults->max_future_skew_s);
  EXPECT_EQ(shipped->f32_prefilter_min_rows, defaults->f32_prefilter_min_rows);
  EXPECT_TRUE(shipped->cpus.empty());
  for (int t = 0; t < kNumTiers; ++t) {
    const auto tier = static_cast<Tier>(t);
    EXPECT_EQ(shipped->tiers.Get(tier).threads, defaults->tiers.Get(tier).threads);
    EXPECT_EQ(shipped->tiers.Get(tier).nice, defaults->tiers.Get(tier).nice);
    EXPECT_EQ(shipped->tiers.Get(tier).queue, defaults->tiers.Get(tier).queue);
  }
  auto dedicated = LoadConfigFile(RECD_SOURCE_DIR "/configs/recd-dedicated-cpus-2.toml");
  if (util::CheckCpus({0, 1}).ok()) {
    ASSERT_TRUE(dedicated.ok()) << dedicated.status();
    EXPECT_EQ(dedicated->tiers.Get(Tier::kPremium).cpus, util::CpuList{1});
  }
}

TEST(Config, ErrorsNameTheKey) {
  ExpectConfigError("lisen = \"x\"", "\"lisen\": unknown key");
  ExpectConfigError("io_threads = \"two\"", "\"io_threads\": must be an integer");
  ExpectConfigError("io_threads = 0", "\"io_threads\": must be between");
  ExpectConfigError("io_nice = 20", "\"io_nice\": must be between");
  ExpectConfigError("io_nice = -1", "\"io_nice\": must be between");
  ExpectConfigError("priority_io_threads = 65", "\"priority_io_threads\": must be between");
  ExpectConfigError("f32_prefilter_min_rows = -1", "\"f32_prefilter_min_rows\": must be between");
  ExpectConfigError("[tiers.standard]\nthreads = -1", "\"tiers.standard.threads\"");
  ExpectConfigError("[tiers.gold]\nthreads = 1", "\"tiers.gold\": unknown key");
  ExpectConfigError("[tiers.premium]\ndurability = \"disk\"", "tiers.premium.durability");
  ExpectConfigError("listen = \"nohost\"", "\"listen\"");
  ExpectConfigError("[popularity]\nevent_weights = { view = -1 }", "popularity.event_weights.view");
  ExpectConfigError("x = [", "t.toml:1");
}

TEST(AdminToken, GeneratedOnceWithMode0600) {
  std::string dir = recd::testing::MakeTempDir("recd-tok-");
  Config c;
  c.data_dir = dir;
  ::unsetenv("RECD_ADMIN_TOKEN");
  bool generated = false;
  auto t1 = ResolveAdminToken(c, &generated);
  ASSERT_TRUE(t1.ok()) << t1.status();
  EXPECT_TRUE(generated);
  struct stat st{};
  ASSERT_EQ(::stat((dir + "/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto t2 = ResolveAdminToken(c, &generated);
  EXPECT_FALSE(generated);
  EXPECT_EQ(*t1, *t2);
  c.admin_token = "from-config-0123456789";
  EXPECT_EQ(*ResolveAdminToken(c, &generated), "from-config-0123456789");
  recd::testing::RemoveTree(dir);
}

}  // namespace
}  // namespace recd::app
