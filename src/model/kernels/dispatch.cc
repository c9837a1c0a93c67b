// Run-time dispatch: CPU detection, the RECD_SIMD_LEVEL override, argument checks, and the
// public entry points that route to one KernelTable. Baseline x86-64 code.

#include <cpuid.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "model/kernels/internal.h"
#include "model/kernels/kernels.h"

namespace recd::kernels {
namespace {

using internal::KernelTable;

// XCR0 bits the OS must have enabled before YMM / ZMM registers may be used: SSE and AVX
// state, plus the opmask and both halves of the upper ZMM state for AVX-512.
constexpr uint64_t kXcr0Avx = 0x6;
constexpr uint64_t kXcr0Avx512 = 0xE6;

uint64_t ReadXcr0() {
  uint32_t eax = 0;
  uint32_t edx = 0;
  // xgetbv by opcode-level asm: the _xgetbv intrinsic needs -mxsave on this baseline file.
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// AVX512_VNNI (cpuid leaf 7, ECX bit 11), only meaningful at the AVX-512 level.
bool ProbeVnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  return (ecx >> 11) & 1;
}

SimdLevel ProbeCpu() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return SimdLevel::kScalar;
  __cpuid_count(1, 0, eax, ebx, ecx, edx);
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  const bool fma = (ecx >> 12) & 1;
  if (!osxsave || !avx || !fma) return SimdLevel::kScalar;
  const uint64_t xcr0 = ReadXcr0();
  if ((xcr0 & kXcr0Avx) != kXcr0Avx) return SimdLevel::kScalar;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = (ebx >> 5) & 1;
  if (!avx2) return SimdLevel::kScalar;
  const bool avx512f = (ebx >> 16) & 1;
  const bool avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1;
  const bool avx512vl = (ebx >> 31) & 1;
  if (avx512f && avx512dq && avx512bw && avx512vl && (xcr0 & kXcr0Avx512) == kXcr0Avx512) {
    return SimdLevel::kAvx512;
  }
  return SimdLevel::kAvx2;
}

// Built on first use rather than as a global so that it never depends on the initialisation
// order of kAvx512Table in another file.
const KernelTable& Avx512Table() {
  static const KernelTable table = [] {
    KernelTable t = internal::kAvx512Table;
    if (HasAvx512Vnni()) t.topk_i8_batch = &internal::TopKI8BatchAvx512Vnni;
    return t;
  }();
  return table;
}

const KernelTable& Table(SimdLevel level) {
  const SimdLevel supported = SupportedSimdLevel();
  // Clamping here, not at the callers, means no caller can reach an unsupported ISA.
  const int l = static_cast<int>(level) < static_cast<int>(supported) ? static_cast<int>(level)
                                                                      : static_cast<int>(supported);
  if (l >= static_cast<int>(SimdLevel::kAvx512)) return Avx512Table();
  if (l == static_cast<int>(SimdLevel::kAvx2)) return internal::kAvx2Table;
  return internal::kScalarTable;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "recd::kernels: precondition violated: %s\n", what);
  std::abort();
}

void CheckShape(uint32_t dim, uint32_t stride, uint32_t stride_multiple, uint32_t rows,
                const void* data) {
  if (stride % stride_multiple != 0) Fail("matrix stride is not a multiple of the row block");
  if (stride < dim) Fail("matrix stride is smaller than dim");
  if (dim > kMaxDim) Fail("matrix dim exceeds kMaxDim");
  if (rows > 0 && data == nullptr) Fail("matrix has rows but no data");
}

// O(count), far below the O(rows * dim) scan it guards; an unsorted list would silently
// return excluded items, so it is checked on every call.
void CheckExclusions(const Exclusions& ex) {
  if (ex.count > 0 && ex.rows == nullptr) Fail("exclusions have a count but no rows");
  for (size_t i = 1; i < ex.count; ++i) {
    if (ex.rows[i - 1] >= ex.rows[i]) Fail("exclusions are not strictly ascending");
  }
}

void CheckOut(uint32_t k, const void* out) {
  if (k > 0 && out == nullptr) Fail("k > 0 but no output array");
}

uint32_t PaddedI8(uint32_t dim) { return (dim + 63) / 64 * 64; }

}  // namespace

SimdLevel SupportedSimdLevel() {
  static const SimdLevel level = ProbeCpu();
  return level;
}

bool HasAvx512Vnni() {
  static const bool vnni = SupportedSimdLevel() == SimdLevel::kAvx512 && ProbeVnni();
  return vnni;
}

SimdLevel DetectedSimdLevel() {
  static const SimdLevel level =
      ResolveSimdLevel(std::getenv("RECD_SIMD_LEVEL"), SupportedSimdLevel());
  return level;
}

std::string_view SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

std::optional<SimdLevel> ParseSimdLevel(std::string_view text) {
  if (text == "scalar") return SimdLevel::kScalar;
  if (text == "avx2") return SimdLevel::kAvx2;
  if (text == "avx512") return SimdLevel::kAvx512;
  return std::nullopt;
}

SimdLevel ResolveSimdLevel(const char* env_value, SimdLevel supported) {
  if (env_value == nullptr) return supported;
  const std::optional<SimdLevel> forced = ParseSimdLevel(env_value);
  if (!forced.has_value()) return supported;
  return static_cast<int>(*forced) < static_cast<int>(supported) ? *forced : supported;
}

size_t TopKDotF32(SimdLevel level, const MatrixF32& m, const float* query, uint32_t k,
                  Exclusions ex, ScoredRow* out) {
  CheckShape(m.dim, m.stride, 16, m.rows, m.data);
  CheckExclusions(ex);
  CheckOut(k, out);
  return Table(level).topk_f32(m, query, k, ex, out);
}

size_t TopKDotI8(SimdLevel level, const MatrixI8& m, const float* query, uint32_t k, Exclusions ex,
                 ScoredRow* out) {
  CheckShape(m.dim, m.stride, 64, m.rows, m.data);
  if (m.rows > 0 && m.scales == nullptr) Fail("int8 matrix has rows but no scales");
  CheckExclusions(ex);
  CheckOut(k, out);
  return Table(level).topk_i8(m, query, k, ex, out);
}

void TopKDotF32Batch(SimdLevel level, const MatrixF32& m, const float* const* queries, size_t nq,
                     const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                     size_t* counts) {
  CheckShape(m.dim, m.stride, 16, m.rows, m.data);
  for (size_t q = 0; q < nq; ++q) {
    CheckExclusions(ex[q]);
    CheckOut(ks[q], outs[q]);
  }
  const KernelTable& table = Table(level);
  for (size_t q0 = 0; q0 < nq; q0 += internal::kMaxBatchPass) {
    const size_t n = nq - q0 < internal::kMaxBatchPass ? nq - q0 : internal::kMaxBatchPass;
    table.topk_f32_batch(m, queries + q0, n, ks + q0, ex + q0, outs + q0, counts + q0);
  }
}

void TopKDotI8Batch(SimdLevel level, const MatrixI8& m, const float* const* queries, size_t nq,
                    const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                    size_t* counts) {
  CheckShape(m.dim, m.stride, 64, m.rows, m.data);
  if (m.rows > 0 && m.scales == nullptr) Fail("int8 matrix has rows but no scales");
  for (size_t q = 0; q < nq; ++q) {
    CheckExclusions(ex[q]);
    CheckOut(ks[q], outs[q]);
  }
  // The quantised queries of one pass share a kMaxDim stack buffer.
  size_t per_pass = kMaxDim / PaddedI8(m.dim == 0 ? 1 : m.dim);
  if (per_pass > internal::kMaxBatchPass) per_pass = internal::kMaxBatchPass;
  const KernelTable& table = Table(level);
  for (size_t q0 = 0; q0 < nq; q0 += per_pass) {
    const size_t n = nq - q0 < per_pass ? nq - q0 : per_pass;
    table.topk_i8_batch(m, queries + q0, n, ks + q0, ex + q0, outs + q0, counts + q0);
  }
}

float DotF32(SimdLevel level, const float* a, const float* b, uint32_t n) {
  return Table(level).dot_f32(a, b, n);
}

namespace internal {

uint32_t BatchBlockRows(size_t row_bytes, uint32_t multiple) {
  size_t rows = row_bytes == 0 ? kBatchBlockBytes : kBatchBlockBytes / row_bytes;
  rows -= rows % multiple;
  if (rows < multiple) rows = multiple;
  return static_cast<uint32_t>(rows);
}

}  // namespace internal
}  // namespace recd::kernels
