#include "model/compiled_model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "model/crc32c.h"
#include "model/file_util.h"
#include "model/hash.h"
#include "util/log.h"
#include "util/strings.h"

namespace recd::model {
namespace {

using format::Load;
using format::SectionType;

constexpr uint32_t T(SectionType type) { return static_cast<uint32_t>(type); }

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledModel>> CompiledModel::Map(const std::string& path,
                                                                        const MapOptions& options) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT)
      return absl::NotFoundError(util::StrCat("model file ", path, " not found"));
    return IoError("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("fstat", path, errno);
  if (!S_ISREG(st.st_mode))
    return absl::DataLossError(util::StrCat("model file ", path, ": not a regular file"));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < format::kHeaderSize) {
    return absl::DataLossError(
        util::StrCat("model file ", path, ": file is ", size, " bytes, shorter than the header"));
  }
  const int flags = MAP_SHARED | (options.populate ? MAP_POPULATE : 0);
  void* base = ::mmap(nullptr, size, PROT_READ, flags, fd.get(), 0);
  if (base == MAP_FAILED) return IoError("mmap", path, errno);
  // The mapping keeps the file open on its own; the descriptor is not needed any more.
  std::shared_ptr<CompiledModel> m(new CompiledModel());
  m->path_ = path;
  m->base_ = static_cast<const char*>(base);
  m->size_ = size;

  absl::StatusOr<format::ValidatedFile> v = format::ValidateFile(m->base_, size);
  if (!v.ok()) {
    return absl::DataLossError(util::StrCat("model file ", path, ": ", v.status().message()));
  }
  m->created_unix_ms_ = v->created_unix_ms;
  m->summary_ = v->summary;
  m->table_ = std::move(v->table);
  m->event_weights_ = v->event_weights;
  auto at = [&](SectionType t) -> const char* {
    return v->present[T(t)] ? m->base_ + v->sections[T(t)].offset : nullptr;
  };
  // Sections start on 64-byte boundaries of a page-aligned mapping, so these casts are to
  // properly aligned addresses.
  m->matrix_ = reinterpret_cast<const float*>(at(SectionType::kMatrixF32));
  m->matrix_i8_ = reinterpret_cast<const int8_t*>(at(SectionType::kMatrixI8));
  m->scales_i8_ = reinterpret_cast<const float*>(at(SectionType::kScalesI8));
  m->gram_ = reinterpret_cast<const double*>(at(SectionType::kGram));
  m->id_offsets_ = at(SectionType::kIdOffsets);
  m->id_bytes_ = at(SectionType::kIdBytes);
  m->id_bytes_len_ = v->sections[T(SectionType::kIdBytes)].length;
  m->index_slots_ = at(SectionType::kIdIndex) + format::kIndexHeaderSize;
  m->index_mask_ = v->index_slots - 1;
  m->index_seed_ = v->index_seed;

  if (options.populate) ::madvise(base, size, MADV_WILLNEED);
  if (options.lock) {
    if (::mlock(base, size) == 0) {
      m->locked_ = true;
    } else {
      // SPEC 7.7: a model that cannot be locked is still served, from the page cache.
      RECD_LOG(Warning) << "mlock of model file " << path << " (" << size
                        << " bytes) failed: " << std::strerror(errno)
                        << "; serving it unlocked (raise LimitMEMLOCK / RLIMIT_MEMLOCK)";
    }
  }
  return std::shared_ptr<const CompiledModel>(std::move(m));
}

CompiledModel::~CompiledModel() {
  if (base_ != nullptr) {
    // munmap also drops the lock; no separate munlock needed.
    ::munmap(const_cast<char*>(base_), size_);
  }
}

double CompiledModel::EventWeight(std::string_view type) const {
  // Entries are sorted by name (checked at map time): binary search, no allocation.
  uint32_t lo = 0;
  uint32_t hi = summary_.event_weight_count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    auto [name, weight] = EventWeightAt(mid);
    if (name == type) return weight;
    if (name < type) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return 1.0;
}

std::pair<std::string_view, double> CompiledModel::EventWeightAt(uint32_t i) const {
  if (i >= summary_.event_weight_count) return {std::string_view(), 1.0};
  const char* e = event_weights_ + uint64_t{i} * format::kEventWeightEntrySize;
  return {std::string_view(e, Load<uint32_t>(e + 32)), Load<double>(e + 40)};
}

std::string_view CompiledModel::ItemId(uint32_t row) const {
  if (row >= summary_.rows) return {};
  const uint64_t begin = Load<uint64_t>(id_offsets_ + uint64_t{row} * 8);
  const uint64_t end = Load<uint64_t>(id_offsets_ + uint64_t{row} * 8 + 8);
  if (begin > end || end > id_bytes_len_) return {};
  return std::string_view(id_bytes_ + begin, end - begin);
}

std::optional<uint32_t> CompiledModel::FindRow(std::string_view id) const {
  if (id.empty() || id.size() > kMaxIdBytes) return std::nullopt;
  const uint64_t h = Hash64(id, index_seed_);
  const auto tag = static_cast<uint32_t>(h >> 32);
  uint64_t i = h & index_mask_;
  // Bounded by the slot count, so even a damaged (full) table cannot loop forever.
  for (uint64_t probes = 0; probes <= index_mask_; ++probes) {
    const char* slot = index_slots_ + i * format::kIndexSlotSize;
    const uint32_t row = Load<uint32_t>(slot);
    if (row == format::kEmptySlot) return std::nullopt;
    // ItemId is empty for an out-of-range row, and `id` is never empty: no match.
    if (Load<uint32_t>(slot + 4) == tag && ItemId(row) == id) return row;
    i = (i + 1) & index_mask_;
  }
  return std::nullopt;
}

absl::Status CompiledModel::VerifySectionChecksum(format::SectionType type) const {
  for (const format::Section& section : table_) {
    if (section.type != type) continue;
    const uint32_t crc = Crc32c(base_ + section.offset, section.length);
    if (crc != section.crc) {
      return absl::DataLossError(util::StrCat("model file ", path_, ": section ",
                                              format::SectionName(type), " checksum mismatch"));
    }
  }
  return absl::OkStatus();
}

absl::Status CompiledModel::VerifyDataChecksum() const {
  absl::Status s = format::VerifySections(base_, size_, table_);
  if (!s.ok()) return absl::DataLossError(util::StrCat("model file ", path_, ": ", s.message()));
  return absl::OkStatus();
}

}  // namespace recd::model
