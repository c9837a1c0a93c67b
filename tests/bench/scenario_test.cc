#include "bench/harness/scenario.h"

#include <string>

#include "bench/harness/cli.h"
#include "gtest/gtest.h"

namespace recd::bench {
namespace {

constexpr char kGood[] = R"toml(
[scenario]
name = "mixed"
description = "two tenants"
duration = "45s"
pause = "500ms"
rate = 250
arrival = "constant"
seed = 9
connections = 12
timeout = "2s"

[[tenant]]
name = "gold"
tier = "premium"
items = 1234
dim = 16
kind = "ials"
users = 999
user_zipf = 1.2
item_zipf = 0
seed_events = 5000
quotas = { recommendations_per_s = 5000, max_k = 50 }

[[tenant]]
name = "tin"
model = false

[[phase]]
name = "probe"
mode = "closed"
duration = "5s"
[[phase.load]]
tenant = "tin"
events = 1
batch = 50

[[phase]]
name = "main"
[[phase.load]]
tenant = "gold"
share = 0.5
recommend = 3
similar = 1
k = 20
connections = 4
isolate = true
arrival = "poisson"
event_types = { view = 2, purchase = 1 }
[[phase.load]]
tenant = "tin"
rate_of = "probe"
rate_factor = 5
events = 1
nice = 15
cpus = [0, 2]
[[phase.action]]
kind = "swap_model"
tenant = "gold"
every = "3s"

[[phase]]
name = "knee"
mode = "sweep"
[phase.sweep]
start_rate = 50
factor = 2
max_rate = 800
step_duration = "2s"
p99_target = "20ms"
[[phase.load]]
tenant = "gold"
share = 1
recommend = 1

[report]
tenant = "gold"
baseline = "probe"
test = "main"
)toml";

// A minimal valid file with one line replaced.
std::string Variant(const std::string& from, const std::string& to) {
  std::string text = R"toml([scenario]
duration = "10s"

[[tenant]]
name = "a"
tier = "standard"

[[phase]]
name = "p"
[[phase.load]]
tenant = "a"
rate = 100
recommend = 1
)toml";
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenario(text, "bad.toml");
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(ScenarioParser, GoodFileParsesToExpectedValues) {
  absl::StatusOr<Scenario> s = ParseScenario(kGood, "good.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "mixed");
  EXPECT_EQ(s->description, "two tenants");
  EXPECT_EQ(s->duration_ns, 45'000'000'000);
  EXPECT_EQ(s->pause_ns, 500'000'000);
  EXPECT_EQ(s->rate, 250);
  EXPECT_EQ(s->arrival, ArrivalKind::kConstant);
  EXPECT_EQ(s->seed, 9u);
  EXPECT_EQ(s->connections, 12);
  EXPECT_EQ(s->timeout_ns, 2'000'000'000);
  ASSERT_EQ(s->tenants.size(), 2u);
  const TenantSpec& gold = s->tenants[0];
  EXPECT_EQ(gold.tier, "premium");
  EXPECT_EQ(gold.items, 1234);
  EXPECT_EQ(gold.dim, 16);
  EXPECT_EQ(gold.kind, "ials");
  EXPECT_EQ(gold.users, 999);
  EXPECT_DOUBLE_EQ(gold.user_zipf, 1.2);
  EXPECT_DOUBLE_EQ(gold.item_zipf, 0);
  EXPECT_EQ(gold.seed_events, 5000);
  EXPECT_EQ(gold.quotas.at("recommendations_per_s"), 5000);
  EXPECT_EQ(gold.quotas.at("max_k"), 50);
  EXPECT_FALSE(s->tenants[1].model);
  EXPECT_EQ(s->tenants[1].tier, "standard");  // the default
  ASSERT_EQ(s->phases.size(), 3u);
  EXPECT_EQ(s->phases[0].mode, PhaseMode::kClosed);
  EXPECT_EQ(s->phases[0].duration_ns, 5'000'000'000);
  EXPECT_EQ(s->phases[0].loads[0].batch, 50);
  const PhaseSpec& main = s->phases[1];
  EXPECT_EQ(main.mode, PhaseMode::kOpen);
  EXPECT_EQ(main.duration_ns, 0);  // the scenario's
  ASSERT_EQ(main.loads.size(), 2u);
  EXPECT_EQ(*main.loads[0].share, 0.5);
  EXPECT_EQ(main.loads[0].recommend, 3);
  EXPECT_EQ(main.loads[0].similar, 1);
  EXPECT_EQ(main.loads[0].k, 20);
  EXPECT_EQ(main.loads[0].connections, 4);
  EXPECT_TRUE(main.loads[0].isolate);
  EXPECT_EQ(*main.loads[0].arrival, ArrivalKind::kPoisson);
  EXPECT_EQ(main.loads[0].event_types.at("view"), 2);
  EXPECT_EQ(main.loads[1].rate_of, "probe");
  EXPECT_EQ(main.loads[1].rate_factor, 5);
  EXPECT_EQ(main.loads[0].nice, 0);
  EXPECT_EQ(main.loads[1].nice, 15);
  EXPECT_TRUE(main.loads[0].cpus.empty());
  EXPECT_EQ(main.loads[1].cpus, (std::vector<int>{0, 2}));
  ASSERT_EQ(main.actions.size(), 1u);
  EXPECT_EQ(main.actions[0].every_ns, 3'000'000'000);
  const SweepSpec& sweep = *s->phases[2].sweep;
  EXPECT_EQ(sweep.start_rate, 50);
  EXPECT_EQ(sweep.factor, 2);
  EXPECT_EQ(sweep.max_rate, 800);
  EXPECT_EQ(sweep.step_duration_ns, 2'000'000'000);
  EXPECT_EQ(sweep.p99_target_us, 20'000);
  ASSERT_TRUE(s->compare.has_value());
  EXPECT_EQ(s->compare->test, "main");
}

TEST(ScenarioParser, MinimalFileGetsDefaultsAndItsNameFromTheFile) {
  absl::StatusOr<Scenario> s = ParseScenario(Variant("", ""), "dir/my-run.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "my-run");
  EXPECT_EQ(s->arrival, ArrivalKind::kPoisson);
  EXPECT_EQ(s->tenants[0].items, 10'000);
  EXPECT_EQ(s->phases[0].loads[0].k, 10);
}

TEST(ScenarioParser, UnknownKeyIsNamedWithItsPathLineAndASuggestion) {
  const std::string e = ErrorOf(Variant("tier = \"standard\"", "tierr = \"standard\""));
  EXPECT_NE(e.find("bad.toml:6:"), std::string::npos) << e;
  EXPECT_NE(e.find("key 'tenant[0].tierr'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'tier'"), std::string::npos) << e;
}

TEST(ScenarioParser, WrongTypeIsNamedWithExpectedAndActualType) {
  const std::string e = ErrorOf(Variant("rate = 100", "rate = \"fast\""));
  EXPECT_NE(e.find("key 'phase[0].load[0].rate'"), std::string::npos) << e;
  EXPECT_NE(e.find("wrong type: expected a number, got a string"), std::string::npos) << e;
}

TEST(ScenarioParser, NegativeRateIsRefusedNamingTheKey) {
  const std::string e = ErrorOf(Variant("rate = 100", "rate = -5"));
  EXPECT_NE(e.find("key 'phase[0].load[0].rate'"), std::string::npos) << e;
  EXPECT_NE(e.find("must be > 0, got -5"), std::string::npos) << e;
}

TEST(ScenarioParser, LoadNamingAMissingTenantIsRefused) {
  const std::string e = ErrorOf(Variant("tenant = \"a\"", "tenant = \"ghost\""));
  EXPECT_NE(e.find("key 'phase[0].load[0].tenant'"), std::string::npos) << e;
  EXPECT_NE(e.find("no [[tenant]] named \"ghost\" (tenants: a)"), std::string::npos) << e;
}

TEST(ScenarioParser, FileWithoutTenantsIsRefused) {
  const std::string e = ErrorOf(Variant("[[tenant]]\nname = \"a\"\ntier = \"standard\"\n", ""));
  EXPECT_NE(e.find("key 'tenant': missing (required)"), std::string::npos) << e;
}

TEST(ScenarioParser, BadDurationIsRefusedNamingTheKeyAndUnit) {
  const std::string e = ErrorOf(Variant("duration = \"10s\"", "duration = \"30x\""));
  EXPECT_NE(e.find("key 'scenario.duration'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown unit 'x' in \"30x\""), std::string::npos) << e;
  const std::string number = ErrorOf(Variant("duration = \"10s\"", "duration = 30"));
  EXPECT_NE(number.find("expected a duration string like \"30s\""), std::string::npos) << number;
}

TEST(ScenarioParser, TomlSyntaxErrorsCarryLineAndColumn) {
  const std::string e = ErrorOf("[scenario\nname = 1\n");
  EXPECT_NE(e.find("bad.toml:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("TOML syntax"), std::string::npos) << e;
}

TEST(ScenarioParser, OpenLoadWithoutARateIsRefused) {
  const std::string e = ErrorOf(Variant("rate = 100\n", ""));
  EXPECT_NE(e.find("an open-loop load needs rate, share or rate_of"), std::string::npos) << e;
}

TEST(ScenarioParser, TwoRateSpecsAreRefused) {
  const std::string e = ErrorOf(Variant("rate = 100", "rate = 100\nshare = 0.5"));
  EXPECT_NE(e.find("only one of rate, share and rate_of"), std::string::npos) << e;
}

TEST(ScenarioParser, RateOfMustNameAnEarlierPhase) {
  const std::string e = ErrorOf(Variant("rate = 100", "rate_of = \"later\""));
  EXPECT_NE(e.find("key 'phase[0].load[0].rate_of'"), std::string::npos) << e;
}

TEST(ScenarioParser, LoadWithoutAnyRequestMixIsRefused) {
  const std::string e = ErrorOf(Variant("recommend = 1", "recommend = 0"));
  EXPECT_NE(e.find("at least one of recommend, events, similar, user_events"), std::string::npos)
      << e;
}

TEST(ScenarioParser, OutOfRangeIntegersNameTheBounds) {
  const std::string e = ErrorOf(Variant("recommend = 1", "recommend = 1\nbatch = 5000"));
  EXPECT_NE(e.find("key 'phase[0].load[0].batch': must be in [1, 1000], got 5000"),
            std::string::npos)
      << e;
}

TEST(ScenarioParser, BadTenantNameAndUnknownChoicesAreRefused) {
  EXPECT_NE(ErrorOf(Variant("name = \"a\"", "name = \"Bad_Name\"")).find("tenant[0].name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Variant("recommend = 1", "recommend = 1\narrival = \"burst\""))
                .find("unknown arrival process \"burst\""),
            std::string::npos);
}

TEST(ScenarioParser, CpusMustBeANonEmptyListOfCpuNumbers) {
  for (const char* bad : {"cpus = []", "cpus = 1", "cpus = [-1]", "cpus = [\"0\"]"}) {
    const std::string e = ErrorOf(Variant("recommend = 1", std::string("recommend = 1\n") + bad));
    EXPECT_NE(e.find("cpus"), std::string::npos) << bad << ": " << e;
  }
}

TEST(ScenarioParser, SweepNeedsExactlyOneOfStepAndFactor) {
  std::string text = Variant("name = \"p\"", "name = \"p\"\nmode = \"sweep\"");
  text += "[phase.sweep]\nstart_rate = 10\nstep = 5\nfactor = 2\n";
  const std::string e = ErrorOf(text);
  EXPECT_NE(e.find("exactly one of step"), std::string::npos) << e;
}

TEST(ScenarioParser, EveryBuiltInScenarioParses) {
  ASSERT_GE(BuiltinScenarioNames().size(), 6u);
  for (const std::string& name : BuiltinScenarioNames()) {
    absl::StatusOr<Scenario> s = ResolveScenario(name);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status();
    EXPECT_EQ(s->name, name);
    EXPECT_FALSE(s->description.empty()) << name;
  }
  for (const char* required :
       {"steady", "ingest-max", "recommend-max", "noisy-neighbour", "model-swap", "sweep"}) {
    EXPECT_TRUE(BuiltinScenarioText(required).ok()) << required;
  }
}

TEST(ScenarioParser, CollectorSteadyNeedsNoModelAndReadsUserHistories) {
  absl::StatusOr<Scenario> s = ResolveScenario("collector-steady");
  ASSERT_TRUE(s.ok()) << s.status();
  for (const TenantSpec& t : s->tenants) EXPECT_FALSE(t.model) << t.name;
  for (const LoadSpec& l : s->phases.at(0).loads) {
    EXPECT_GT(l.user_events, 0);
    EXPECT_GT(l.events, 0);
    EXPECT_EQ(l.recommend + l.similar, 0);
    EXPECT_EQ(l.history_limit, 50);
  }
}

TEST(ScenarioParser, UserEventsAloneIsAMixAndHistoryLimitIsBounded) {
  absl::StatusOr<Scenario> s =
      ParseScenario(Variant("recommend = 1", "user_events = 1\nhistory_limit = 7"), "x.toml");
  ASSERT_TRUE(s.ok()) << s.status();
  bool found = false;
  for (const PhaseSpec& p : s->phases) {
    for (const LoadSpec& l : p.loads) {
      if (l.user_events == 1) {
        found = true;
        EXPECT_EQ(l.history_limit, 7);
      }
    }
  }
  EXPECT_TRUE(found);
  EXPECT_NE(
      ErrorOf(Variant("recommend = 1", "user_events = 1\nhistory_limit = 0")).find("history_limit"),
      std::string::npos);
}

TEST(ScenarioParser, UnknownScenarioNameListsTheBuiltIns) {
  absl::StatusOr<Scenario> s = ResolveScenario("stedy");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("noisy-neighbour"), std::string::npos);
}

TEST(Overrides, CommandLineRateDurationAndClosedLoopApply) {
  absl::StatusOr<Scenario> s = ParseScenario(kGood, "good.toml");
  ASSERT_TRUE(s.ok());
  CliOptions o;
  o.rate = 999;
  o.duration_ns = 7'000'000'000;
  o.closed_loop = true;
  o.seed = 77;
  ASSERT_TRUE(ApplyOverrides(o, &*s).ok());
  EXPECT_EQ(s->rate, 999);
  EXPECT_EQ(s->duration_ns, 7'000'000'000);
  EXPECT_EQ(s->seed, 77u);
  EXPECT_EQ(s->phases[1].mode, PhaseMode::kClosed);
  EXPECT_EQ(s->phases[2].mode, PhaseMode::kSweep);  // sweeps stay sweeps
}

TEST(Overrides, ReplayWithoutAPathAsksForReplayFile) {
  absl::StatusOr<Scenario> s = ResolveScenario("replay-movielens");
  ASSERT_TRUE(s.ok()) << s.status();
  CliOptions o;
  absl::Status missing = ApplyOverrides(o, &*s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.message()).find("phase[0].load[0].replay.path"), std::string::npos);
  o.replay_file = "/data/ratings.csv";
  ASSERT_TRUE(ApplyOverrides(o, &*s).ok());
  EXPECT_EQ(s->phases[0].loads[0].replay->path, "/data/ratings.csv");
}

TEST(CommandLine, ParsesEveryFlagInBothForms) {
  absl::StatusOr<CliOptions> o = ParseCommandLine({"--target",
                                                   "http://127.0.0.1:9",
                                                   "--admin-token=t",
                                                   "--scenario",
                                                   "steady",
                                                   "--rate",
                                                   "300",
                                                   "--duration=1m",
                                                   "--out",
                                                   "/tmp/o",
                                                   "--connections",
                                                   "8",
                                                   "--closed-loop",
                                                   "--threads",
                                                   "2",
                                                   "--seed",
                                                   "5",
                                                   "--timeout",
                                                   "2s",
                                                   "--keep-tenants"},
                                                  nullptr);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "http://127.0.0.1:9");
  EXPECT_EQ(o->admin_token, "t");
  EXPECT_EQ(*o->rate, 300);
  EXPECT_EQ(*o->duration_ns, 60'000'000'000);
  EXPECT_EQ(o->out_dir, "/tmp/o");
  EXPECT_EQ(*o->connections, 8);
  EXPECT_TRUE(o->closed_loop);
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(*o->seed, 5u);
  EXPECT_EQ(*o->timeout_ns, 2'000'000'000);
  EXPECT_TRUE(o->keep_tenants);
}

TEST(CommandLine, TokenFallsBackToTheEnvironment) {
  absl::StatusOr<CliOptions> o = ParseCommandLine({"--scenario", "steady"}, "from-env");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->admin_token, "from-env");
}

TEST(CommandLine, ErrorsNameTheFlag) {
  auto error = [](std::vector<std::string> args) {
    absl::StatusOr<CliOptions> o = ParseCommandLine(args, "t");
    return o.ok() ? std::string() : std::string(o.status().message());
  };
  EXPECT_NE(error({"--scenario", "s", "--bogus"}).find("unknown flag --bogus"), std::string::npos);
  EXPECT_NE(error({"--scenario", "s", "--rate", "-1"}).find("--rate"), std::string::npos);
  EXPECT_NE(error({"--scenario", "s", "--threads", "3"}).find("--threads"), std::string::npos);
  EXPECT_NE(error({"--scenario", "s", "--duration=30x"}).find("--duration: unknown unit"),
            std::string::npos);
  EXPECT_NE(error({"--scenario"}).find("--scenario needs a value"), std::string::npos);
  EXPECT_NE(error({"--rate", "5"}).find("--scenario is required"), std::string::npos);
  absl::StatusOr<CliOptions> no_token = ParseCommandLine({"--scenario", "s"}, nullptr);
  EXPECT_NE(std::string(no_token.status().message()).find("--admin-token"), std::string::npos);
}

}  // namespace
}  // namespace recd::bench
