// The user vector against plain double-precision references (SPEC 3, 7.1): weights with decay
// and event types, context items, the weighted mean, the iALS fold-in, cosine normalisation,
// and "no usable history".
#include "recommend/user_vector.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/repository.h"
#include "support/model_fixtures.h"
#include "util/clock.h"

namespace recd::recommend {
namespace {

namespace mt = recd::model::testing;

class UserVectorTest : public ::testing::Test {
 protected:
  std::shared_ptr<const model::CompiledModel> Compile(const mt::FolderSpec& spec) {
    const std::string folder = dir_.Sub("f" + std::to_string(++n_));
    mt::WriteGoodFolder(folder, spec);
    auto repo = model::ModelRepository::Open(dir_.Sub("repo"), &clock_);
    EXPECT_TRUE(repo.ok()) << repo.status();
    const std::string version = "v" + std::to_string(n_);
    auto info = (*repo)->ImportFolder(1, version, folder, {});
    EXPECT_TRUE(info.ok()) << info.status();
    auto m = (*repo)->Open(1, version, {});
    EXPECT_TRUE(m.ok()) << m.status();
    return *m;
  }

  mt::TempDir dir_;
  util::ManualClock clock_{1'700'000'000'000};
  int n_ = 0;
};

ingest::Event Ev(std::string item, std::string type, int64_t ts) {
  ingest::Event e;
  e.item = std::move(item);
  e.type = std::move(type);
  e.ts = ts;
  return e;
}

std::vector<double> Row(const mt::FolderSpec& spec, uint32_t r) {
  std::vector<float> y = mt::RandomMatrix(spec.rows, spec.dim, spec.seed);
  return std::vector<double>(y.begin() + r * spec.dim, y.begin() + (r + 1) * spec.dim);
}

// Solves A x = b by Gaussian elimination with partial pivoting.
std::vector<double> Solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    }
    std::swap(a[c], a[p]);
    std::swap(b[c], b[p]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[i][k] * x[k];
    x[i] = s / a[i][i];
  }
  return x;
}

void ExpectNear(const float* got, const std::vector<double>& want, double tol) {
  for (size_t d = 0; d < want.size(); ++d) {
    EXPECT_NEAR(got[d], want[d], tol * (1 + std::abs(want[d]))) << "dim " << d;
  }
}

TEST_F(UserVectorTest, WeightedMeanWithDecayTypesAndContext) {
  mt::FolderSpec spec;
  spec.rows = 50;
  spec.dim = 20;
  spec.extra = R"("half_life_s":3600,"event_weights":{"purchase":5})";
  auto m = Compile(spec);
  const int64_t now = 1'700'000'000'000;
  // sku-1 viewed an hour ago (1 * 0.5) and bought now (5); sku-2 viewed two hours ago (0.25);
  // sku-3 as a context item (1); sku-99 is not in the model and is ignored.
  std::vector<ingest::Event> window = {Ev("sku-1", "purchase", now),
                                     Ev("sku-99", "purchase", now),
                                     Ev("sku-1", "view", now - 3'600'000),
                                     Ev("sku-2", "view", now - 7'200'000)};
  std::vector<std::string> context = {"sku-3"};
  UserVectorBuilder b;
  std::vector<float> out(m->stride(), -1.0f);
  ASSERT_TRUE(b.Build(*m, window, context, now, out.data()));
  const double w1 = 5.5, w2 = 0.25, w3 = 1.0;
  std::vector<double> want(spec.dim);
  auto y1 = Row(spec, 1), y2 = Row(spec, 2), y3 = Row(spec, 3);
  for (uint32_t d = 0; d < spec.dim; ++d) {
    want[d] = (w1 * y1[d] + w2 * y2[d] + w3 * y3[d]) / (w1 + w2 + w3);
  }
  ExpectNear(out.data(), want, 1e-6);
  for (uint32_t d = spec.dim; d < m->stride(); ++d) EXPECT_EQ(out[d], 0.0f) << "padding";
  ASSERT_EQ(b.weights().size(), 3u);
  EXPECT_EQ(b.weights()[0].first, 1u);
  EXPECT_DOUBLE_EQ(b.weights()[0].second, w1);
}

TEST_F(UserVectorTest, FutureEventsHaveAgeZero) {
  mt::FolderSpec spec;
  spec.extra = R"("half_life_s":60)";
  auto m = Compile(spec);
  std::vector<ingest::Event> window = {Ev("sku-1", "view", 2'000), Ev("sku-2", "view", 1'000 - 60'000)};
  UserVectorBuilder b;
  std::vector<float> out(m->stride());
  ASSERT_TRUE(b.Build(*m, window, {}, 1'000, out.data()));
  EXPECT_DOUBLE_EQ(b.weights()[0].second, 1.0);
  EXPECT_DOUBLE_EQ(b.weights()[1].second, 0.5);
}

TEST_F(UserVectorTest, CosineNormalisesTheUserVector) {
  mt::FolderSpec spec;
  spec.metric = "cosine";
  auto m = Compile(spec);
  std::vector<ingest::Event> window = {Ev("sku-4", "view", 0), Ev("sku-5", "click", 0)};
  UserVectorBuilder b;
  std::vector<float> out(m->stride());
  ASSERT_TRUE(b.Build(*m, window, {}, 0, out.data()));
  double norm = 0;
  for (uint32_t d = 0; d < m->dim(); ++d) norm += double(out[d]) * out[d];
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST_F(UserVectorTest, NoUsableHistory) {
  mt::FolderSpec spec;
  auto m = Compile(spec);
  UserVectorBuilder b;
  std::vector<float> out(m->stride());
  EXPECT_FALSE(b.Build(*m, {}, {}, 0, out.data()));
  std::vector<ingest::Event> unknown = {Ev("nope", "view", 0)};
  EXPECT_FALSE(b.Build(*m, unknown, {}, 0, out.data()));
  // Decayed to exactly zero: 2^-2000 underflows.
  mt::FolderSpec fast = spec;
  fast.extra = R"("half_life_s":1)";
  auto f = Compile(fast);
  std::vector<ingest::Event> ancient = {Ev("sku-1", "view", 0)};
  std::vector<float> out2(f->stride());
  EXPECT_FALSE(b.Build(*f, ancient, {}, 2'000'000, out2.data()));
}

TEST_F(UserVectorTest, IalsFoldInMatchesTheImplicitConvention) {
  mt::FolderSpec spec;
  spec.kind = "ials";
  spec.rows = 40;
  spec.dim = 12;
  spec.extra = R"("alpha":3.0,"regularization":0.1,"half_life_s":0,"event_weights":{"purchase":4})";
  auto m = Compile(spec);
  std::vector<ingest::Event> window = {Ev("sku-1", "view", 0), Ev("sku-7", "purchase", 0),
                                     Ev("sku-1", "view", 0), Ev("sku-30", "view", 0)};
  std::vector<std::string> context = {"sku-9"};
  UserVectorBuilder b;
  std::vector<float> out(m->stride());
  ASSERT_TRUE(b.Build(*m, window, context, 0, out.data()));

  // Reference: (Y^T Y + lambda I + sum (c_i - 1) y_i y_i^T) u = sum c_i y_i, c_i = alpha w_i.
  const uint32_t n = spec.dim;
  std::vector<std::vector<double>> a(n, std::vector<double>(n, 0.0));
  for (uint32_t r = 0; r < spec.rows; ++r) {
    auto y = Row(spec, r);
    for (uint32_t i = 0; i < n; ++i) {
      for (uint32_t j = 0; j < n; ++j) a[i][j] += y[i] * y[j];
    }
  }
  for (uint32_t i = 0; i < n; ++i) a[i][i] += 0.1;
  std::vector<double> rhs(n, 0.0);
  for (auto [row, w] : std::vector<std::pair<uint32_t, double>>{{1, 2}, {7, 4}, {30, 1}, {9, 1}}) {
    const double c = 3.0 * w;
    auto y = Row(spec, row);
    for (uint32_t i = 0; i < n; ++i) {
      rhs[i] += c * y[i];
      for (uint32_t j = 0; j < n; ++j) a[i][j] += (c - 1) * y[i] * y[j];
    }
  }
  ExpectNear(out.data(), Solve(a, rhs), 1e-5);
  // Scratch reuse: a second call gives the same answer.
  std::vector<float> again(m->stride());
  ASSERT_TRUE(b.Build(*m, window, context, 0, again.data()));
  EXPECT_EQ(out, again);
}

}  // namespace
}  // namespace recd::recommend
