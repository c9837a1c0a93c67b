// Vocabulary shared by the model import, the compiled format and its readers (SPEC 3, 7.7).
// Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace recd::model {

// The numeric values are stored in compiled files: never renumber.
enum class ModelKind : uint32_t { kItemEmbeddings = 1, kIals = 2 };
enum class Metric : uint32_t { kDot = 1, kCosine = 2 };
enum class Precision : uint32_t { kFloat32 = 1, kInt8 = 2 };

// Manifest spellings: "item_embeddings" | "ials", "dot" | "cosine", "float32" | "int8".
std::string_view KindName(ModelKind kind);
std::string_view MetricName(Metric metric);
std::string_view PrecisionName(Precision precision);
std::optional<ModelKind> ParseKind(std::string_view name);
std::optional<Metric> ParseMetric(std::string_view name);
std::optional<Precision> ParsePrecision(std::string_view name);

// Limits of SPEC 7.1 / 7.7 and of the compiled format.
inline constexpr uint32_t kMaxDim = 4096;
inline constexpr uint32_t kMaxIalsDim = 512;
inline constexpr uint32_t kMinHistoryLen = 1;
inline constexpr uint32_t kMaxHistoryLen = 1000;
inline constexpr uint32_t kMaxIdBytes = 128;
// Rows are addressed as uint32 and 0xFFFFFFFF marks an empty hash slot.
inline constexpr uint64_t kMaxRows = uint64_t{1} << 31;
inline constexpr uint32_t kMaxEventWeights = 256;
inline constexpr uint32_t kMaxEventTypeBytes = 32;

// Manifest defaults (documented in docs/formats/model_folder.md).
inline constexpr double kDefaultRegularization = 0.01;  // the `implicit` library's default
inline constexpr double kDefaultAlpha = 1.0;
inline constexpr double kDefaultHalfLifeS = 86400.0;
inline constexpr uint32_t kDefaultHistoryLen = 50;
inline constexpr uint64_t kDefaultMaxModelBytes = uint64_t{256} << 20;
// Float32 models from this many rows carry an int8 prefilter copy (config
// `f32_prefilter_min_rows`): below it the full float32 scan is already cheap.
inline constexpr uint32_t kDefaultPrefilterMinRows = 10'000;

// Float rows are padded to a multiple of 16 floats (64 bytes), int8 rows to 64 bytes, so the
// SIMD kernels can read whole vectors without tails (the recd::kernels layout contract).
inline constexpr uint32_t FloatStride(uint32_t dim) { return (dim + 15u) & ~15u; }
inline constexpr uint32_t Int8Stride(uint32_t dim) { return (dim + 63u) & ~63u; }

// Whether an int8 copy would make a float32 model's scan read fewer bytes: the int8 rows are
// padded to 64 bytes, so up to dim 16 they are as wide as the float32 rows (and the scales
// come on top), and the prefilter would only add work.
inline constexpr bool Int8RowsAreNarrower(uint32_t dim) {
  return Int8Stride(dim) < uint64_t{FloatStride(dim)} * 4;
}

// `[a-z_]{1,32}`: the event type grammar of SPEC 2.
bool IsValidEventType(std::string_view type);

}  // namespace recd::model
