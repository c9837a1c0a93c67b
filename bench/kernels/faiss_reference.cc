#include "faiss_reference.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/utils/distances.h>
#include <faiss/utils/utils.h>
#include <omp.h>

#include <vector>

namespace recd::bench {

struct FaissFlat::Impl {
  std::unique_ptr<faiss::Index> index;
};

FaissFlat::FaissFlat(Kind kind, const float* data, uint32_t rows, uint32_t dim, uint32_t stride)
    : impl_(std::make_unique<Impl>()) {
  // FAISS wants contiguous rows; copying also gives it its own memory, as it would own in use.
  std::vector<float> dense(static_cast<size_t>(rows) * dim);
  for (uint32_t r = 0; r < rows; ++r) {
    for (uint32_t d = 0; d < dim; ++d) {
      dense[static_cast<size_t>(r) * dim + d] = data[static_cast<size_t>(r) * stride + d];
    }
  }
  if (kind == Kind::kFlatIP) {
    impl_->index = std::make_unique<faiss::IndexFlatIP>(dim);
  } else {
    auto sq = std::make_unique<faiss::IndexScalarQuantizer>(dim, faiss::ScalarQuantizer::QT_8bit,
                                                            faiss::METRIC_INNER_PRODUCT);
    sq->train(rows, dense.data());
    impl_->index = std::move(sq);
  }
  impl_->index->add(rows, dense.data());
}

FaissFlat::~FaissFlat() = default;

void FaissFlat::Search(const float* queries, uint32_t nq, uint32_t k, float* scores,
                       int64_t* labels) const {
  impl_->index->search(nq, queries, k, scores, labels);
}

void FaissUseOneThread() { omp_set_num_threads(1); }

std::string FaissCompileOptions() { return faiss::get_compile_options(); }

}  // namespace recd::bench
