// Loading and validating a model folder (manifest.json, items.txt, item_embeddings.npy or
// .safetensors; docs/formats/model_folder.md) into memory, ready to compile. Import and
// `recd model check` share this code, so they refuse the same models with the same messages.
// Thread-safe (no shared state); runs on a background thread, never on an I/O thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/aligned_buffer.h"
#include "model/compiled_format.h"
#include "model/items_reader.h"
#include "model/manifest.h"
#include "model/model_types.h"

namespace recd::model {

struct ImportOptions {
  // Upper bound on the compiled file (the tier's max_model_bytes). Above it: too_large.
  uint64_t max_model_bytes = kDefaultMaxModelBytes;
  // Upper bound on the bytes a tar archive may extract to; 0 means 2 * max_model_bytes + 1 MiB
  // (float16 inputs are half the compiled matrix, ids add newlines).
  uint64_t max_archive_bytes = 0;
  // Float32 models of at least this many rows also carry an int8 copy of their matrix, the
  // prefilter of the exact float32 scan (docs/ARCHITECTURE.md, "Float32 through an int8
  // prefilter"), unless it would take the file above max_model_bytes or dim is 16 or less
  // (Int8RowsAreNarrower). 0: never. The default
  // is the daemon's (`f32_prefilter_min_rows`), so `recd model check` sizes files alike.
  uint32_t prefilter_min_rows = kDefaultPrefilterMinRows;
  // Seed of the id index hash; nullopt draws a random one per import, so that a crafted
  // catalogue cannot aim for collisions. Tests pin it.
  std::optional<uint64_t> hash_seed;
};

// A validated model in memory. Move-only (owns the matrix).
struct LoadedModel {
  Manifest manifest;
  uint32_t rows = 0;
  uint32_t stride = 0;          // FloatStride(dim)
  AlignedBuffer<float> matrix;  // rows * stride floats, padding zero, unit (or zero) cosine rows
  ItemIds ids;
  bool int8_copy = false;       // the file carries an int8 copy (always for precision int8)
  uint64_t compiled_bytes = 0;  // size of the compiled file this model makes

  const float* Row(uint32_t r) const { return matrix.data() + uint64_t{r} * stride; }
};

// Reads and validates the folder. Errors: InvalidArgument naming the file and the problem
// (e.g. `item_embeddings.npy: shape [100, 32] but manifest dim is 64`); too_large
// (ResourceExhausted) when the compiled model would exceed options.max_model_bytes;
// Internal on I/O failures. Peak memory is about the compiled size.
absl::StatusOr<LoadedModel> LoadModelFolder(const std::string& folder,
                                            const ImportOptions& options);

// What a successful check found, for `recd model check FOLDER`.
struct CheckResult {
  ModelKind kind = ModelKind::kItemEmbeddings;
  Metric metric = Metric::kDot;
  Precision precision = Precision::kFloat32;
  uint32_t dim = 0;
  uint32_t items = 0;
  uint64_t compiled_bytes = 0;
  bool f32_prefilter_copy = false;  // a float32 model whose file would carry an int8 copy
};

// The summary section a model with this manifest and row count compiles to; `int8_copy` adds
// the int8 copy to a float32 model (precision int8 always has one).
format::Summary SummaryOf(const Manifest& manifest, uint32_t rows, bool int8_copy);

// The same validation as import, with the same messages, writing nothing.
absl::Status CheckModelFolder(const std::string& folder, const ImportOptions& options,
                              CheckResult* result = nullptr);

}  // namespace recd::model
