// A compiled model file mapped read-only into memory (SPEC 7.7; docs/formats/compiled_model.md).
//
// Map() validates the header, the section table checksum, the summary and every section's
// bounds, alignment and length, without reading the catalogue-sized data, and allocates
// nothing proportional to the catalogue: ids are found through the hash index stored in the
// file. The full data checksum is VerifyDataChecksum(), run at import and by a scrub.
//
// Ownership: the object owns the mapping and unmaps it when the last shared_ptr goes, so a
// request that holds the model keeps its memory valid. Files are immutable once written;
// truncating a mapped file from outside would fault readers (SIGBUS), which is why the
// repository only ever creates and unlinks them.
// Thread-safety: immutable after Map(); every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/compiled_format.h"
#include "model/model_types.h"

namespace recd::model {

struct MapOptions {
  bool populate = false;  // pre-fault every page now (MAP_POPULATE + MADV_WILLNEED)
  bool lock = false;      // mlock the mapping; on failure the model is served unlocked
};

class CompiledModel {
 public:
  // Errors: NotFound if `path` does not exist; DataLoss "model file <path>: <problem>" for a
  // damaged, truncated or extended file; Internal/Unavailable for other I/O failures.
  // A failed mlock is not an error: locked() is false and a warning is logged.
  static absl::StatusOr<std::shared_ptr<const CompiledModel>> Map(const std::string& path,
                                                                  const MapOptions& options = {});

  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;
  ~CompiledModel();

  ModelKind kind() const { return summary_.kind; }
  Metric metric() const { return summary_.metric; }
  Precision precision() const { return summary_.precision; }
  uint32_t dim() const { return summary_.dim; }
  uint32_t stride() const { return summary_.stride; }        // floats per float32 row (x16)
  uint32_t i8_stride() const { return summary_.i8_stride; }  // bytes per int8 row (x64), or 0
  uint32_t rows() const { return summary_.rows; }
  double alpha() const { return summary_.alpha; }
  double regularization() const { return summary_.regularization; }
  double half_life_s() const { return summary_.half_life_s; }
  uint32_t history_len() const { return summary_.history_len; }
  int64_t created_unix_ms() const { return created_unix_ms_; }

  // The manifest's weight for an event type; 1 for types it does not name.
  double EventWeight(std::string_view type) const;
  uint32_t event_weight_count() const { return summary_.event_weight_count; }
  std::pair<std::string_view, double> EventWeightAt(uint32_t i) const;

  // rows() x stride() floats, row-major, 64-byte aligned, padding zero; unit rows for cosine
  // (except all-zero rows, which stay zero).
  const float* matrix() const { return matrix_; }
  const float* Row(uint32_t row) const { return matrix_ + uint64_t{row} * summary_.stride; }
  // rows() x i8_stride() int8 values and rows() scales (x ~= scale * q); null without an int8
  // copy. precision() kInt8 always has one and scores it; a float32 model may carry one as
  // the prefilter of its exact scan.
  const int8_t* matrix_i8() const { return matrix_i8_; }
  const float* scales_i8() const { return scales_i8_; }
  // dim() x dim() float64, G = Y^T Y + regularization * I (symmetric); null unless kIals.
  const double* gram() const { return gram_; }

  // The id of `row`; empty if row >= rows() (or if the file's data is damaged: accessors never
  // read outside the mapping, whatever the bytes say).
  std::string_view ItemId(uint32_t row) const;
  // The row of `id` by hash lookup; allocation-free.
  std::optional<uint32_t> FindRow(std::string_view id) const;

  uint64_t file_bytes() const { return size_; }
  const std::string& path() const { return path_; }
  bool locked() const { return locked_; }

  // Recomputes every section's CRC-32C and checks the padding. Reads the whole file.
  // Errors: DataLoss naming the damaged section.
  absl::Status VerifyDataChecksum() const;
  // The same for one section (OK if the file has none of that type); reads only it.
  absl::Status VerifySectionChecksum(format::SectionType type) const;

 private:
  CompiledModel() = default;

  std::string path_;
  const char* base_ = nullptr;
  uint64_t size_ = 0;
  bool locked_ = false;
  int64_t created_unix_ms_ = 0;
  format::Summary summary_;
  std::vector<format::Section> table_;  // at most kMaxSections entries
  const char* event_weights_ = nullptr;
  const float* matrix_ = nullptr;
  const int8_t* matrix_i8_ = nullptr;
  const float* scales_i8_ = nullptr;
  const double* gram_ = nullptr;
  const char* id_offsets_ = nullptr;
  const char* id_bytes_ = nullptr;
  uint64_t id_bytes_len_ = 0;
  const char* index_slots_ = nullptr;
  uint64_t index_mask_ = 0;
  uint64_t index_seed_ = 0;
};

}  // namespace recd::model
