// The compiled model file ("RECDMDL1"), documented field by field in
// docs/formats/compiled_model.md. This header holds the constants, the layout computation
// shared by the writer (compiler.cc) and the reader (compiled_model.cc), and the structural
// validation run at map time. All integers are little-endian; every section starts on a
// 64-byte boundary. Thread-safe, pure.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_types.h"

namespace recd::model::format {

static_assert(std::endian::native == std::endian::little,
              "the compiled model format is little-endian and mapped in place");

inline constexpr char kMagic[8] = {'R', 'E', 'C', 'D', 'M', 'D', 'L', '1'};
// Version 2 added a float32 model's int8 copy (the prefilter of its exact scan); every other
// file is still written as version 1, so a recd that reads only version 1 keeps reading it.
inline constexpr uint32_t kFormatVersion = 2;  // the newest this recd reads and writes
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr uint64_t kAlign = 64;
inline constexpr uint64_t kHeaderSize = 64;
inline constexpr uint64_t kHeaderCrcOffset = 60;
inline constexpr uint64_t kSectionEntrySize = 32;
inline constexpr uint32_t kMaxSections = 16;

// int8 matrix and scales present: the scored copy of a precision-int8 model, or the exact
// scan's prefilter of a float32 one (summary i8_stride != 0 either way).
inline constexpr uint32_t kFlagInt8 = 1u << 0;
inline constexpr uint32_t kFlagGram = 1u << 1;  // Gram matrix present (kind ials)
inline constexpr uint32_t kKnownFlags = kFlagInt8 | kFlagGram;

enum class SectionType : uint32_t {
  kSummary = 1,
  kMatrixF32 = 2,
  kMatrixI8 = 3,
  kScalesI8 = 4,
  kIdOffsets = 5,
  kIdBytes = 6,
  kIdIndex = 7,
  kGram = 8,
};
inline constexpr uint32_t kMaxSectionType = 8;
std::string_view SectionName(SectionType type);

// Summary section: 64 fixed bytes, then one 48-byte entry per event weight.
inline constexpr uint64_t kSummaryFixedSize = 64;
inline constexpr uint64_t kEventWeightEntrySize = 48;
// Id index section: u64 slot count, u64 hash seed, then slots of {u32 row, u32 tag}.
inline constexpr uint64_t kIndexHeaderSize = 16;
inline constexpr uint64_t kIndexSlotSize = 8;
inline constexpr uint32_t kEmptySlot = 0xFFFFFFFFu;

inline uint64_t AlignUp(uint64_t v) { return (v + kAlign - 1) & ~(kAlign - 1); }

// Load factor <= 1/2 keeps linear probes short; at least 16 slots.
uint64_t IndexSlotCount(uint64_t rows);

// The scalar fields of the summary section.
struct Summary {
  ModelKind kind = ModelKind::kItemEmbeddings;
  Metric metric = Metric::kDot;
  Precision precision = Precision::kFloat32;
  uint32_t dim = 0;
  uint32_t stride = 0;     // floats per row of the float32 matrix
  uint32_t i8_stride = 0;  // bytes per row of the int8 copy; 0 without one (float32 only)
  uint32_t rows = 0;
  uint32_t history_len = 0;
  double alpha = 0;
  double regularization = 0;
  double half_life_s = 0;
  uint32_t event_weight_count = 0;
};

struct Section {
  SectionType type = SectionType::kSummary;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
};

// Where every section goes, for a model with these properties. Sections are packed in the
// order summary, id index, id offsets, id bytes, gram, int8 scales, float32 matrix, int8
// matrix, each at the next 64-byte boundary; the file ends where the last section ends.
struct Layout {
  std::vector<Section> sections;  // crc left 0
  uint64_t table_end = 0;         // end of header + section table
  uint64_t file_size = 0;
};
Layout ComputeLayout(const Summary& summary, uint64_t id_bytes);

// Little-endian field access (the host is little-endian, see the static_assert).
template <typename T>
inline T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// The version a file with this summary is written as: 2 for a float32 model with an int8
// copy, 1 otherwise, so that a reader of version 1 only refuses what it cannot use. This
// reader takes either version for any content (the layout rules are the same; one earlier
// build, 9aa855c, wrote such copies as version 1).
uint32_t FormatVersionFor(const Summary& summary);

// Encodes header + section table into `out` (layout.table_end bytes), checksum included.
void EncodeHeader(const Layout& layout, uint32_t version, uint32_t flags, int64_t created_unix_ms,
                  char* out);
// Encodes the summary section (SummarySize bytes); `weights` sorted by name.
uint64_t SummarySize(uint32_t event_weight_count);
void EncodeSummary(const Summary& summary,
                   const std::vector<std::pair<std::string, double>>& weights, char* out);

// What map-time validation establishes about a file, with each section located.
struct ValidatedFile {
  uint32_t flags = 0;
  int64_t created_unix_ms = 0;
  Summary summary;
  const char* event_weights = nullptr;         // summary.event_weight_count entries
  Section sections[kMaxSectionType + 1] = {};  // by type; length 0 = absent
  bool present[kMaxSectionType + 1] = {};
  std::vector<Section> table;  // in file order, for the data checksum
  uint64_t index_slots = 0;
  uint64_t index_seed = 0;
};

// Checks magic, version, flags, header+table checksum, file size, every section's bounds,
// alignment, packing and expected length, and the summary (its checksum and every field).
// O(1) in the catalogue size: section data other than the summary is not read, except the
// first and last id offsets. `data` is the whole file. Errors are DataLoss naming the problem.
absl::StatusOr<ValidatedFile> ValidateFile(const char* data, uint64_t size);

// Verifies every section's CRC-32C and that the padding between sections is zero.
absl::Status VerifySections(const char* data, uint64_t size, const std::vector<Section>& table);

}  // namespace recd::model::format
