#include "model/model_folder.h"

#include <sys/stat.h>

#include <cmath>

#include "model/compiled_format.h"
#include "model/file_util.h"
#include "model/json_util.h"
#include "model/npy_reader.h"
#include "model/safetensors_reader.h"
#include "recd/status.h"
#include "util/strings.h"

namespace recd::model {

format::Summary SummaryOf(const Manifest& m, uint32_t rows, bool int8_copy) {
  format::Summary s;
  s.kind = m.kind;
  s.metric = m.metric;
  s.precision = m.precision;
  s.dim = m.dim;
  s.stride = FloatStride(m.dim);
  s.i8_stride = m.precision == Precision::kInt8 || int8_copy ? Int8Stride(m.dim) : 0;
  s.rows = rows;
  s.history_len = m.history_len;
  s.alpha = m.alpha;
  s.regularization = m.regularization;
  s.half_life_s = m.half_life_s;
  s.event_weight_count = static_cast<uint32_t>(m.event_weights.size());
  return s;
}

namespace {

absl::Status CheckSize(uint64_t bytes, uint64_t limit, bool lower_bound) {
  if (bytes <= limit) return absl::OkStatus();
  return TooLargeError(util::StrCat("model would compile to ", lower_bound ? "at least " : "",
                                    bytes, " bytes, above the limit of ", limit,
                                    " bytes (max_model_bytes)"));
}

// Finite values, and unit rows for cosine (a zero row has no direction to keep).
absl::Status CheckAndNormalize(LoadedModel* m, std::string_view file) {
  const uint32_t dim = m->manifest.dim;
  for (uint32_t r = 0; r < m->rows; ++r) {
    float* row = m->matrix.data() + uint64_t{r} * m->stride;
    double sum_sq = 0;
    for (uint32_t c = 0; c < dim; ++c) {
      if (!std::isfinite(row[c])) {
        return absl::InvalidArgumentError(
            util::StrCat(file, ": row ", r, " (item ", json_internal::Quote(m->ids.Id(r)),
                         ") column ", c, " is ", std::isnan(row[c]) ? "NaN" : "infinite"));
      }
      sum_sq += double{row[c]} * double{row[c]};
    }
    // An all-zero row (an item without a vector) has no direction: it stays zero and scores 0,
    // as numpy/sklearn normalisers leave it.
    if (m->manifest.metric != Metric::kCosine || sum_sq == 0) continue;
    const double inv = 1.0 / std::sqrt(sum_sq);
    for (uint32_t c = 0; c < dim; ++c) row[c] = static_cast<float>(double{row[c]} * inv);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadedModel> LoadModelFolder(const std::string& folder,
                                            const ImportOptions& options) {
  struct stat st;
  if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(util::StrCat("model folder ", folder, " is not a directory"));
  }
  LoadedModel m;
  RECD_ASSIGN_OR_RETURN(
      std::string manifest_text,
      ReadInputFile(folder + "/manifest.json", "manifest.json", kMaxManifestBytes));
  RECD_ASSIGN_OR_RETURN(m.manifest, ParseManifest(manifest_text));
  const Manifest& man = m.manifest;
  const std::string& file = man.embeddings_file;

  // Headers first: shapes and sizes are checked before anything large is read.
  absl::StatusOr<TensorInfo> tensor =
      man.embeddings_are_safetensors()
          ? ReadSafetensorsHeader(folder + "/" + file, file, man.tensor)
          : ReadNpyHeader(folder + "/" + file, file);
  if (!tensor.ok()) return tensor.status();
  if (tensor->cols != man.dim) {
    return absl::InvalidArgumentError(util::StrCat(
        file, ": shape [", tensor->rows, ", ", tensor->cols, "] but manifest dim is ", man.dim));
  }
  if (tensor->rows == 0) {
    return absl::InvalidArgumentError(util::StrCat(file,
                                                   ": matrix has 0 rows; a model needs at "
                                                   "least one item"));
  }
  m.rows = static_cast<uint32_t>(tensor->rows);  // <= kMaxRows, checked by the readers
  m.stride = FloatStride(man.dim);
  // The smallest file this model can make (a float32 model's int8 copy is optional).
  RECD_RETURN_IF_ERROR(CheckSize(format::ComputeLayout(SummaryOf(man, m.rows, false), 0).file_size,
                                 options.max_model_bytes, /*lower_bound=*/true));

  // Each line adds at least one id byte to the compiled file, plus its newline.
  RECD_ASSIGN_OR_RETURN(std::string items_text,
                        ReadInputFile(folder + "/" + man.items_file, man.items_file,
                                      options.max_model_bytes + m.rows + 1));
  RECD_ASSIGN_OR_RETURN(m.ids, ParseItems(items_text, man.items_file));
  items_text = std::string();
  if (m.ids.count() != m.rows) {
    return absl::InvalidArgumentError(util::StrCat(man.items_file, " has ", m.ids.count(),
                                                   " ids but ", file, " has ", m.rows, " rows"));
  }
  auto file_size = [&](bool int8_copy) {
    return format::ComputeLayout(SummaryOf(man, m.rows, int8_copy), m.ids.bytes.size()).file_size;
  };
  m.int8_copy = man.precision == Precision::kInt8 ||
                (options.prefilter_min_rows > 0 && m.rows >= options.prefilter_min_rows &&
                 Int8RowsAreNarrower(man.dim) && file_size(true) <= options.max_model_bytes);
  m.compiled_bytes = file_size(m.int8_copy);
  RECD_RETURN_IF_ERROR(CheckSize(m.compiled_bytes, options.max_model_bytes, false));

  m.matrix = AlignedBuffer<float>::Allocate(uint64_t{m.rows} * m.stride);
  if (m.matrix.data() == nullptr) {
    return absl::UnavailableError(util::StrCat("cannot allocate ", uint64_t{m.rows} * m.stride * 4,
                                               " bytes for the item matrix"));
  }
  RECD_RETURN_IF_ERROR(ReadTensorAsFloat(*tensor, m.stride, m.matrix.data()));
  RECD_RETURN_IF_ERROR(CheckAndNormalize(&m, file));
  return m;
}

absl::Status CheckModelFolder(const std::string& folder, const ImportOptions& options,
                              CheckResult* result) {
  RECD_ASSIGN_OR_RETURN(LoadedModel m, LoadModelFolder(folder, options));
  if (result != nullptr) {
    result->kind = m.manifest.kind;
    result->metric = m.manifest.metric;
    result->precision = m.manifest.precision;
    result->dim = m.manifest.dim;
    result->items = m.rows;
    result->compiled_bytes = m.compiled_bytes;
    result->f32_prefilter_copy = m.manifest.precision == Precision::kFloat32 && m.int8_copy;
  }
  return absl::OkStatus();
}

}  // namespace recd::model
