// Many small tenants must be cheap (issue 5): the start-up time and resident memory of the real
// `recd serve` on a data dir holding N standard tenants, against the same with none.
//   RECD_BENCH_TINY=1      100 tenants instead of 10,000 (CI: proves it runs)
//   RECD_BENCH_TENANTS=N   the tenant count of the loaded data dir
// Goal on the development machine: 10,000 tenants add under 100 MB and start in under 2 s.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "control/tenant_registry.h"
#include "storage/db.h"
#include "tests/support/daemon_process.h"
#include "util/clock.h"
#include "util/log.h"

namespace recd {
namespace {

int64_t TenantCount() {
  if (std::getenv("RECD_BENCH_TINY") != nullptr) return 100;
  const char* n = std::getenv("RECD_BENCH_TENANTS");
  return n != nullptr ? std::atoll(n) : 10'000;
}

// A data dir with `n` standard tenants onboarded through the registry (the same synced writes
// as the admin API), made once per count and reused by every iteration.
const std::string& DataDirWith(int64_t n) {
  struct Dirs : std::map<int64_t, std::string> {
    ~Dirs() {
      for (const auto& [count, path] : *this) testing::RemoveTree(path);
    }
  };
  static Dirs dirs;
  auto it = dirs.find(n);
  if (it != dirs.end()) return it->second;
  const std::string dir = testing::MakeTempDir("recd-tenants-bench");
  {
    auto db = storage::Db::Open(dir + "/db", {});
    RECD_CHECK(db.ok()) << db.status();
    auto registry = control::TenantRegistry::Open(db->get(), &util::SystemClock::Get());
    RECD_CHECK(registry.ok()) << registry.status();
    for (int64_t i = 0; i < n; ++i) {
      auto t = (*registry)->Onboard("t" + std::to_string(i), "", Tier::kStandard);
      RECD_CHECK(t.ok()) << t.status();
    }
  }
  return dirs.emplace(n, dir).first->second;
}

int64_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  int64_t value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

double g_baseline_rss_mb = 0;
double g_baseline_start_ms = 0;

// Wall time from fork to the "listening" line (tenant registry loaded, pools and models
// ready), and the process's resident memory then.
void BM_Startup(benchmark::State& state) {
  const int64_t n = state.range(0) == 0 ? 0 : TenantCount();
  const std::string& dir = DataDirWith(n);
  double start_ms = 0, rss_mb = 0;
  for (auto _ : state) {
    testing::DaemonProcess daemon;
    const auto t0 = std::chrono::steady_clock::now();
    if (!daemon.Start({"--data-dir", dir})) {
      state.SkipWithError("recd did not start");
      return;
    }
    start_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(start_ms / 1000.0);
    rss_mb = RssKiB(daemon.pid()) / 1024.0;
    daemon.Stop();
  }
  state.counters["tenants"] = static_cast<double>(n);
  state.counters["start_ms"] = start_ms;
  state.counters["rss_MB"] = rss_mb;
  if (n == 0) {
    g_baseline_rss_mb = rss_mb;
    g_baseline_start_ms = start_ms;
  } else {
    state.counters["rss_added_MB"] = rss_mb - g_baseline_rss_mb;
    state.counters["start_added_ms"] = start_ms - g_baseline_start_ms;
  }
}
// Arg 0: the empty baseline; arg 1: TenantCount() tenants. Baseline first.
BENCHMARK(BM_Startup)->Arg(0)->Arg(1)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recd

BENCHMARK_MAIN();
