// Reader for NumPy .npy headers (format versions 1.0, 2.0 and 3.0). Accepts only what
// `np.save` writes for a C-order 2-D little-endian float32 ('<f4') or float16 ('<f2') array,
// and checks that the file holds exactly the data the header promises. Thread-safe, pure.
// Errors are InvalidArgument messages starting with the display name, e.g.
// "item_embeddings.npy: dtype '>f4' is big-endian; ...".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/tensor.h"

namespace recd::model {

// Reads and validates the header of the file at `path`.
absl::StatusOr<TensorInfo> ReadNpyHeader(const std::string& path, std::string_view display_name);

// The same on bytes in memory: `prefix` is the start of the file (at least the whole header),
// `file_size` its total size. The returned TensorInfo has an empty path.
absl::StatusOr<TensorInfo> ParseNpyHeader(std::string_view prefix, uint64_t file_size,
                                          std::string_view display_name);

}  // namespace recd::model
