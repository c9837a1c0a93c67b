// Shared scoring passes never change an answer: many threads scoring one model at once get
// exactly what the single-query kernel gives each of them, float32 and int8.
#include "recommend/scoring_batcher.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "model/f32_prefilter.h"
#include "model/kernels/kernels.h"
#include "model/repository.h"
#include "support/model_fixtures.h"
#include "util/clock.h"

namespace recd::recommend {
namespace {

namespace mt = recd::model::testing;

// `prefilter_min_rows` 1 imports a float32 model with its int8 copy.
std::shared_ptr<const model::CompiledModel> Compile(const mt::TempDir& dir, std::string extra,
                                                    uint32_t prefilter_min_rows = 0) {
  mt::FolderSpec spec;
  spec.rows = 3000;
  spec.dim = 40;
  spec.extra = std::move(extra);
  mt::WriteGoodFolder(dir.Sub("f"), spec);
  util::ManualClock clock(0);
  auto repo = model::ModelRepository::Open(dir.Sub("repo"), &clock);
  EXPECT_TRUE(repo.ok());
  model::ImportOptions options;
  options.prefilter_min_rows = prefilter_min_rows;
  EXPECT_TRUE((*repo)->ImportFolder(1, "v1", dir.Sub("f"), options).ok());
  auto m = (*repo)->Open(1, "v1", {});
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

// `max_passes` 1 shares the most; more run passes side by side (the daemon: one per CPU).
// With a `prefilter`, float32 queries go through it and must still equal the full scan.
void CheckConcurrentPassesMatchSingleQueries(const model::CompiledModel& m, int max_passes = 1,
                                             PrefilterUse prefilter = {}) {
  ScoringBatcher batcher(max_passes);
  constexpr int kThreads = 8, kQueriesPerThread = 60;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::normal_distribution<float> g;
      std::vector<float> q(m.stride(), 0.0f);
      std::vector<kernels::ScoredRow> got(50), want(50);
      for (int i = 0; i < kQueriesPerThread; ++i) {
        for (uint32_t d = 0; d < m.dim(); ++d) q[d] = g(rng);
        const uint32_t k = 1 + (t * 7 + i) % 50;
        std::vector<uint32_t> rows = {static_cast<uint32_t>(i), static_cast<uint32_t>(100 + t)};
        const kernels::Exclusions ex{rows.data(), rows.size()};
        const size_t n = batcher.TopK(m, prefilter, q.data(), k, ex, got.data());
        const auto level = kernels::DetectedSimdLevel();
        size_t n_want;
        if (m.precision() == model::Precision::kInt8) {
          const kernels::MatrixI8 i8{m.matrix_i8(), m.scales_i8(), m.rows(), m.dim(), m.i8_stride()};
          n_want = kernels::TopKDotI8(level, i8, q.data(), k, ex, want.data());
        } else {
          const kernels::MatrixF32 f32{m.matrix(), m.rows(), m.dim(), m.stride()};
          n_want = kernels::TopKDotF32(level, f32, q.data(), k, ex, want.data());
        }
        if (n != n_want) {
          ++mismatches;
          continue;
        }
        for (size_t r = 0; r < n; ++r) {
          if (got[r].row != want[r].row || got[r].score != want[r].score) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(batcher.queries(), uint64_t{kThreads * kQueriesPerThread});
  EXPECT_LE(batcher.passes(), batcher.queries());
  // Whether passes were shared depends on timing; report it rather than require it.
  std::printf("%d queries in %llu passes\n", kThreads * kQueriesPerThread,
              static_cast<unsigned long long>(batcher.passes()));
}

TEST(ScoringBatcher, ConcurrentPassesEqualSingleQueriesFloat32) {
  mt::TempDir dir;
  CheckConcurrentPassesMatchSingleQueries(*Compile(dir, ""));
}

TEST(ScoringBatcher, ConcurrentPassesEqualSingleQueriesInt8) {
  mt::TempDir dir;
  CheckConcurrentPassesMatchSingleQueries(*Compile(dir, R"("precision":"int8")"));
}

TEST(ScoringBatcher, Float32ThroughThePrefilterEqualsTheFullScanAlone) {
  mt::TempDir dir;
  auto m = Compile(dir, "", /*prefilter_min_rows=*/1);
  const absl::StatusOr<kernels::F32Prefilter> prefilter = model::PrefilterOf(*m);
  ASSERT_TRUE(prefilter.ok()) << prefilter.status();
  PrefilterCounts counts;
  CheckConcurrentPassesMatchSingleQueries(*m, 1, {&*prefilter, &counts});
  CheckConcurrentPassesMatchSingleQueries(*m, 2, {&*prefilter, &counts});
  EXPECT_EQ(counts.proved.load() + counts.full_scan.load(), 2u * 8 * 60);
  EXPECT_GT(counts.proved.load(), 0u);
  // Below the threshold the file has no copy; an int8 model scores its own copy instead.
  mt::TempDir plain_dir, int8_dir;
  EXPECT_FALSE(model::HasPrefilterCopy(*Compile(plain_dir, "", 3001)));
  auto int8 = Compile(int8_dir, R"("precision":"int8")", 1);
  EXPECT_FALSE(model::HasPrefilterCopy(*int8));
  EXPECT_EQ(model::PrefilterOf(*int8).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ScoringBatcher, SeveralPassesAtOnceNeverShareAJob) {
  mt::TempDir dir;
  auto m = Compile(dir, "");
  for (int passes : {2, 3}) CheckConcurrentPassesMatchSingleQueries(*m, passes);
}

}  // namespace
}  // namespace recd::recommend
