// manifest.json of a model folder (SPEC 3 and 7.7; docs/formats/model_folder.md), parsed with
// simdjson's on-demand API. Every field is checked for type and range, unknown fields are
// refused by name. Thread-safe, pure. Errors are InvalidArgument messages starting with
// "manifest.json: ".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_types.h"

namespace recd::model {

struct Manifest {
  ModelKind kind = ModelKind::kItemEmbeddings;
  Metric metric = Metric::kDot;
  uint32_t dim = 0;
  std::string items_file;             // plain file name inside the folder
  std::string embeddings_file;        // plain file name ending in .npy or .safetensors
  std::optional<std::string> tensor;  // safetensors tensor name
  double regularization = kDefaultRegularization;
  double alpha = kDefaultAlpha;
  // Sorted by type name, unique.
  std::vector<std::pair<std::string, double>> event_weights;
  Precision precision = Precision::kFloat32;
  double half_life_s = kDefaultHalfLifeS;
  uint32_t history_len = kDefaultHistoryLen;

  bool embeddings_are_safetensors() const;
};

inline constexpr uint64_t kMaxManifestBytes = uint64_t{1} << 20;

absl::StatusOr<Manifest> ParseManifest(std::string_view json);

// A name that stays inside the folder: non-empty, at most 255 bytes, no '/', NUL or control
// characters, not "." or "..".
bool IsPlainFileName(std::string_view name);

}  // namespace recd::model
