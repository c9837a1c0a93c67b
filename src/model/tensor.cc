#include "model/tensor.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "model/file_util.h"
#include "model/half.h"

namespace recd::model {
namespace {

// Large enough to amortise syscalls, small enough not to matter next to the matrix.
constexpr uint64_t kChunkBytes = uint64_t{4} << 20;

void Widen(DType dtype, const char* src, uint64_t n, float* dst) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = HalfToFloat(h);
      }
      return;
    case DType::kBF16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = BFloat16ToFloat(h);
      }
      return;
  }
}

}  // namespace

absl::Status ReadTensorAsFloat(const TensorInfo& info, uint64_t stride, float* out) {
  uint64_t size = 0;
  auto fd = OpenInputFile(info.path, info.display_name, &size);
  if (!fd.ok()) return fd.status();
  const uint64_t elem = DTypeSize(info.dtype);
  const uint64_t row_bytes = info.cols * elem;
  if (row_bytes == 0 || info.rows == 0) return absl::OkStatus();
  // Whole rows per chunk so that each chunk widens into consecutive output rows.
  const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkBytes / row_bytes);
  std::vector<char> buf(rows_per_chunk * row_bytes);
  for (uint64_t r0 = 0; r0 < info.rows; r0 += rows_per_chunk) {
    const uint64_t n = std::min(rows_per_chunk, info.rows - r0);
    absl::Status s = PreadExact(fd->get(), buf.data(), n * row_bytes,
                                info.data_offset + r0 * row_bytes, info.display_name);
    if (!s.ok()) return s;
    for (uint64_t i = 0; i < n; ++i) {
      Widen(info.dtype, buf.data() + i * row_bytes, info.cols, out + (r0 + i) * stride);
    }
  }
  return absl::OkStatus();
}

}  // namespace recd::model
