// Reader for safetensors headers: an 8-byte little-endian header length, a JSON header
// {"<name>": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}, then the data.
// Picks one 2-D F32 / F16 / BF16 tensor; checks that the tensors tile the data area exactly
// (so truncated and extended files are refused). Thread-safe, pure. Errors are
// InvalidArgument messages starting with the display name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/tensor.h"

namespace recd::model {

// `tensor_name`: the tensor to use; nullopt means "the only tensor in the file".
absl::StatusOr<TensorInfo> ReadSafetensorsHeader(const std::string& path,
                                                 std::string_view display_name,
                                                 const std::optional<std::string>& tensor_name);

// The same on bytes in memory (`prefix` holds at least the 8-byte length and the header).
absl::StatusOr<TensorInfo> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size,
                                                  std::string_view display_name,
                                                  const std::optional<std::string>& tensor_name);

}  // namespace recd::model
