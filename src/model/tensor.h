// A 2-D floating-point tensor inside a file (.npy or .safetensors), located by its header,
// and the one routine that reads it into float32 rows. Thread-compatible (plain values).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace recd::model {

enum class DType { kF32, kF16, kBF16 };

// Bytes per element.
inline uint32_t DTypeSize(DType t) { return t == DType::kF32 ? 4 : 2; }

struct TensorInfo {
  std::string path;          // file to read
  std::string display_name;  // file name used in messages, e.g. "item_embeddings.npy"
  DType dtype = DType::kF32;
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t data_offset = 0;  // byte offset of element [0, 0]; elements are C order, LE
};

// Reads the whole tensor, widening f16/bf16 exactly, into `out`: row r starts at
// out + r * stride (stride >= cols). Padding floats are left as they are (callers zero them).
// Reads in bounded chunks, so memory beyond `out` stays small. Does not check values.
// Errors: InvalidArgument if the file is shorter than the header promised, Internal on I/O.
absl::Status ReadTensorAsFloat(const TensorInfo& info, uint64_t stride, float* out);

}  // namespace recd::model
