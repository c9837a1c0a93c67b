// The batch kernels must return exactly what the single-query kernels return, for every
// query of a batch, whatever its k and exclusions, at every level.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels/internal.h"
#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {
namespace {

struct Batch {
  std::vector<std::vector<float>> queries;
  std::vector<uint32_t> ks;
  std::vector<std::vector<uint32_t>> excluded;
};

Batch MakeBatch(uint32_t dim, uint32_t rows, size_t nq, std::mt19937* rng) {
  Batch b;
  const uint32_t k_choices[] = {0, 1, 5, 10, 100, 1000};
  std::uniform_int_distribution<int> pick_k(0, 5);
  std::uniform_real_distribution<double> fraction(0.0, 0.3);
  for (size_t q = 0; q < nq; ++q) {
    b.queries.push_back(ZeroQuery(dim));
    FillGaussian(&b.queries.back(), dim, rng);
    b.ks.push_back(k_choices[pick_k(*rng)]);
    b.excluded.push_back(RandomExclusions(rows, fraction(*rng), rng));
  }
  return b;
}

// Runs the batch through `run` into exactly sized outputs and returns each query's results.
template <typename Run>
std::vector<std::vector<ScoredRow>> RunBatch(const Batch& b, Run run) {
  const size_t nq = b.queries.size();
  std::vector<const float*> qp;
  std::vector<Exclusions> ex;
  std::vector<std::unique_ptr<ScoredRow[]>> storage;
  std::vector<ScoredRow*> outs;
  for (size_t q = 0; q < nq; ++q) {
    qp.push_back(b.queries[q].data());
    ex.push_back(ExclusionsOf(b.excluded[q]));
    storage.emplace_back(new ScoredRow[b.ks[q] == 0 ? 1 : b.ks[q]]);
    outs.push_back(storage.back().get());
  }
  std::vector<size_t> counts(nq, 12345);
  run(qp.data(), nq, b.ks.data(), ex.data(), outs.data(), counts.data());
  std::vector<std::vector<ScoredRow>> results;
  for (size_t q = 0; q < nq; ++q) {
    EXPECT_LE(counts[q], b.ks[q]);
    results.emplace_back(outs[q], outs[q] + counts[q]);
  }
  return results;
}

void ExpectBatchEqualsSingle(const F32Matrix& f, const Batch& b) {
  const I8Matrix m8(f);
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " dim=" << f.dim
                                      << " rows=" << f.rows << " nq=" << b.queries.size());
    const auto f32 = RunBatch(b, [&](auto... args) { TopKDotF32Batch(level, f.View(), args...); });
    const auto i8 = RunBatch(b, [&](auto... args) { TopKDotI8Batch(level, m8.View(), args...); });
    for (size_t q = 0; q < b.queries.size(); ++q) {
      SCOPED_TRACE(::testing::Message() << "query " << q << " k=" << b.ks[q]);
      ExpectIdentical(f32[q], RunTopK(level, f, b.queries[q], b.ks[q], b.excluded[q]));
      ExpectIdentical(i8[q], RunTopK(level, m8, b.queries[q], b.ks[q], b.excluded[q]));
    }
  }
}

TEST(TopKBatch, ReturnsExactlyTheSingleQueryResults) {
  std::mt19937 rng(31);
  for (uint32_t dim : {1u, 17u, 64u, 65u, 127u, 300u}) {
    for (uint32_t rows : {0u, 1u, 5u, 257u, 2000u}) {
      for (size_t nq : {1u, 3u, 4u, 5u, 17u}) {
        F32Matrix f(rows, dim);
        FillGaussian(&f, &rng);
        ExpectBatchEqualsSingle(f, MakeBatch(dim, rows, nq, &rng));
      }
    }
  }
}

TEST(TopKBatch, SplitsMoreQueriesThanOnePassHolds) {
  std::mt19937 rng(32);
  // 70 queries exceed the 64 of one pass; at dim 2000 the int8 stack scratch holds only 8.
  for (uint32_t dim : {64u, 2000u}) {
    F32Matrix f(300, dim);
    FillGaussian(&f, &rng);
    ExpectBatchEqualsSingle(f, MakeBatch(dim, f.rows, dim == 64 ? 70 : 20, &rng));
  }
}

TEST(TopKBatch, KeepsTiesAndExclusionsPerQuery) {
  std::mt19937 rng(33);
  const uint32_t dim = 24;
  F32Matrix base(3, dim);
  FillExact(&base, &rng);
  F32Matrix f(90, dim);
  for (uint32_t r = 0; r < f.rows; ++r) {
    for (uint32_t d = 0; d < dim; ++d) f.Row(r)[d] = base.Row(r % 3)[d];
  }
  Batch b = MakeBatch(dim, f.rows, 6, &rng);
  for (std::vector<float>& q : b.queries) FillExact(&q, dim, &rng);
  b.ks = {10, 30, 1, 0, 89, 1000};
  ExpectBatchEqualsSingle(f, b);
  for (SimdLevel level : RunnableLevels()) {
    const auto got = RunBatch(b, [&](auto... args) { TopKDotF32Batch(level, f.View(), args...); });
    for (size_t q = 0; q < b.queries.size(); ++q) {
      ExpectSameAsReference(got[q], ReferenceTopK(f, b.queries[q].data(), b.ks[q], b.excluded[q]));
    }
  }
}

// The dispatcher picks the VNNI int8 batch kernel on CPUs that have it, which hides the plain
// AVX-512 one; call both directly so each stays covered and they provably agree.
TEST(TopKBatch, Avx512VnniAndPlainAvx512Int8BatchesAgreeExactly) {
  if (!HasAvx512Vnni()) GTEST_SKIP() << "no AVX512_VNNI on this CPU";
  std::mt19937 rng(34);
  for (uint32_t dim : {1u, 31u, 64u, 100u, 512u, 513u}) {
    F32Matrix f(333, dim);
    FillGaussian(&f, &rng);
    const I8Matrix m(f);
    const Batch b = MakeBatch(dim, f.rows, 13, &rng);
    const auto plain =
        RunBatch(b, [&](auto... args) { internal::kAvx512Table.topk_i8_batch(m.View(), args...); });
    const auto vnni =
        RunBatch(b, [&](auto... args) { internal::TopKI8BatchAvx512Vnni(m.View(), args...); });
    for (size_t q = 0; q < b.queries.size(); ++q) {
      SCOPED_TRACE(::testing::Message() << "dim=" << dim << " query " << q);
      ExpectIdentical(vnni[q], plain[q]);
      ExpectIdentical(plain[q],
                      RunTopK(SimdLevel::kScalar, m, b.queries[q], b.ks[q], b.excluded[q]));
    }
  }
}

// The VNNI int8 batch kernel prunes rows with an upper bound built from the high bytes of the
// 16-bit query (the low bytes contribute at most 255 per positive row element). Here the bound is
// as loose as it gets, every low byte 255 and rows of +-127 and 0, and the rows repeat, so many
// scores tie with the heap root: pruning must still never drop or reorder a result.
TEST(TopKBatch, Int8BoundPruningIsExactWithMaximalLowBytesAndTies) {
  std::mt19937 rng(35);
  std::uniform_int_distribution<int> pick(-1, 1);
  std::uniform_int_distribution<int> high(-128, 126);
  for (uint32_t dim : {4u, 63u, 64u, 200u, 256u}) {
    F32Matrix f(500, dim);
    for (uint32_t r = 0; r < f.rows; ++r) {
      // 40 distinct rows, each repeated, all quantising to exactly -127, 0 or 127.
      std::mt19937 row_rng(r % 40);
      for (uint32_t d = 0; d < dim; ++d) f.Row(r)[d] = static_cast<float>(pick(row_rng));
      f.Row(r)[0] = 1.0f;
    }
    Batch b = MakeBatch(dim, f.rows, 19, &rng);
    for (std::vector<float>& q : b.queries) {
      // Integer values with max 32767 quantise to themselves: q16 = 256 * h + 255.
      for (uint32_t d = 0; d < dim; ++d) q[d] = static_cast<float>(256 * high(rng) + 255);
      q[0] = 32767.0f;
    }
    b.ks[0] = 10;
    b.ks[1] = 1;
    ExpectBatchEqualsSingle(f, b);
  }
}

}  // namespace
}  // namespace recd::kernels::testing
