#include "reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace recd::kernels::testing {

F32Matrix::F32Matrix(uint32_t rows_in, uint32_t dim_in)
    : rows(rows_in),
      dim(dim_in),
      stride((dim_in + 15) / 16 * 16 == 0 ? 16 : (dim_in + 15) / 16 * 16),
      data(AlignedZeros<float>(static_cast<size_t>(rows_in) * stride)) {}

I8Matrix::I8Matrix(const F32Matrix& m)
    : rows(m.rows),
      dim(m.dim),
      stride((m.dim + 63) / 64 * 64 == 0 ? 64 : (m.dim + 63) / 64 * 64),
      data(AlignedZeros<int8_t>(static_cast<size_t>(m.rows) * stride)),
      scales(m.rows) {
  for (uint32_t r = 0; r < rows; ++r) {
    QuantizeRowI8(m.Row(r), dim, data.get() + static_cast<size_t>(r) * stride, &scales[r]);
  }
}

std::vector<float> ZeroQuery(uint32_t dim) {
  const uint32_t stride = (dim + 63) / 64 * 64 == 0 ? 64 : (dim + 63) / 64 * 64;
  return std::vector<float>(stride, 0.0f);
}

void FillExact(F32Matrix* m, std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(-8, 8);
  for (uint32_t r = 0; r < m->rows; ++r) {
    for (uint32_t d = 0; d < m->dim; ++d) m->Row(r)[d] = static_cast<float>(dist(*rng)) / 4.0f;
  }
}

void FillExact(std::vector<float>* query, uint32_t dim, std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(-8, 8);
  for (uint32_t d = 0; d < dim; ++d) (*query)[d] = static_cast<float>(dist(*rng)) / 4.0f;
}

void FillGaussian(F32Matrix* m, std::mt19937* rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (uint32_t r = 0; r < m->rows; ++r) {
    for (uint32_t d = 0; d < m->dim; ++d) m->Row(r)[d] = dist(*rng);
  }
}

void FillGaussian(std::vector<float>* query, uint32_t dim, std::mt19937* rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (uint32_t d = 0; d < dim; ++d) (*query)[d] = dist(*rng);
}

void FillClustered(F32Matrix* m, std::mt19937* rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::lognormal_distribution<float> norm(0.0f, 0.5f);
  const uint32_t clusters = 32;
  std::vector<float> centres(static_cast<size_t>(clusters) * m->dim);
  for (float& c : centres) c = normal(*rng);
  std::uniform_int_distribution<uint32_t> pick(0, clusters - 1);
  std::vector<float> row(m->dim);
  for (uint32_t r = 0; r < m->rows; ++r) {
    const float* c = &centres[static_cast<size_t>(pick(*rng)) * m->dim];
    double sq = 0;
    for (uint32_t d = 0; d < m->dim; ++d) {
      row[d] = c[d] + 0.7f * normal(*rng);
      sq += static_cast<double>(row[d]) * row[d];
    }
    const float s = norm(*rng) / static_cast<float>(std::sqrt(sq > 0 ? sq : 1.0));
    for (uint32_t d = 0; d < m->dim; ++d) m->Row(r)[d] = row[d] * s;
  }
}

void FillUserQuery(const F32Matrix& m, std::vector<float>* query, std::mt19937* rng) {
  std::uniform_int_distribution<uint32_t> pick(0, m.rows - 1);
  std::uniform_real_distribution<float> weight(0.5f, 5.0f);
  std::fill(query->begin(), query->end(), 0.0f);
  for (int i = 0; i < 8; ++i) {
    const float* row = m.Row(pick(*rng));
    const float w = weight(*rng);
    for (uint32_t d = 0; d < m.dim; ++d) (*query)[d] += w * row[d];
  }
}

namespace {

std::vector<RefRow> SelectTopK(std::vector<RefRow> all, uint32_t k) {
  std::sort(all.begin(), all.end(), [](const RefRow& a, const RefRow& b) {
    return a.score > b.score || (a.score == b.score && a.row < b.row);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

bool IsExcluded(const std::vector<uint32_t>& excluded, uint32_t row) {
  return std::binary_search(excluded.begin(), excluded.end(), row);
}

}  // namespace

double ReferenceDot(const float* a, const float* b, uint32_t n) {
  double sum = 0;
  for (uint32_t d = 0; d < n; ++d) sum += static_cast<double>(a[d]) * b[d];
  return sum;
}

std::vector<RefRow> ReferenceTopK(const F32Matrix& m, const float* query, uint32_t k,
                                  const std::vector<uint32_t>& excluded) {
  std::vector<RefRow> all;
  for (uint32_t r = 0; r < m.rows; ++r) {
    if (IsExcluded(excluded, r)) continue;
    double s = ReferenceDot(query, m.Row(r), m.dim);
    if (std::isnan(s)) s = -INFINITY;
    all.push_back({s, r});
  }
  return SelectTopK(std::move(all), k);
}

std::vector<RefRow> ReferenceTopK(const I8Matrix& m, const float* query, uint32_t k,
                                  const std::vector<uint32_t>& excluded) {
  std::vector<RefRow> all;
  for (uint32_t r = 0; r < m.rows; ++r) {
    if (IsExcluded(excluded, r)) continue;
    double sum = 0;
    for (uint32_t d = 0; d < m.dim; ++d) sum += static_cast<double>(query[d]) * m.Row(r)[d];
    all.push_back({sum * m.scales[r], r});
  }
  return SelectTopK(std::move(all), k);
}

std::vector<SimdLevel> RunnableLevels() {
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= static_cast<int>(SupportedSimdLevel()); ++l) {
    levels.push_back(static_cast<SimdLevel>(l));
  }
  return levels;
}

}  // namespace recd::kernels::testing
