#include "model/compiler.h"

#include <fcntl.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cerrno>
#include <random>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"
#include "model/compiled_format.h"
#include "model/compiled_model.h"
#include "model/crc32c.h"
#include "model/file_util.h"
#include "model/hash.h"
#include "model/kernels/kernels.h"
#include "recd/status.h"
#include "util/log.h"
#include "util/strings.h"

namespace recd::model {
namespace {

using format::Section;
using format::SectionType;

// Rows of Y converted to float64 per rank update: big enough for Eigen's blocked kernels,
// small enough (512 x 512 doubles = 2 MiB) to stay out of the way.
constexpr uint32_t kGramBlockRows = 512;

// G = Y^T Y + lambda I, accumulated in float64 (SPEC 7.1) with Eigen's symmetric rank
// update, which does half the work of a general product. Column-major, and symmetric, so it
// is also the row-major matrix the format stores.
std::vector<double> ComputeGram(const LoadedModel& m) {
  const uint32_t dim = m.manifest.dim;
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(dim, dim);
  Eigen::MatrixXd block(dim, kGramBlockRows);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += kGramBlockRows) {
    const uint32_t n = std::min(kGramBlockRows, m.rows - r0);
    for (uint32_t i = 0; i < n; ++i) {
      const float* row = m.Row(r0 + i);
      for (uint32_t c = 0; c < dim; ++c) block(c, i) = row[c];
    }
    gram.selfadjointView<Eigen::Lower>().rankUpdate(block.leftCols(n));
  }
  // Mirror the lower triangle so the stored matrix is exactly symmetric.
  for (uint32_t c = 0; c < dim; ++c) {
    for (uint32_t r = 0; r < c; ++r) gram(r, c) = gram(c, r);
    gram(c, c) += m.manifest.regularization;
  }
  return std::vector<double>(gram.data(), gram.data() + uint64_t{dim} * dim);
}

// Open addressing with linear probing; a slot is {u32 row, u32 upper hash bits}, so most
// probes that miss are decided without touching the id bytes.
std::vector<char> BuildIndex(const ItemIds& ids, uint32_t rows, uint64_t seed) {
  const uint64_t slots = format::IndexSlotCount(rows);
  std::vector<char> out(format::kIndexHeaderSize + slots * format::kIndexSlotSize);
  format::Store<uint64_t>(out.data(), slots);
  format::Store<uint64_t>(out.data() + 8, seed);
  char* table = out.data() + format::kIndexHeaderSize;
  for (uint64_t i = 0; i < slots; ++i) {
    format::Store<uint32_t>(table + i * format::kIndexSlotSize, format::kEmptySlot);
  }
  const uint64_t mask = slots - 1;
  for (uint32_t r = 0; r < rows; ++r) {
    const uint64_t h = Hash64(ids.Id(r), seed);
    uint64_t i = h & mask;
    while (format::Load<uint32_t>(table + i * format::kIndexSlotSize) != format::kEmptySlot) {
      i = (i + 1) & mask;
    }
    format::Store<uint32_t>(table + i * format::kIndexSlotSize, r);
    format::Store<uint32_t>(table + i * format::kIndexSlotSize + 4, static_cast<uint32_t>(h >> 32));
  }
  return out;
}

class FileWriter {
 public:
  FileWriter(int fd, const std::string& path) : fd_(fd), path_(path) {}

  // Writes one section's bytes at its offset and records their checksum.
  absl::Status Write(Section* section, const void* data, uint64_t n) {
    RECD_CHECK(n == section->length) << format::SectionName(section->type) << " is " << n
                                     << " bytes, layout says " << section->length;
    section->crc = Crc32c(data, n);
    return PwriteAll(fd_, data, n, section->offset, path_);
  }

 private:
  int fd_;
  const std::string& path_;
};

absl::Status WriteSections(const LoadedModel& m, const CompileOptions& options,
                           format::Layout* layout, int fd, const std::string& path) {
  FileWriter w(fd, path);
  const Manifest& man = m.manifest;
  const format::Summary summary = SummaryOf(man, m.rows, m.int8_copy);
  for (Section& s : layout->sections) {
    switch (s.type) {
      case SectionType::kSummary: {
        std::vector<char> buf(s.length);
        format::EncodeSummary(summary, man.event_weights, buf.data());
        RECD_RETURN_IF_ERROR(w.Write(&s, buf.data(), buf.size()));
        break;
      }
      case SectionType::kIdIndex: {
        std::vector<char> index = BuildIndex(m.ids, m.rows, options.hash_seed);
        RECD_RETURN_IF_ERROR(w.Write(&s, index.data(), index.size()));
        break;
      }
      case SectionType::kIdOffsets:
        RECD_RETURN_IF_ERROR(w.Write(&s, m.ids.offsets.data(), m.ids.offsets.size() * 8));
        break;
      case SectionType::kIdBytes:
        RECD_RETURN_IF_ERROR(w.Write(&s, m.ids.bytes.data(), m.ids.bytes.size()));
        break;
      case SectionType::kGram: {
        std::vector<double> gram = ComputeGram(m);
        RECD_RETURN_IF_ERROR(w.Write(&s, gram.data(), gram.size() * 8));
        break;
      }
      case SectionType::kScalesI8:
      case SectionType::kMatrixI8:
        break;  // written together below, from one quantisation pass
      case SectionType::kMatrixF32:
        RECD_RETURN_IF_ERROR(w.Write(&s, m.matrix.data(), uint64_t{m.rows} * m.stride * 4));
        break;
    }
  }
  if (!m.int8_copy) return absl::OkStatus();
  const uint32_t i8_stride = Int8Stride(man.dim);
  AlignedBuffer<int8_t> q = AlignedBuffer<int8_t>::Allocate(uint64_t{m.rows} * i8_stride);
  std::vector<float> scales(m.rows);
  if (q.data() == nullptr) return absl::UnavailableError("cannot allocate the int8 matrix");
  for (uint32_t r = 0; r < m.rows; ++r) {
    // The kernels' own quantiser, so the stored copy is exactly what they expect to score.
    kernels::QuantizeRowI8(m.Row(r), man.dim, q.data() + uint64_t{r} * i8_stride, &scales[r]);
  }
  for (Section& s : layout->sections) {
    if (s.type == SectionType::kScalesI8) {
      RECD_RETURN_IF_ERROR(w.Write(&s, scales.data(), scales.size() * 4));
    } else if (s.type == SectionType::kMatrixI8) {
      RECD_RETURN_IF_ERROR(w.Write(&s, q.data(), uint64_t{m.rows} * i8_stride));
    }
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t RandomHashSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

absl::Status WriteCompiledModel(const LoadedModel& m, const std::string& path,
                                const CompileOptions& options) {
  const format::Summary summary = SummaryOf(m.manifest, m.rows, m.int8_copy);
  format::Layout layout = format::ComputeLayout(summary, m.ids.bytes.size());
  RECD_CHECK(layout.file_size == m.compiled_bytes) << "LoadModelFolder sized the same layout";
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!fd.valid()) return IoError("create", path, errno);
  auto remove_partial = absl::MakeCleanup([&] { ::unlink(path.c_str()); });

  // Reserve the blocks up front: a full disk fails here, cleanly, not half-way through. The
  // gaps between sections are never written and read back as the zeros the format requires.
  if (::ftruncate(fd.get(), static_cast<off_t>(layout.file_size)) != 0) {
    return IoError("ftruncate", path, errno);
  }
  int rc = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(layout.file_size));
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) return IoError("fallocate", path, rc);

  RECD_RETURN_IF_ERROR(WriteSections(m, options, &layout, fd.get(), path));
  uint32_t flags = 0;
  if (m.int8_copy) flags |= format::kFlagInt8;
  if (m.manifest.kind == ModelKind::kIals) flags |= format::kFlagGram;
  std::vector<char> header(layout.table_end);
  format::EncodeHeader(layout, format::FormatVersionFor(summary), flags, options.created_unix_ms,
                       header.data());
  // The header goes last, so a file cut short by a crash never carries a valid checksum
  // over sections that were not written.
  RECD_RETURN_IF_ERROR(PwriteAll(fd.get(), header.data(), header.size(), 0, path));
  if (::fsync(fd.get()) != 0) return IoError("fsync", path, errno);
  RECD_RETURN_IF_ERROR(fd.Close());
  std::move(remove_partial).Cancel();
  return absl::OkStatus();
}

absl::StatusOr<StagedModel> StagedModel::Write(const LoadedModel& model,
                                               const std::string& dest_path,
                                               const CompileOptions& options) {
  const size_t slash = dest_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : dest_path.substr(0, slash);
  // Hidden (leading dot, never a version name) and unique, next to the destination so the
  // rename stays atomic.
  const std::string base = slash == std::string::npos ? dest_path : dest_path.substr(slash + 1);
  std::string tmp = absl::StrFormat("%s/.%s.tmp-%016x", dir, base, RandomHashSeed());
  RECD_RETURN_IF_ERROR(WriteCompiledModel(model, tmp, options));
  auto remove_tmp = absl::MakeCleanup([&] { ::unlink(tmp.c_str()); });
  // Read back what was written, through the same code that will serve it.
  RECD_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledModel> mapped,
                        CompiledModel::Map(tmp, MapOptions{}));
  RECD_RETURN_IF_ERROR(mapped->VerifyDataChecksum());
  std::move(remove_tmp).Cancel();
  return StagedModel(std::move(dir), std::move(tmp), dest_path, std::move(mapped));
}

StagedModel::StagedModel(std::string dir, std::string tmp, std::string dest,
                         std::shared_ptr<const CompiledModel> mapped)
    : dir_(std::move(dir)),
      tmp_(std::move(tmp)),
      dest_(std::move(dest)),
      mapped_(std::move(mapped)) {}

StagedModel::StagedModel(StagedModel&& other) noexcept
    : dir_(std::move(other.dir_)),
      tmp_(std::exchange(other.tmp_, {})),
      dest_(std::move(other.dest_)),
      mapped_(std::move(other.mapped_)) {}

StagedModel::~StagedModel() { Discard(); }

void StagedModel::Discard() {
  if (tmp_.empty()) return;
  ::unlink(tmp_.c_str());
  tmp_.clear();
}

absl::Status StagedModel::Commit() {
  // The mapping stays until destruction: unmapping a large file takes a while, and Commit
  // may run under the caller's lock.
  RECD_RETURN_IF_ERROR(RenameNoReplace(tmp_, dest_));
  tmp_.clear();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CompileModelFolder(const std::string& folder, const std::string& dest_path,
                                            const ImportOptions& import_options,
                                            int64_t created_unix_ms) {
  RECD_ASSIGN_OR_RETURN(LoadedModel model, LoadModelFolder(folder, import_options));
  if (PathExists(dest_path)) return absl::AlreadyExistsError(util::StrCat(dest_path, " exists"));
  CompileOptions options;
  options.created_unix_ms = created_unix_ms;
  options.hash_seed = import_options.hash_seed.value_or(RandomHashSeed());
  RECD_ASSIGN_OR_RETURN(StagedModel staged, StagedModel::Write(model, dest_path, options));
  RECD_RETURN_IF_ERROR(staged.Commit());
  RECD_RETURN_IF_ERROR(FsyncDir(staged.dir()));
  return model.compiled_bytes;
}

}  // namespace recd::model
