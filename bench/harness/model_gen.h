// Synthetic models for the harness's own tenants: items "i1".."iN" with clustered random
// embeddings (so that similar items and personal recommendations have structure), saved in
// recd's model folder format (SPEC 3: manifest.json, items.txt, item_embeddings.npy float32)
// and packed as an uncompressed ustar archive for `PUT /v1/admin/tenants/{id}/models/{v}`.
// Pure functions (the folder writer touches only the folder it is given); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace recd::bench {

struct ModelShape {
  int64_t items = 1000;
  int dim = 32;
  std::string kind = "item_embeddings";
  std::string metric = "dot";
  std::string precision = "float32";
  uint64_t seed = 1;  // a different seed is a different model of the same shape
};

struct ModelFiles {
  std::string manifest_json;
  std::string items_txt;
  std::string embeddings_npy;
};

// A NumPy .npy (format 1.0) file holding a little-endian float32 C-order [rows, cols] matrix.
std::string NpyFloat32(const std::vector<float>& values, int64_t rows, int64_t cols);

ModelFiles GenerateModel(const ModelShape& shape);

// Writes the three files into `dir` (which must exist) and returns them packed as a tar archive
// read back from the folder, so what is uploaded is what a person would find there.
absl::StatusOr<std::string> WriteModelFolderAndPack(const ModelFiles& files,
                                                    const std::string& dir);

// A new private temporary folder (mkdtemp under $TMPDIR or /tmp), and its recursive removal.
absl::StatusOr<std::string> MakeTempDir(std::string_view prefix);
void RemoveTree(const std::string& dir);

}  // namespace recd::bench
