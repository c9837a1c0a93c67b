// kernels_bench: top-10 scoring over 100k x 64 and 1M x 64 item matrices, float32 and int8,
// batch 1 and batch 32, next to two references measured in the same binary (STYLE 14):
//   floor/dram  a streaming read of the same number of bytes from a buffer larger than the
//               last-level cache (the memory-bandwidth floor for one pass);
//   floor/warm  a streaming read of the matrix itself, as the kernel sees it (cache state
//               included, which matters when a matrix fits in the LLC);
//   faiss/*     FAISS IndexFlatIP and IndexScalarQuantizer(QT_8bit) on the same data and
//               queries, with OpenMP pinned to one thread (only when FAISS was found).
// Names are filter friendly: topk/<f32|i8>/rows:<n>/batch:<b>/<level>, floor/<dram|warm>/
// rows:<n>/<f32|i8>, faiss/<flatip|sq8>/rows:<n>/batch:<b>. RECD_BENCH_TINY=1 runs every
// benchmark once on 1k rows (for CI; no timing is judged). A summary table with the ratios
// follows the Google Benchmark output.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compute_peak.h"
#include "model/crc32c.h"
#include "model/kernels/kernels.h"
#include "stream_read.h"
#include "util/machine.h"
#if RECD_HAVE_FAISS
#include "faiss_reference.h"
#endif

#ifndef RECD_BUILD_TYPE
#define RECD_BUILD_TYPE "unknown"
#endif

namespace recd::bench {
namespace {

using kernels::Exclusions;
using kernels::MatrixF32;
using kernels::MatrixI8;
using kernels::ScoredRow;
using kernels::SimdLevel;

constexpr uint32_t kDim = 64;  // also the stride of both layouts: a multiple of 16 and of 64
constexpr uint32_t kK = 10;
constexpr uint32_t kBatch = 32;
constexpr uint32_t kExcluded = 50;  // like a user's seen items

bool Tiny() {
  const char* v = std::getenv("RECD_BENCH_TINY");
  return v != nullptr && std::strcmp(v, "0") != 0 && v[0] != '\0';
}

std::string RowsLabel(uint32_t rows) {
  if (rows % 1000000 == 0) return std::to_string(rows / 1000000) + "M";
  if (rows % 1000 == 0) return std::to_string(rows / 1000) + "k";
  return std::to_string(rows);
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <typename T>
std::unique_ptr<T[], FreeDeleter> AlignedAlloc(size_t n) {
  const size_t bytes = (n * sizeof(T) + 127) / 128 * 128;
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(std::aligned_alloc(64, bytes)));
}

// One matrix in both precisions, 32 queries and their exclusions. Built on first use so that
// a --benchmark_filter run pays only for the sizes it selects.
struct Dataset {
  explicit Dataset(uint32_t rows);

  uint32_t rows;
  std::unique_ptr<float[], FreeDeleter> f32;
  std::unique_ptr<int8_t[], FreeDeleter> i8;
  std::vector<float> scales;
  MatrixF32 f;
  MatrixI8 q;
  std::vector<float> queries;  // kBatch x kDim
  std::vector<std::vector<uint32_t>> excluded;
  double overlap = 0;  // int8 vs float32 top-10 overlap over the queries
#if RECD_HAVE_FAISS
  std::unique_ptr<FaissFlat> faiss_ip;
  std::unique_ptr<FaissFlat> faiss_sq8;
#endif

  size_t F32Bytes() const { return static_cast<size_t>(rows) * kDim * sizeof(float); }
  size_t I8Bytes() const { return static_cast<size_t>(rows) * (kDim + sizeof(float)); }
  const float* Query(size_t i) const { return &queries[i * kDim]; }
};

Dataset::Dataset(uint32_t n)
    : rows(n),
      f32(AlignedAlloc<float>(size_t{n} * kDim)),
      i8(AlignedAlloc<int8_t>(size_t{n} * kDim)),
      scales(n) {
  std::mt19937 rng(n);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t i = 0; i < size_t{n} * kDim; ++i) f32[i] = normal(rng);
  for (uint32_t r = 0; r < n; ++r) {
    kernels::QuantizeRowI8(&f32[size_t{r} * kDim], kDim, &i8[size_t{r} * kDim], &scales[r]);
  }
  f = MatrixF32{f32.get(), n, kDim, kDim};
  q = MatrixI8{i8.get(), scales.data(), n, kDim, kDim};
  queries.resize(size_t{kBatch} * kDim);
  for (float& x : queries) x = normal(rng);
  std::uniform_int_distribution<uint32_t> pick(0, n - 1);
  for (uint32_t i = 0; i < kBatch; ++i) {
    std::vector<uint32_t> ex;
    for (uint32_t j = 0; j < kExcluded; ++j) ex.push_back(pick(rng));
    std::sort(ex.begin(), ex.end());
    ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
    excluded.push_back(std::move(ex));
  }
  const SimdLevel level = kernels::DetectedSimdLevel();
  size_t hits = 0;
  for (uint32_t i = 0; i < kBatch; ++i) {
    ScoredRow a[kK], b[kK];
    const Exclusions ex{excluded[i].data(), excluded[i].size()};
    const size_t na = kernels::TopKDotF32(level, f, Query(i), kK, ex, a);
    const size_t nb = kernels::TopKDotI8(level, q, Query(i), kK, ex, b);
    for (size_t x = 0; x < na; ++x) {
      for (size_t y = 0; y < nb; ++y) hits += a[x].row == b[y].row ? 1 : 0;
    }
  }
  overlap = static_cast<double>(hits) / (kBatch * kK);
#if RECD_HAVE_FAISS
  faiss_ip = std::make_unique<FaissFlat>(FaissFlat::Kind::kFlatIP, f32.get(), n, kDim, kDim);
  faiss_sq8 = std::make_unique<FaissFlat>(FaissFlat::Kind::kSQ8, f32.get(), n, kDim, kDim);
#endif
}

std::map<uint32_t, std::unique_ptr<Dataset>>& Datasets() {
  static auto* datasets = new std::map<uint32_t, std::unique_ptr<Dataset>>();
  return *datasets;
}

Dataset& Data(uint32_t rows) {
  auto& slot = Datasets()[rows];
  if (!slot) slot = std::make_unique<Dataset>(rows);
  return *slot;
}

size_t LlcBytes() {
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return llc > 0 ? static_cast<size_t>(llc) : size_t{32} << 20;
}

// Twice the reported LLC and at least 1 GiB (64 MiB in tiny mode), touched once so that
// page faults stay out of the measurement.
struct FloorBuffer {
  FloorBuffer() {
    bytes = Tiny() ? size_t{64} << 20 : std::max(size_t{1} << 30, 2 * LlcBytes());
    data = AlignedAlloc<uint8_t>(bytes);
    std::memset(data.get(), 1, bytes);
  }
  size_t bytes;
  std::unique_ptr<uint8_t[], FreeDeleter> data;
};

FloorBuffer& Floor() {
  static auto* floor = new FloorBuffer();
  return *floor;
}

struct Requests {
  explicit Requests(const Dataset& d) {
    for (uint32_t i = 0; i < kBatch; ++i) {
      queries[i] = d.Query(i);
      ks[i] = kK;
      ex[i] = Exclusions{d.excluded[i].data(), d.excluded[i].size()};
      outs[i] = out[i];
    }
  }
  const float* queries[kBatch];
  uint32_t ks[kBatch];
  Exclusions ex[kBatch];
  ScoredRow out[kBatch][kK];
  ScoredRow* outs[kBatch];
  size_t counts[kBatch];
};

void SetRates(benchmark::State& state, uint32_t rows, uint32_t batch) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch * rows);
  state.counters["queries/s"] =
      benchmark::Counter(batch, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TopK(benchmark::State& state, uint32_t rows, bool int8, uint32_t batch, SimdLevel level) {
  const Dataset& d = Data(rows);
  Requests req(d);
  size_t next = 0;
  for (auto _ : state) {
    if (batch == 1) {
      const size_t n =
          int8 ? kernels::TopKDotI8(level, d.q, req.queries[next], kK, req.ex[next], req.out[0])
               : kernels::TopKDotF32(level, d.f, req.queries[next], kK, req.ex[next], req.out[0]);
      benchmark::DoNotOptimize(n);
      next = (next + 1) % kBatch;
    } else if (int8) {
      kernels::TopKDotI8Batch(level, d.q, req.queries, batch, req.ks, req.ex, req.outs, req.counts);
    } else {
      kernels::TopKDotF32Batch(level, d.f, req.queries, batch, req.ks, req.ex, req.outs,
                               req.counts);
    }
    benchmark::ClobberMemory();
  }
  SetRates(state, rows, batch);
}

// Float32 top-k through the int8 copy (TopKDotF32Prefiltered): the same answers as "f32".
// `proved` is the share of queries the bound settled without the full float32 scan.
void BM_TopKPrefiltered(benchmark::State& state, uint32_t rows, uint32_t batch, SimdLevel level) {
  const Dataset& d = Data(rows);
  Requests req(d);
  const kernels::F32Prefilter pf = kernels::PrefilterOf(d.q);
  std::vector<ScoredRow> scratch(size_t{kBatch} * kernels::PrefilterCandidates(kK));
  ScoredRow* scratches[kBatch];
  for (uint32_t i = 0; i < kBatch; ++i) {
    scratches[i] = &scratch[size_t{i} * kernels::PrefilterCandidates(kK)];
  }
  kernels::PrefilterOutcome outcomes[kBatch];
  size_t next = 0;
  uint64_t queries = 0;
  uint64_t settled = 0;
  for (auto _ : state) {
    if (batch == 1) {
      const size_t n = kernels::TopKDotF32Prefiltered(level, d.f, pf, req.queries[next], kK,
                                                      req.ex[next], req.out[0], scratches[0],
                                                      &outcomes[0]);
      benchmark::DoNotOptimize(n);
      next = (next + 1) % kBatch;
    } else {
      kernels::TopKDotF32PrefilteredBatch(level, d.f, pf, req.queries, batch, req.ks, req.ex,
                                          req.outs, req.counts, scratches, outcomes);
    }
    for (uint32_t i = 0; i < batch; ++i) {
      settled += outcomes[i] == kernels::PrefilterOutcome::kProved ? 1 : 0;
    }
    queries += batch;
    benchmark::ClobberMemory();
  }
  SetRates(state, rows, batch);
  state.counters["proved"] = queries > 0 ? static_cast<double>(settled) / queries : 0.0;
}

void BM_FloorDram(benchmark::State& state, uint32_t rows, bool int8) {
  const Dataset& d = Data(rows);
  const size_t bytes = (int8 ? d.I8Bytes() : d.F32Bytes()) / 128 * 128;
  FloorBuffer& buf = Floor();
  // Successive windows walk the whole buffer, so a window was last read > LLC bytes ago.
  size_t offset = 0;
  for (auto _ : state) {
    if (offset + bytes > buf.bytes) offset = 0;
    benchmark::DoNotOptimize(StreamRead(buf.data.get() + offset, std::min(bytes, buf.bytes)));
    offset += bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}

void BM_FloorWarm(benchmark::State& state, uint32_t rows, bool int8) {
  const Dataset& d = Data(rows);
  for (auto _ : state) {
    if (int8) {
      benchmark::DoNotOptimize(StreamRead(d.i8.get(), size_t{rows} * kDim / 128 * 128));
      benchmark::DoNotOptimize(StreamRead(d.scales.data(), size_t{rows} * 4 / 128 * 128));
    } else {
      benchmark::DoNotOptimize(StreamRead(d.f32.get(), d.F32Bytes() / 128 * 128));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          (int8 ? d.I8Bytes() : d.F32Bytes()));
}

// The compiled-model checksum over 64 MiB of the floor buffer (verified at import, and over a
// float32 model's int8 copy before the prefilter uses it): bytes/s against floor/dram.
void BM_Crc32c(benchmark::State& state, bool sse42) {
  if (sse42 && !recd::model::internal::HasSse42()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  FloorBuffer& buf = Floor();
  const size_t bytes = size_t{64} << 20;
  size_t offset = 0;
  for (auto _ : state) {
    const uint32_t crc =
        sse42 ? recd::model::internal::Crc32cExtendSse42(0, buf.data.get() + offset, bytes)
              : recd::model::internal::Crc32cExtendPortable(0, buf.data.get() + offset, bytes);
    benchmark::DoNotOptimize(crc);
    offset = offset + 2 * bytes <= buf.bytes ? offset + bytes : 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

#if RECD_HAVE_FAISS
void BM_Faiss(benchmark::State& state, uint32_t rows, bool sq8, uint32_t batch) {
  const Dataset& d = Data(rows);
  const FaissFlat& index = sq8 ? *d.faiss_sq8 : *d.faiss_ip;
  std::vector<float> scores(size_t{batch} * kK);
  std::vector<int64_t> labels(size_t{batch} * kK);
  size_t next = 0;
  for (auto _ : state) {
    // FAISS has no exclusion list; it searches the same queries without one.
    index.Search(d.Query(batch == 1 ? next : 0), batch, kK, scores.data(), labels.data());
    benchmark::ClobberMemory();
    next = (next + 1) % kBatch;
  }
  SetRates(state, rows, batch);
}
#endif

// The compute bound of the AVX2 batch kernels: items/s = 256-bit FMAs (or vpmaddwd + vpaddd
// pairs) per second from registers.
void BM_PeakAvx2(benchmark::State& state, bool madd) {
  constexpr uint64_t kRounds = 1 << 16;
  uint64_t ops = 0;
  for (auto _ : state) ops += madd ? MaddPeakAvx2(kRounds) : FmaPeakAvx2(kRounds);
  state.SetItemsProcessed(static_cast<int64_t>(ops));
}

// Keeps seconds per iteration of every run for the summary table.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal, so redirected output stays plain text.
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.iterations == 0 || run.run_type != Run::RT_Iteration) {
        continue;
      }
      // Keyed by the registered name, without "/real_time" and similar decorations. With
      // --benchmark_repetitions the best repetition is kept: on a shared machine the noise
      // (other processes, steal time) only ever adds time.
      const double s = run.real_accumulated_time / static_cast<double>(run.iterations);
      auto [it, inserted] = seconds_.emplace(run.run_name.function_name, s);
      if (!inserted) it->second = std::min(it->second, s);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Seconds per iteration, or 0 when the benchmark did not run.
  double Seconds(const std::string& name) const {
    auto it = seconds_.find(name);
    return it == seconds_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

void PrintSetup(const std::vector<uint32_t>& sizes) {
  const char* forced = std::getenv("RECD_SIMD_LEVEL");
  std::printf("recd kernels_bench\n");
  std::printf("  cpu:    %s\n", util::CpuModelName().c_str());
  std::printf("  cores:  %u (benchmarks run on one thread)\n", std::thread::hardware_concurrency());
  std::printf("  simd:   supported %s%s, detected %s (RECD_SIMD_LEVEL=%s)\n",
              std::string(kernels::SimdLevelName(kernels::SupportedSimdLevel())).c_str(),
              kernels::HasAvx512Vnni() ? " with VNNI (int8 batch)" : "",
              std::string(kernels::SimdLevelName(kernels::DetectedSimdLevel())).c_str(),
              forced == nullptr ? "unset" : forced);
#ifdef __OPTIMIZE__
  const char* opt = "optimised";
#else
  const char* opt = "NOT optimised";
#endif
#ifdef NDEBUG
  const char* asserts = "NDEBUG";
#else
  const char* asserts = "assertions on";
#endif
  std::printf("  build:  %s, %s, %s, compiler %s\n", RECD_BUILD_TYPE, opt, asserts, __VERSION__);
  std::printf("  data:   Gaussian rows, dim %u, top-%u, %u queries, %u exclusions per query, rows:",
              kDim, kK, kBatch, kExcluded);
  for (uint32_t s : sizes) std::printf(" %s", RowsLabel(s).c_str());
  std::printf("%s\n", Tiny() ? " (RECD_BENCH_TINY)" : "");
  std::printf("  floor:  streaming read; DRAM buffer %zu MiB (reported LLC %zu MiB)\n",
              (Tiny() ? size_t{64} << 20 : std::max(size_t{1} << 30, 2 * LlcBytes())) >> 20,
              LlcBytes() >> 20);
#if RECD_HAVE_FAISS
  FaissUseOneThread();
  std::printf(
      "  faiss:  IndexFlatIP and IndexScalarQuantizer(QT_8bit), 1 OpenMP thread, "
      "compile options '%s'; no exclusions\n",
      FaissCompileOptions().c_str());
#else
  std::printf("  faiss:  skipped (libfaiss not found at build time)\n");
#endif
  std::printf("\n");
  std::fflush(stdout);
}

void PrintSummary(const SummaryReporter& rep, const std::vector<uint32_t>& sizes) {
  const std::string lvl(kernels::SimdLevelName(kernels::DetectedSimdLevel()));
  std::printf(
      "\nSummary (level %s; per-query times, best repetition; floor = one streaming "
      "pass over the same bytes)\n\n",
      lvl.c_str());
  std::printf(
      "| rows | kernel | batch | us/query | Mrows/s | / DRAM floor | / warm floor "
      "| FAISS us/query | FAISS / recd |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (uint32_t rows : sizes) {
    const std::string r = RowsLabel(rows);
    for (const char* kind : {"f32", "f32pf", "i8"}) {
      const std::string k(kind);
      // The prefiltered float32 answer is compared with the float32 references.
      const std::string ref = k == "i8" ? "i8" : "f32";
      const double dram = rep.Seconds("floor/dram/rows:" + r + "/" + ref);
      const double warm = rep.Seconds("floor/warm/rows:" + r + "/" + ref);
      for (uint32_t batch : {1u, kBatch}) {
        const std::string b = "/batch:" + std::to_string(batch);
        const double t = rep.Seconds("topk/" + k + "/rows:" + r + b + "/" + lvl) / batch;
        const double f = rep.Seconds(std::string("faiss/") + (ref == "f32" ? "flatip" : "sq8") +
                                     "/rows:" + r + b) /
                         batch;
        if (t == 0) continue;
        std::printf("| %s | %s | %u | %.1f | %.0f |", r.c_str(), kind, batch, t * 1e6,
                    rows / t / 1e6);
        if (dram > 0)
          std::printf(" %.2f |", t / dram);
        else
          std::printf(" - |");
        if (warm > 0)
          std::printf(" %.2f |", t / warm);
        else
          std::printf(" - |");
        if (f > 0)
          std::printf(" %.1f | %.2f |\n", f * 1e6, f / t);
        else
          std::printf(" - | - |\n");
      }
    }
  }
  std::printf("\n");
  for (uint32_t rows : sizes) {
    const std::string r = RowsLabel(rows);
    auto per_query = [&](const char* k, uint32_t batch) {
      return rep.Seconds(std::string("topk/") + k + "/rows:" + r +
                         "/batch:" + std::to_string(batch) + "/" + lvl) /
             batch;
    };
    const double f1 = per_query("f32", 1), f32b = per_query("f32", kBatch);
    const double i1 = per_query("i8", 1), i32b = per_query("i8", kBatch);
    const double p1 = per_query("f32pf", 1), p32b = per_query("f32pf", kBatch);
    const double dram = rep.Seconds("floor/dram/rows:" + r + "/f32");
    std::printf(
        "rows %s: int8 vs f32 speed-up %.2fx (batch 1), %.2fx (batch %u); "
        "batch %u vs batch 1 throughput %.1fx (f32), %.1fx (int8); "
        "DRAM read %.1f GB/s; int8 top-%u overlap with f32 %.3f; "
        "f32 through the int8 prefilter %.2fx faster than the f32 scan (batch 1), %.2fx "
        "(batch %u)\n",
        r.c_str(), i1 > 0 ? f1 / i1 : 0, i32b > 0 ? f32b / i32b : 0, kBatch, kBatch,
        f32b > 0 ? f1 / f32b : 0, i32b > 0 ? i1 / i32b : 0,
        dram > 0 ? Data(rows).F32Bytes() / dram / 1e9 : 0, kK,
        Datasets().count(rows) ? Datasets()[rows]->overlap : 0.0, p1 > 0 ? f1 / p1 : 0,
        p32b > 0 ? f32b / p32b : 0, kBatch);
  }
  // What a batch pass can reach at most at the AVX2 level: every row needs dim/8 FMAs (float32)
  // or dim/16 vpmaddwd (int8) per query, whatever the layout; a batch-1 scan cannot beat one
  // DRAM pass. Their ratio caps "batch N vs batch 1".
  const double fma_s = rep.Seconds("peak/fma/avx2");
  const double madd_s = rep.Seconds("peak/madd/avx2");
  if (lvl == "avx2" && fma_s > 0 && madd_s > 0) {
    const double fma_rate = (1 << 16) * 10 / fma_s;
    const double madd_rate = (1 << 16) * 10 / madd_s;
    std::printf(
        "\ncompute peak (avx2, one core): %.2f G FMA/s (256-bit), %.2f G vpmaddwd+vpaddd/s\n",
        fma_rate / 1e9, madd_rate / 1e9);
    for (uint32_t rows : sizes) {
      const std::string r = RowsLabel(rows);
      const double f_bound = static_cast<double>(rows) * ((kDim + 7) / 8) / fma_rate;
      const double i_bound = static_cast<double>(rows) * ((kDim + 15) / 16) / madd_rate;
      const double f_dram = rep.Seconds("floor/dram/rows:" + r + "/f32");
      const double i_dram = rep.Seconds("floor/dram/rows:" + r + "/i8");
      std::printf(
          "rows %s: batch compute bound %.1f us/query (f32), %.1f us/query (int8); "
          "batch vs batch 1 at most DRAM floor / bound = %.1fx (f32), %.1fx (int8)\n",
          r.c_str(), f_bound * 1e6, i_bound * 1e6, f_dram / f_bound, i_dram / i_bound);
    }
  }
}

}  // namespace
}  // namespace recd::bench

int main(int argc, char** argv) {
  using namespace recd::bench;
  const bool tiny = Tiny();
  const std::vector<uint32_t> sizes =
      tiny ? std::vector<uint32_t>{1000} : std::vector<uint32_t>{100000, 1000000};
  PrintSetup(sizes);
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= static_cast<int>(recd::kernels::SupportedSimdLevel()); ++l) {
    levels.push_back(static_cast<SimdLevel>(l));
  }
  std::vector<benchmark::internal::Benchmark*> all;
  for (uint32_t rows : sizes) {
    const std::string r = "rows:" + RowsLabel(rows);
    for (bool int8 : {false, true}) {
      const std::string k = int8 ? "i8" : "f32";
      all.push_back(benchmark::RegisterBenchmark(("floor/dram/" + r + "/" + k).c_str(),
                                                 BM_FloorDram, rows, int8));
      all.push_back(benchmark::RegisterBenchmark(("floor/warm/" + r + "/" + k).c_str(),
                                                 BM_FloorWarm, rows, int8));
      for (uint32_t batch : {1u, kBatch}) {
        for (SimdLevel level : levels) {
          const std::string name = "topk/" + k + "/" + r + "/batch:" + std::to_string(batch) + "/" +
                                   std::string(recd::kernels::SimdLevelName(level));
          all.push_back(
              benchmark::RegisterBenchmark(name.c_str(), BM_TopK, rows, int8, batch, level));
        }
        if (!int8) {
          for (SimdLevel level : levels) {
            const std::string name = "topk/f32pf/" + r + "/batch:" + std::to_string(batch) +
                                     "/" + std::string(recd::kernels::SimdLevelName(level));
            all.push_back(benchmark::RegisterBenchmark(name.c_str(), BM_TopKPrefiltered, rows,
                                                       batch, level));
          }
        }
#if RECD_HAVE_FAISS
        const std::string name = std::string("faiss/") + (int8 ? "sq8" : "flatip") + "/" + r +
                                 "/batch:" + std::to_string(batch);
        all.push_back(benchmark::RegisterBenchmark(name.c_str(), BM_Faiss, rows, int8, batch));
#endif
      }
    }
  }
  if (recd::kernels::SupportedSimdLevel() >= SimdLevel::kAvx2) {
    all.push_back(benchmark::RegisterBenchmark("peak/fma/avx2", BM_PeakAvx2, false));
    all.push_back(benchmark::RegisterBenchmark("peak/madd/avx2", BM_PeakAvx2, true));
  }
  all.push_back(benchmark::RegisterBenchmark("crc32c/portable/64MiB", BM_Crc32c, false));
  all.push_back(benchmark::RegisterBenchmark("crc32c/sse42/64MiB", BM_Crc32c, true));
  for (benchmark::internal::Benchmark* b : all) {
    b->Unit(benchmark::kMicrosecond)->UseRealTime();
    if (tiny) b->Iterations(1);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary(reporter, sizes);
  benchmark::Shutdown();
  return 0;
}
