// Scoring kernels: dot products of a query with every row of an item matrix, fused with a
// top-k that skips excluded rows. Run-time dispatch over scalar, AVX2 and AVX-512 code.
//
// Contracts common to every function here:
// - Thread-safety: all functions are reentrant and lock-free; many threads may score the same
//   matrix concurrently. None allocates, locks or makes a syscall (DetectedSimdLevel() reads
//   the environment once, on its first call).
// - Ownership: inputs are borrowed for the duration of the call; outputs are caller-provided.
// - A `level` above SupportedSimdLevel() is clamped to it, so any value is safe to pass.
// - Broken preconditions (stride not a multiple of 16/64 or < dim, dim > kMaxDim, unsorted
//   exclusions) are programming errors: the process aborts with a message.
// - Stack use is at most ~56 KiB per call (int8 kernels keep quantised queries and, in batch,
//   a transposed row block on the stack); the prefiltered float32 calls take caller scratch.
//
// Results are deterministic: sorted by score descending, ties broken by the lower row index.
// For one level, the batch functions return exactly what the single-query functions return,
// and DotF32(level, query, row, dim) is bit-identical to that row's TopKDotF32 score. The
// int8 scores are bit-identical at every level (integer accumulation of a 16-bit query).

#ifndef RECD_MODEL_KERNELS_KERNELS_H_
#define RECD_MODEL_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "model/kernels/matrix.h"

namespace recd::kernels {

// The best level this CPU and OS support (cpuid + xgetbv), ignoring RECD_SIMD_LEVEL. kAvx2
// needs AVX2 and FMA; kAvx512 also needs AVX-512 F, BW, DQ and VL with ZMM state enabled.
SimdLevel SupportedSimdLevel();

// The level to use: RECD_SIMD_LEVEL (scalar|avx2|avx512) when set and valid, clamped to
// SupportedSimdLevel(); otherwise SupportedSimdLevel(). Computed once, on first call.
SimdLevel DetectedSimdLevel();

// True when the AVX-512 level also has AVX512_VNNI, which its int8 batch kernel then uses
// (same results, fewer instructions). For logs and benchmark setups.
bool HasAvx512Vnni();

// "scalar", "avx2" or "avx512".
std::string_view SimdLevelName(SimdLevel level);

// Parses a RECD_SIMD_LEVEL value ("scalar", "avx2", "avx512"; exact, lower case).
std::optional<SimdLevel> ParseSimdLevel(std::string_view text);

// The policy behind DetectedSimdLevel(), pure for tests: `env_value` (nullptr when unset) is
// parsed and clamped to `supported`; unset or invalid values yield `supported`.
SimdLevel ResolveSimdLevel(const char* env_value, SimdLevel supported);

// Top-k rows of `m` by dot(query, row), skipping `ex`. `query` holds m.stride floats (zero
// beyond m.dim). `out` has room for k entries and doubles as the heap. Returns the number
// written, min(k, number of non-excluded rows); k may exceed m.rows. A NaN score ranks as
// -infinity.
size_t TopKDotF32(SimdLevel level, const MatrixF32& m, const float* query, uint32_t k,
                  Exclusions ex, ScoredRow* out);

// As TopKDotF32 for an int8 matrix; score = scales[r] * dot(query, row r) where the query is
// quantised to 16 bits (relative error ~1e-4 of the largest query element).
size_t TopKDotI8(SimdLevel level, const MatrixI8& m, const float* query, uint32_t k, Exclusions ex,
                 ScoredRow* out);

// `nq` queries against one matrix in one pass over it (each block of rows is scored for all
// queries while it is in cache), so concurrent requests share memory traffic. Query i uses
// ks[i], ex[i] and outs[i] and gets counts[i]; results equal TopKDotF32 for each query.
// Queries beyond 64 (or what the int8 stack scratch holds) are handled in further passes.
void TopKDotF32Batch(SimdLevel level, const MatrixF32& m, const float* const* queries, size_t nq,
                     const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                     size_t* counts);
void TopKDotI8Batch(SimdLevel level, const MatrixI8& m, const float* const* queries, size_t nq,
                    const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                    size_t* counts);

// An int8 copy of a float32 matrix, used only to find candidates for the exact float32
// top-k: `approx` holds QuantizeRowI8 of every row (same rows and dim), `max_scale` the
// largest of its scales and `min_scale` the smallest non-zero one (0 if there is none).
struct F32Prefilter {
  MatrixI8 approx;
  float max_scale;
  float min_scale;
};

// The prefilter view of `approx`, with its scale range read from approx.scales.
F32Prefilter PrefilterOf(const MatrixI8& approx);

// How TopKDotF32Prefiltered settled a query: no int8 scan (k == 0, or k too large for the
// candidate cap), the error bound proved the candidates' answer, or the float32 scan ran after
// the int8 one.
enum class PrefilterOutcome : uint8_t { kSkipped, kProved, kFullScan };

// The scratch entries TopKDotF32Prefiltered needs for `k`: the int8 scan keeps this many
// candidates (4k, at least 64, at most 4096). 0 when k is 0.
uint32_t PrefilterCandidates(uint32_t k);

// TopKDotF32 through the int8 copy: the int8 scan (a quarter of the bytes at dim 64) keeps the
// best PrefilterCandidates(k) rows, their float32 scores are recomputed exactly as the full scan
// computes them (DotF32), and a bound on the quantisation and rounding error proves that no
// other row can reach the k-th score. When that cannot be proved (scores too close together
// for the int8 precision, k of 4096 or more, or magnitudes outside the range where the bound
// holds: see prefilter.cc) the full float32 scan runs instead; k == 0 returns 0 at once.
// Either way the result is TopKDotF32's, bit for bit. `scratch` has room for
// PrefilterCandidates(k) entries; *outcome (may be null) tells which way it went.
size_t TopKDotF32Prefiltered(SimdLevel level, const MatrixF32& m, const F32Prefilter& p,
                             const float* query, uint32_t k, Exclusions ex, ScoredRow* out,
                             ScoredRow* scratch, PrefilterOutcome* outcome);

// The batch form: one int8 batch pass for all queries, then each query as above (the queries
// that need it share one float32 batch pass). scratch[i] has room for
// PrefilterCandidates(ks[i]); outcomes[i] (the array may be null) as above.
void TopKDotF32PrefilteredBatch(SimdLevel level, const MatrixF32& m, const F32Prefilter& p,
                                const float* const* queries, size_t nq, const uint32_t* ks,
                                const Exclusions* ex, ScoredRow* const* outs, size_t* counts,
                                ScoredRow* const* scratch, PrefilterOutcome* outcomes);

// Symmetric per-row quantisation used by the model compiler: *scale = max|row| / 127 and
// out[d] = round(row[d] / *scale), in [-127, 127]; an all-zero row gets scale 0 and zeros.
// Writes exactly `dim` bytes (padding is the caller's). `row` must be finite.
void QuantizeRowI8(const float* row, uint32_t dim, int8_t* out, float* scale);

// dot(a, b) over n floats, any n (no padding needed, no alignment required).
float DotF32(SimdLevel level, const float* a, const float* b, uint32_t n);

}  // namespace recd::kernels

#endif  // RECD_MODEL_KERNELS_KERNELS_H_
