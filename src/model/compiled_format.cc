#include "model/compiled_format.h"

#include <cmath>
#include <string>

#include "model/crc32c.h"
#include "util/strings.h"

namespace recd::model::format {
namespace {

absl::Status Corrupt(std::string_view what) { return absl::DataLossError(util::ToAbsl(what)); }

bool AllZero(const char* p, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

uint32_t HeaderCrc(const char* data, uint64_t table_end) {
  uint32_t crc = Crc32c(data, kHeaderCrcOffset);
  return Crc32cExtend(crc, data + kHeaderSize, table_end - kHeaderSize);
}

// Reads the fixed summary fields; range checks happen in CheckSummary.
Summary DecodeSummary(const char* p) {
  Summary s;
  s.kind = static_cast<ModelKind>(Load<uint32_t>(p + 0));
  s.metric = static_cast<Metric>(Load<uint32_t>(p + 4));
  s.precision = static_cast<Precision>(Load<uint32_t>(p + 8));
  s.dim = Load<uint32_t>(p + 12);
  s.stride = Load<uint32_t>(p + 16);
  s.i8_stride = Load<uint32_t>(p + 20);
  s.rows = Load<uint32_t>(p + 24);
  s.history_len = Load<uint32_t>(p + 28);
  s.alpha = Load<double>(p + 32);
  s.regularization = Load<double>(p + 40);
  s.half_life_s = Load<double>(p + 48);
  s.event_weight_count = Load<uint32_t>(p + 56);
  return s;
}

// The same rules as import (manifest.cc), so a file that maps is a model import could make.
absl::Status CheckSummary(const Summary& s, const char* weights) {
  const uint32_t kind = static_cast<uint32_t>(s.kind);
  const uint32_t metric = static_cast<uint32_t>(s.metric);
  const uint32_t precision = static_cast<uint32_t>(s.precision);
  if (kind < 1 || kind > 2) return Corrupt(util::StrCat("summary: unknown kind ", kind));
  if (metric < 1 || metric > 2) return Corrupt(util::StrCat("summary: unknown metric ", metric));
  if (precision < 1 || precision > 2) {
    return Corrupt(util::StrCat("summary: unknown precision ", precision));
  }
  if (s.dim < 1 || s.dim > kMaxDim) return Corrupt(util::StrCat("summary: dim ", s.dim));
  if (s.stride != FloatStride(s.dim)) return Corrupt("summary: stride does not match dim");
  // An int8 model always carries its int8 copy; a float32 model may (its prefilter).
  if (s.i8_stride != Int8Stride(s.dim) &&
      (s.precision == Precision::kInt8 || s.i8_stride != 0)) {
    return Corrupt("summary: int8 stride does not match dim");
  }
  if (s.rows < 1 || s.rows > kMaxRows) return Corrupt(util::StrCat("summary: rows ", s.rows));
  if (s.history_len < kMinHistoryLen || s.history_len > kMaxHistoryLen) {
    return Corrupt(util::StrCat("summary: history_len ", s.history_len));
  }
  if (!std::isfinite(s.alpha) || s.alpha <= 0) return Corrupt("summary: alpha out of range");
  if (!std::isfinite(s.regularization) || s.regularization < 0) {
    return Corrupt("summary: regularization out of range");
  }
  if (!std::isfinite(s.half_life_s) || s.half_life_s < 0) {
    return Corrupt("summary: half_life_s out of range");
  }
  if (s.kind == ModelKind::kIals && (s.metric != Metric::kDot || s.dim > kMaxIalsDim)) {
    return Corrupt("summary: ials model with cosine metric or dim above 512");
  }
  if (s.event_weight_count > kMaxEventWeights) return Corrupt("summary: too many event weights");
  std::string_view prev;
  for (uint32_t i = 0; i < s.event_weight_count; ++i) {
    const char* e = weights + i * kEventWeightEntrySize;
    const uint32_t len = Load<uint32_t>(e + 32);
    if (len > kMaxEventTypeBytes) return Corrupt("summary: event type name too long");
    std::string_view name(e, len);
    if (!IsValidEventType(name) || !AllZero(e + len, 32 - len) || Load<uint32_t>(e + 36) != 0) {
      return Corrupt("summary: malformed event weight entry");
    }
    if (i > 0 && !(prev < name)) return Corrupt("summary: event weights not sorted or repeated");
    const double w = Load<double>(e + 40);
    if (!std::isfinite(w) || w <= 0) return Corrupt("summary: event weight out of range");
    prev = name;
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view SectionName(SectionType type) {
  switch (type) {
    case SectionType::kSummary:
      return "summary";
    case SectionType::kMatrixF32:
      return "matrix_f32";
    case SectionType::kMatrixI8:
      return "matrix_i8";
    case SectionType::kScalesI8:
      return "scales_i8";
    case SectionType::kIdOffsets:
      return "id_offsets";
    case SectionType::kIdBytes:
      return "id_bytes";
    case SectionType::kIdIndex:
      return "id_index";
    case SectionType::kGram:
      return "gram";
  }
  return "unknown";
}

uint64_t IndexSlotCount(uint64_t rows) { return std::max<uint64_t>(16, std::bit_ceil(rows * 2)); }

uint64_t SummarySize(uint32_t event_weight_count) {
  return kSummaryFixedSize + uint64_t{event_weight_count} * kEventWeightEntrySize;
}

Layout ComputeLayout(const Summary& s, uint64_t id_bytes) {
  const uint64_t rows = s.rows;
  std::vector<std::pair<SectionType, uint64_t>> parts = {
      {SectionType::kSummary, SummarySize(s.event_weight_count)},
      {SectionType::kIdIndex, kIndexHeaderSize + IndexSlotCount(rows) * kIndexSlotSize},
      {SectionType::kIdOffsets, (rows + 1) * 8},
      {SectionType::kIdBytes, id_bytes},
  };
  if (s.kind == ModelKind::kIals) {
    parts.push_back({SectionType::kGram, uint64_t{s.dim} * s.dim * 8});
  }
  const bool int8 = s.i8_stride != 0;
  if (int8) parts.push_back({SectionType::kScalesI8, rows * 4});
  parts.push_back({SectionType::kMatrixF32, rows * s.stride * 4});
  if (int8) parts.push_back({SectionType::kMatrixI8, rows * uint64_t{s.i8_stride}});
  Layout layout;
  layout.table_end = kHeaderSize + parts.size() * kSectionEntrySize;
  uint64_t end = layout.table_end;
  for (auto [type, length] : parts) {
    Section section;
    section.type = type;
    section.offset = AlignUp(end);
    section.length = length;
    end = section.offset + length;
    layout.sections.push_back(section);
  }
  layout.file_size = end;
  return layout;
}

uint32_t FormatVersionFor(const Summary& summary) {
  return summary.precision == Precision::kFloat32 && summary.i8_stride != 0 ? 2 : 1;
}

void EncodeHeader(const Layout& layout, uint32_t version, uint32_t flags, int64_t created_unix_ms,
                  char* out) {
  std::memset(out, 0, layout.table_end);
  std::memcpy(out, kMagic, 8);
  Store<uint32_t>(out + 8, version);
  Store<uint32_t>(out + 12, flags);
  Store<uint64_t>(out + 16, layout.file_size);
  Store<int64_t>(out + 24, created_unix_ms);
  Store<uint32_t>(out + 32, static_cast<uint32_t>(layout.sections.size()));
  char* entry = out + kHeaderSize;
  for (const Section& s : layout.sections) {
    Store<uint32_t>(entry + 0, static_cast<uint32_t>(s.type));
    Store<uint64_t>(entry + 8, s.offset);
    Store<uint64_t>(entry + 16, s.length);
    Store<uint32_t>(entry + 24, s.crc);
    entry += kSectionEntrySize;
  }
  Store<uint32_t>(out + kHeaderCrcOffset, HeaderCrc(out, layout.table_end));
}

void EncodeSummary(const Summary& s, const std::vector<std::pair<std::string, double>>& weights,
                   char* out) {
  std::memset(out, 0, SummarySize(static_cast<uint32_t>(weights.size())));
  Store<uint32_t>(out + 0, static_cast<uint32_t>(s.kind));
  Store<uint32_t>(out + 4, static_cast<uint32_t>(s.metric));
  Store<uint32_t>(out + 8, static_cast<uint32_t>(s.precision));
  Store<uint32_t>(out + 12, s.dim);
  Store<uint32_t>(out + 16, s.stride);
  Store<uint32_t>(out + 20, s.i8_stride);
  Store<uint32_t>(out + 24, s.rows);
  Store<uint32_t>(out + 28, s.history_len);
  Store<double>(out + 32, s.alpha);
  Store<double>(out + 40, s.regularization);
  Store<double>(out + 48, s.half_life_s);
  Store<uint32_t>(out + 56, static_cast<uint32_t>(weights.size()));
  char* e = out + kSummaryFixedSize;
  for (const auto& [name, weight] : weights) {
    std::memcpy(e, name.data(), name.size());
    Store<uint32_t>(e + 32, static_cast<uint32_t>(name.size()));
    Store<double>(e + 40, weight);
    e += kEventWeightEntrySize;
  }
}

absl::StatusOr<ValidatedFile> ValidateFile(const char* data, uint64_t size) {
  if (size < kHeaderSize) {
    return Corrupt(util::StrCat("file is ", size, " bytes, shorter than the header"));
  }
  if (std::memcmp(data, kMagic, 8) != 0) return Corrupt("bad magic (not a compiled recd model)");
  const uint32_t version = Load<uint32_t>(data + 8);
  if (version < kOldestFormatVersion || version > kFormatVersion) {
    return Corrupt(util::StrCat("format version ", version, " is not supported (this recd reads ",
                                kOldestFormatVersion, " to ", kFormatVersion, ")"));
  }
  const uint32_t count = Load<uint32_t>(data + 32);
  if (count < 1 || count > kMaxSections) {
    return Corrupt(util::StrCat("section count ", count, " is out of range"));
  }
  const uint64_t table_end = kHeaderSize + uint64_t{count} * kSectionEntrySize;
  if (table_end > size) return Corrupt("file is truncated inside the section table");
  if (Load<uint32_t>(data + kHeaderCrcOffset) != HeaderCrc(data, table_end)) {
    return Corrupt("header checksum mismatch (header or section table is damaged)");
  }
  if (Load<uint32_t>(data + 36) != 0 || !AllZero(data + 40, 20)) {
    return Corrupt("reserved header bytes are not zero");
  }
  ValidatedFile f;
  f.flags = Load<uint32_t>(data + 12);
  f.created_unix_ms = Load<int64_t>(data + 24);
  const uint64_t file_size = Load<uint64_t>(data + 16);
  if (file_size != size) {
    return Corrupt(util::StrCat("file is ", size, " bytes but its header says ", file_size, ": ",
                                size < file_size ? "truncated" : "extended"));
  }
  if ((f.flags & ~kKnownFlags) != 0) return Corrupt("unknown header flags");

  uint64_t end = table_end;
  for (uint32_t i = 0; i < count; ++i) {
    const char* e = data + kHeaderSize + i * kSectionEntrySize;
    Section s;
    const uint32_t type = Load<uint32_t>(e + 0);
    s.offset = Load<uint64_t>(e + 8);
    s.length = Load<uint64_t>(e + 16);
    s.crc = Load<uint32_t>(e + 24);
    if (type < 1 || type > kMaxSectionType) {
      return Corrupt(util::StrCat("section ", i, " has unknown type ", type));
    }
    s.type = static_cast<SectionType>(type);
    if (f.present[type]) {
      return Corrupt(util::StrCat("section ", SectionName(s.type), " appears twice"));
    }
    if (Load<uint32_t>(e + 4) != 0 || Load<uint32_t>(e + 28) != 0) {
      return Corrupt("reserved section table bytes are not zero");
    }
    // Sections are packed in table order, each at the next 64-byte boundary.
    if (s.offset != AlignUp(end) || s.length > size || s.offset > size - s.length) {
      return Corrupt(util::StrCat("section ", SectionName(s.type),
                                  " is out of bounds or "
                                  "misplaced (offset ",
                                  s.offset, ", length ", s.length, ")"));
    }
    end = s.offset + s.length;
    f.present[type] = true;
    f.sections[type] = s;
    f.table.push_back(s);
  }
  if (end != size) return Corrupt("file does not end where its last section ends");

  if (!f.present[static_cast<uint32_t>(SectionType::kSummary)]) {
    return Corrupt("summary section is missing");
  }
  const Section& sum = f.sections[static_cast<uint32_t>(SectionType::kSummary)];
  if (sum.length < kSummaryFixedSize) return Corrupt("summary section is too short");
  const char* sp = data + sum.offset;
  // The summary is small and everything else is interpreted through it: verify it now.
  if (Crc32c(sp, sum.length) != sum.crc) return Corrupt("summary section checksum mismatch");
  f.summary = DecodeSummary(sp);
  const Summary& s = f.summary;
  if (s.event_weight_count > kMaxEventWeights || sum.length != SummarySize(s.event_weight_count)) {
    return Corrupt("summary section length does not match its event weight count");
  }
  f.event_weights = sp + kSummaryFixedSize;
  if (absl::Status st = CheckSummary(s, f.event_weights); !st.ok()) return st;
  if (Load<uint32_t>(sp + 60) != 0) return Corrupt("summary: reserved bytes are not zero");

  const bool int8 = s.i8_stride != 0;
  const bool gram = s.kind == ModelKind::kIals;
  if (((f.flags & kFlagInt8) != 0) != int8 || ((f.flags & kFlagGram) != 0) != gram) {
    return Corrupt("header flags disagree with the summary");
  }
  const uint64_t rows = s.rows;
  auto expect = [&](SectionType type, bool wanted, uint64_t length) -> absl::Status {
    const auto t = static_cast<uint32_t>(type);
    if (f.present[t] != wanted) {
      return Corrupt(
          util::StrCat("section ", SectionName(type), wanted ? " is missing" : " is unexpected"));
    }
    if (wanted && f.sections[t].length != length) {
      return Corrupt(util::StrCat("section ", SectionName(type), " has length ",
                                  f.sections[t].length, ", expected ", length));
    }
    return absl::OkStatus();
  };
  for (const absl::Status& st : {expect(SectionType::kMatrixF32, true, rows * s.stride * 4),
                                 expect(SectionType::kMatrixI8, int8, rows * s.i8_stride),
                                 expect(SectionType::kScalesI8, int8, rows * 4),
                                 expect(SectionType::kIdOffsets, true, (rows + 1) * 8),
                                 expect(SectionType::kGram, gram, uint64_t{s.dim} * s.dim * 8)}) {
    if (!st.ok()) return st;
  }
  if (!f.present[static_cast<uint32_t>(SectionType::kIdBytes)] ||
      !f.present[static_cast<uint32_t>(SectionType::kIdIndex)]) {
    return Corrupt("id sections are missing");
  }
  const Section& offs = f.sections[static_cast<uint32_t>(SectionType::kIdOffsets)];
  const Section& bytes = f.sections[static_cast<uint32_t>(SectionType::kIdBytes)];
  if (Load<uint64_t>(data + offs.offset) != 0 ||
      Load<uint64_t>(data + offs.offset + rows * 8) != bytes.length ||
      bytes.length > rows * kMaxIdBytes) {
    return Corrupt("id offsets do not match the id bytes section");
  }
  const Section& index = f.sections[static_cast<uint32_t>(SectionType::kIdIndex)];
  if (index.length < kIndexHeaderSize) return Corrupt("id index section is too short");
  f.index_slots = Load<uint64_t>(data + index.offset);
  f.index_seed = Load<uint64_t>(data + index.offset + 8);
  // More slots than rows guarantees an empty slot, so every probe sequence ends.
  if (!std::has_single_bit(f.index_slots) || f.index_slots <= rows ||
      f.index_slots > (index.length - kIndexHeaderSize) / kIndexSlotSize ||
      index.length != kIndexHeaderSize + f.index_slots * kIndexSlotSize) {
    return Corrupt("id index slot count does not match its section");
  }
  return f;
}

absl::Status VerifySections(const char* data, uint64_t size, const std::vector<Section>& table) {
  uint64_t end = kHeaderSize + table.size() * kSectionEntrySize;
  for (const Section& s : table) {
    if (s.offset < end || s.offset > size || s.length > size - s.offset) {
      return Corrupt("section table is inconsistent");
    }
    if (!AllZero(data + end, s.offset - end)) {
      return Corrupt(util::StrCat("padding before section ", SectionName(s.type), " is not zero"));
    }
    const uint32_t crc = Crc32c(data + s.offset, s.length);
    if (crc != s.crc) {
      return Corrupt(util::StrCat("section ", SectionName(s.type), " checksum mismatch (stored ",
                                  s.crc, ", computed ", crc, ")"));
    }
    end = s.offset + s.length;
  }
  return absl::OkStatus();
}

}  // namespace recd::model::format
