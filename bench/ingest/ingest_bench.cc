// Collector storage path vs the raw RocksDB ceiling (the same bytes in a WriteBatch, WAL on,
// no fsync), and "latest 50 events of a user" on a large log.
//   RECD_BENCH_TINY=1        tiny sizes (CI: proves it runs)
//   RECD_BENCH_EVENTS=N      events preloaded for the history read (default 10,000,000)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "ingest/collector.h"
#include "storage/db.h"
#include "tests/support/daemon_process.h"
#include "util/log.h"

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
  for (auto _ : state) {
    state.PauseTiming();
    auto events = MakeBatch(rng, env.clock.NowMs());
    state.ResumeTiming();
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
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(bytes);
}

void BM_CollectorAppend100(benchmark::State& state) {
  Env env;
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    state.PauseTiming();
    auto events = MakeBatch(rng, env.clock.NowMs());
    state.ResumeTiming();
    if (!env.collector->Append(1, &events, false, nullptr).ok()) state.SkipWithError("append failed");
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
BENCHMARK(BM_CollectorAppend100)->UseRealTime();
BENCHMARK(BM_UserEventsLatest50)->UseRealTime();

void PrintSetup() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
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
