// Collector storage path and end-to-end HTTP ingestion vs the raw RocksDB ceiling (the same
// bytes in a WriteBatch, WAL on, no fsync), and "latest 50 events of a user" on a large log.
//   RECD_BENCH_TINY=1        tiny sizes (CI: proves it runs)
//   RECD_BENCH_EVENTS=N      events preloaded for the history read (default 10,000,000)
//   RECD_BENCH_HTTP_SECONDS  length of each end-to-end run (default 5)
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "bench/harness/admin_client.h"
#include "bench/harness/load_engine.h"
#include "bench/harness/request.h"
#include "ingest/collector.h"
#include "storage/db.h"
#include "tests/support/daemon_process.h"
#include "util/log.h"
#include "util/machine.h"

namespace recd::ingest {
namespace {

bool Tiny() { return std::getenv("RECD_BENCH_TINY") != nullptr; }

int64_t PreloadEvents() {
  if (Tiny()) return 20'000;
  const char* n = std::getenv("RECD_BENCH_EVENTS");
  return n != nullptr ? std::atoll(n) : 10'000'000;
}

constexpr int kBatch = 100;
constexpr int kUsers = 100'000;

double HttpSeconds() {
  if (Tiny()) return 0.3;
  const char* s = std::getenv("RECD_BENCH_HTTP_SECONDS");
  return s != nullptr ? std::atof(s) : 5.0;
}

// The raw ceiling of the latest BM_RawRocksDbBatch100 run in this process (events/s), for the
// end-to-end ratio; 0 when it did not run (filtered out).
double& CeilingEventsPerS() {
  static double ceiling = 0;
  return ceiling;
}

std::vector<Event> MakeBatch(std::mt19937_64& rng, int64_t now) {
  std::vector<Event> events(kBatch);
  for (auto& e : events) {
    e.user = "user-" + std::to_string(rng() % kUsers);
    e.item = "sku-" + std::to_string(rng() % 50'000);
    e.type = "view";
    e.ts = now;
  }
  return events;
}

struct Env {
  std::string dir = recd::testing::MakeTempDir("recd-bench-ingest-");
  util::SystemClock clock;
  Retention retention{&clock};
  std::unique_ptr<storage::Db> db;
  std::unique_ptr<Collector> collector;
  Env() {
    db = *storage::Db::Open(dir, {});
    CollectorOptions o;
    o.checkpoint_interval_ms = 0;
    collector = *Collector::Open(db.get(), &clock, &retention, o);
  }
  ~Env() {
    collector.reset();
    db.reset();
    recd::testing::RemoveTree(dir);
  }
};

// The ceiling: the collector's exact keys and values, written with nothing else around them.
void BM_RawRocksDbBatch100(benchmark::State& state) {
  Env env;
  std::mt19937_64 rng(1);
  uint64_t seq = 0;
  int64_t bytes = 0;
  std::chrono::steady_clock::duration timed{};
  for (auto _ : state) {
    state.PauseTiming();
    auto events = MakeBatch(rng, env.clock.NowMs());
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    storage::Batch b = env.db->NewBatch();
    const int64_t received = env.clock.NowMs();
    for (auto& e : events) {
      e.received = received;
      e.seq = seq++;
      b.Put(storage::Cf::kEvents, LogKey(1, e.received, e.seq), EncodeLogValue(e));
      b.Put(storage::Cf::kHistory, HistoryKey(1, e.user, e.ts, e.seq), EncodeHistoryValue(e));
    }
    bytes += static_cast<int64_t>(b.ByteSize());
    if (!env.db->Write(b, false).ok()) state.SkipWithError("write failed");
    timed += std::chrono::steady_clock::now() - t0;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(bytes);
  const double seconds = std::chrono::duration<double>(timed).count();
  if (seconds > 0) {
    CeilingEventsPerS() = static_cast<double>(state.iterations() * kBatch) / seconds;
  }
}

// ---- End to end: the real `recd serve` over HTTP -------------------------------------------

// One POST /v1/events of kBatch events with the ids of MakeBatch (so the stored bytes match the
// ceiling's); `ts` is left to the server, as the ceiling uses the receive time too.
std::string EventsRequest(std::mt19937_64& rng, const bench::Target& target,
                          const std::string& key) {
  std::string body = "{\"events\":[";
  for (const Event& e : MakeBatch(rng, 0)) {
    if (body.back() != '[') body.push_back(',');
    body += "{\"user\":\"" + e.user + "\",\"item\":\"" + e.item + "\",\"type\":\"" + e.type + "\"}";
  }
  body += "]}";
  return bench::SerializeRequest("POST", "/v1/events", target, key, "application/json", body);
}

// Cycles over requests serialized in advance, so the client spends its CPU on I/O only.
class CyclingSource final : public bench::RequestSource {
 public:
  explicit CyclingSource(std::shared_ptr<const std::vector<std::string>> wires)
      : wires_(std::move(wires)) {}
  bool Next(bench::OutgoingRequest* out) override {
    out->endpoint = bench::Endpoint::kEvents;
    out->events = kBatch;
    out->wire = (*wires_)[next_++ % wires_->size()];
    return true;
  }

 private:
  std::shared_ptr<const std::vector<std::string>> wires_;
  size_t next_ = 0;
};

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A fresh daemon (default config, temporary data dir) and one standard-tier tenant with its
// event quota raised, so that the rate limit is not what is measured; N keep-alive connections
// send closed-loop 100-event batches for RECD_BENCH_HTTP_SECONDS from one client thread.
void BM_HttpIngest100(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  for (auto _ : state) {
    recd::testing::DaemonProcess daemon;
    if (!daemon.Start()) {
      state.SkipWithError(("recd did not start: " + daemon.Log()).c_str());
      return;
    }
    bench::Target target{"127.0.0.1", daemon.port(), "",
                         "127.0.0.1:" + std::to_string(daemon.port())};
    bench::AdminClient admin(target, "127.0.0.1", recd::testing::DaemonProcess::kAdminToken,
                             10'000'000'000);
    auto keys = admin.CreateTenant("ingest-bench", "ingest_bench", "standard");
    if (!keys.ok() || !admin.SetQuotas("ingest-bench", {{"events_per_s", 1e9}}).ok()) {
      state.SkipWithError("onboarding failed");
      return;
    }
    std::mt19937_64 rng(1);
    auto wires = std::make_shared<std::vector<std::string>>();
    for (int i = 0; i < 512; ++i) wires->push_back(EventsRequest(rng, target, keys->ingest));

    std::vector<bench::StreamPlan> plans(1);
    plans[0].source = std::make_unique<CyclingSource>(wires);
    plans[0].closed_loop = true;
    plans[0].connections = connections;
    bench::EngineConfig config;
    config.address = "127.0.0.1";
    config.port = daemon.port();
    config.duration_ns = static_cast<int64_t>(HttpSeconds() * 1e9);
    config.interval_ns = config.duration_ns;
    std::atomic<bool> stop{false};
    const double client0 = SelfCpuSeconds();
    const double server0 = ProcessCpuSeconds(daemon.pid());
    bench::EngineResult r =
        bench::RunLoad(config, std::move(plans), bench::SteadyNowNs() + 100'000'000, &stop);
    const double client_cpu = SelfCpuSeconds() - client0;
    const double server_cpu = ProcessCpuSeconds(daemon.pid()) - server0;

    const bench::EndpointStats& es =
        r.streams[0].endpoints[static_cast<int>(bench::Endpoint::kEvents)];
    if (es.failed() > 0 || es.ok() == 0) {
      state.SkipWithError("some batches were not answered 2xx");
      return;
    }
    const double wall = static_cast<double>(r.elapsed_ns) / 1e9;
    state.SetIterationTime(wall);
    state.SetItemsProcessed(es.events_sent);
    const double eps = static_cast<double>(es.events_sent) / wall;
    state.counters["p50_ms"] = static_cast<double>(es.latency_us.ValueAtPercentile(50)) / 1e3;
    state.counters["p99_ms"] = static_cast<double>(es.latency_us.ValueAtPercentile(99)) / 1e3;
    state.counters["server_cores"] = server_cpu / wall;
    state.counters["client_cores"] = client_cpu / wall;
    state.counters["client_cpu_share"] = client_cpu / std::max(1e-9, client_cpu + server_cpu);
    if (CeilingEventsPerS() > 0) {
      state.counters["ceiling_ev_s"] = CeilingEventsPerS();
      state.counters["vs_ceiling"] = eps / CeilingEventsPerS();
    }
    admin.DeleteTenant("ingest-bench").IgnoreError();
    daemon.Stop();
  }
}

void BM_CollectorAppend100(benchmark::State& state) {
  Env env;
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    state.PauseTiming();
    auto events = MakeBatch(rng, env.clock.NowMs());
    state.ResumeTiming();
    if (!env.collector->Append(1, &events, false, nullptr).ok())
      state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_UserEventsLatest50(benchmark::State& state) {
  // Loaded once for all repetitions; destroyed (and its directory removed) at exit.
  static Env loaded;
  static Env* env = [] {
    std::mt19937_64 rng(7);
    const int64_t n = PreloadEvents();
    for (int64_t i = 0; i < n; i += kBatch) {
      auto events = MakeBatch(rng, 1'700'000'000'000 + i);
      RECD_CHECK(loaded.collector->Append(1, &events, false, nullptr).ok());
    }
    RECD_CHECK(loaded.db->Flush().ok());
    return &loaded;
  }();
  std::mt19937_64 rng(11);
  size_t found = 0;
  for (auto _ : state) {
    auto events = env->collector->UserEvents(1, "user-" + std::to_string(rng() % kUsers), 50);
    found += events->size();
    benchmark::DoNotOptimize(events);
  }
  state.counters["events_per_read"] =
      benchmark::Counter(static_cast<double>(found) / static_cast<double>(state.iterations()));
  state.counters["log_events"] = static_cast<double>(PreloadEvents());
}

BENCHMARK(BM_RawRocksDbBatch100)->UseRealTime();
// Right after the ceiling, so that the ratio compares runs minutes apart at most.
BENCHMARK(BM_HttpIngest100)
    ->ArgName("connections")
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Iterations(1)
    ->UseManualTime();
BENCHMARK(BM_CollectorAppend100)->UseRealTime();
BENCHMARK(BM_UserEventsLatest50)->UseRealTime();

void PrintSetup() {
  const std::string model = util::CpuModelName();
  std::printf("ingest_bench: cpu=\"%s\" cores=%u build=%s batch=%d users=%d preload=%lld\n",
              model.c_str(), std::thread::hardware_concurrency(), RECD_BUILD_TYPE, kBatch, kUsers,
              static_cast<long long>(PreloadEvents()));
}

}  // namespace
}  // namespace recd::ingest

int main(int argc, char** argv) {
  recd::ingest::PrintSetup();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
