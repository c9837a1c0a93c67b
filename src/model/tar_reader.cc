#include "model/tar_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "model/gzip_source.h"
#include "model/json_util.h"
#include "model/manifest.h"
#include "recd/status.h"
#include "util/strings.h"

namespace recd::model {
namespace {

using json_internal::Quote;

constexpr size_t kBlock = 512;
// Names and pax records are metadata: bound them well below anything a model needs.
constexpr uint64_t kMaxMetaBytes = uint64_t{1} << 20;
// Record padding after the end-of-archive marker is at most a record (10 KiB for tar's
// default blocking factor, 64 KiB for the largest common one); far more is not an archive.
constexpr uint64_t kMaxTrailerBytes = uint64_t{1} << 20;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(util::StrCat("archive: ", what));
}

absl::Status EntryError(std::string_view name, std::string_view what) {
  return Bad(util::StrCat("entry ", Quote(name), ": ", what));
}

// Octal, space/NUL terminated, or GNU base-256 (leading byte 0x80) for large sizes.
std::optional<uint64_t> ParseNumber(const char* field, size_t len) {
  const auto* u = reinterpret_cast<const unsigned char*>(field);
  if (u[0] & 0x80) {
    if (u[0] != 0x80) return std::nullopt;  // negative or absurdly large
    uint64_t v = 0;
    for (size_t i = 1; i < len; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | u[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < len && field[i] == ' ') ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  if (!any) return 0;
  return v;
}

std::string CString(const char* field, size_t len) {
  return std::string(field, strnlen(field, len));
}

bool IsZeroBlock(const char* b) {
  return std::all_of(b, b + kBlock, [](char c) { return c == 0; });
}

bool ChecksumOk(const char* b) {
  auto stored = ParseNumber(b + 148, 8);
  if (!stored) return false;
  // Historic tars summed signed chars; accept either sum, as GNU tar does.
  uint64_t usum = 0;
  int64_t ssum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const bool in_field = i >= 148 && i < 156;
    usum += in_field ? ' ' : static_cast<unsigned char>(b[i]);
    ssum += in_field ? ' ' : static_cast<signed char>(b[i]);
  }
  return *stored == usum || static_cast<int64_t>(*stored) == ssum;
}

// Parses pax records "<len> <key>=<value>\n" and applies the ones that matter here.
// `size` is kNoSize unless a record sets it (std::optional<uint64_t> here trips GCC 12's
// -Wmaybe-uninitialized).
constexpr uint64_t kNoSize = UINT64_MAX;

absl::Status ApplyPax(std::string_view data, std::optional<std::string>* path, uint64_t* size) {
  while (!data.empty()) {
    const size_t sp = data.find(' ');
    uint64_t len = 0;
    if (sp == std::string_view::npos || sp == 0) return Bad("malformed pax extended header");
    for (size_t i = 0; i < sp; ++i) {
      if (data[i] < '0' || data[i] > '9' || len > kMaxMetaBytes) {
        return Bad("malformed pax extended header");
      }
      len = len * 10 + static_cast<uint64_t>(data[i] - '0');
    }
    if (len <= sp + 1 || len > data.size() || data[len - 1] != '\n') {
      return Bad("malformed pax extended header");
    }
    std::string_view record = data.substr(sp + 1, len - sp - 2);
    data.remove_prefix(len);
    const size_t eq = record.find('=');
    if (eq == std::string_view::npos) return Bad("malformed pax extended header");
    std::string_view key = record.substr(0, eq);
    std::string_view value = record.substr(eq + 1);
    if (key == "path") {
      *path = std::string(value);
    } else if (key == "size") {
      uint64_t v = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || v > (uint64_t{1} << 56)) return Bad("malformed pax size");
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      if (value.empty()) return Bad("malformed pax size");
      *size = v;
    }
    // Other keys (mtime, uid, linkpath, ...) do not affect a model folder.
  }
  return absl::OkStatus();
}

class Extractor {
 public:
  Extractor(ByteSource& source, const std::string& dest_dir, const TarLimits& limits)
      : source_(source), dest_dir_(dest_dir), limits_(limits) {}

  absl::StatusOr<std::vector<ExtractedFile>> Run();

 private:
  // Reads one 512-byte block; `what` names the place for the truncation message.
  absl::Status ReadBlock(char* b, std::string_view what) {
    RECD_ASSIGN_OR_RETURN(size_t got, ReadFull(source_, b, kBlock));
    if (got != kBlock) return Bad(util::StrCat("archive is truncated (", what, ")"));
    offset_ += kBlock;
    return absl::OkStatus();
  }
  // Reads an entry's data into memory (metadata entries only).
  absl::StatusOr<std::string> ReadMeta(uint64_t size, std::string_view what);
  // Reads (and drops) what follows the end-of-archive marker, up to the source's end.
  absl::Status ReadTrailer();
  // Streams an entry's data into a new file under dest_dir.
  absl::Status ExtractFile(const std::string& name, const std::string& file, uint64_t size);
  absl::Status SkipData(uint64_t size, std::string_view what);
  // Splits an archive name into the file name to extract, checking it is allowed.
  absl::StatusOr<std::string> PlaceEntry(const std::string& name, bool is_dir);

  ByteSource& source_;
  const std::string& dest_dir_;
  const TarLimits& limits_;
  uint64_t offset_ = 0;
  uint64_t total_ = 0;
  std::optional<std::string> top_;  // "" for files at the root
  std::vector<ExtractedFile> files_;
};

absl::StatusOr<std::string> Extractor::ReadMeta(uint64_t size, std::string_view what) {
  if (size > kMaxMetaBytes) return Bad(util::StrCat(what, " is implausibly large"));
  std::string data(size, '\0');
  char block[kBlock];
  for (uint64_t done = 0; done < size; done += kBlock) {
    RECD_RETURN_IF_ERROR(ReadBlock(block, what));
    std::memcpy(data.data() + done, block, std::min<uint64_t>(kBlock, size - done));
  }
  return data;
}

absl::Status Extractor::SkipData(uint64_t size, std::string_view what) {
  char block[kBlock];
  for (uint64_t done = 0; done < size; done += kBlock) RECD_RETURN_IF_ERROR(ReadBlock(block, what));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Extractor::PlaceEntry(const std::string& name, bool is_dir) {
  if (name.empty()) return Bad("entry with an empty name");
  if (name[0] == '/') return EntryError(name, "absolute names are not allowed");
  std::vector<std::string_view> parts;
  for (std::string_view part : util::Split(name, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return EntryError(name, "names with \"..\" components are not allowed");
    parts.push_back(part);
  }
  if (parts.empty()) return std::string();  // "./" itself
  if (is_dir) {
    if (parts.size() > 1) {
      return EntryError(name,
                        "nested folders are not allowed; put the model files at the root "
                        "of the archive or inside one top folder");
    }
    std::string top(parts[0]);
    if (top_.has_value() && *top_ != top) {
      return Bad(util::StrCat("files are in more than one top folder (", Quote(*top_), " and ",
                              Quote(top), ")"));
    }
    top_ = top;
    return std::string();
  }
  if (parts.size() > 2) {
    return EntryError(name,
                      "nested folders are not allowed; put the model files at the root "
                      "of the archive or inside one top folder");
  }
  std::string top = parts.size() == 2 ? std::string(parts[0]) : std::string();
  if (top_.has_value() && *top_ != top) {
    return Bad(util::StrCat("files must be at the root or inside exactly one top folder (found ",
                            top_->empty() ? std::string("the root") : Quote(*top_), " and ",
                            top.empty() ? std::string("the root") : Quote(top), ")"));
  }
  top_ = top;
  std::string file(parts.back());
  if (!IsPlainFileName(file)) return EntryError(name, "file name is not allowed");
  for (const ExtractedFile& f : files_) {
    if (f.name == file) return EntryError(name, "duplicates an earlier entry");
  }
  return file;
}

absl::Status Extractor::ExtractFile(const std::string& name, const std::string& file,
                                    uint64_t size) {
  if (size > limits_.max_total_bytes || total_ > limits_.max_total_bytes - size) {
    return TooLargeError(
        util::StrCat("archive: extracts to more than ", limits_.max_total_bytes, " bytes"));
  }
  total_ += size;
  const std::string path = util::StrCat(dest_dir_, "/", file);
  // O_EXCL + O_NOFOLLOW: never write through anything already in the directory.
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return IoError("create", path, errno);
  const std::string what = util::StrCat("inside entry ", Quote(name));
  std::vector<char> buf(64 * 1024);
  uint64_t left = size;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
    RECD_ASSIGN_OR_RETURN(size_t got, ReadFull(source_, buf.data(), want));
    if (got != want) return Bad(util::StrCat("archive is truncated (", what, ")"));
    RECD_RETURN_IF_ERROR(WriteAll(fd.get(), buf.data(), got, path));
    left -= got;
  }
  offset_ += size;
  // Data is padded to a whole block.
  const uint64_t pad = (kBlock - size % kBlock) % kBlock;
  if (pad > 0) {
    char block[kBlock];
    RECD_ASSIGN_OR_RETURN(size_t got, ReadFull(source_, block, pad));
    if (got != pad) return Bad(util::StrCat("archive is truncated (", what, ")"));
    offset_ += pad;
  }
  RECD_RETURN_IF_ERROR(fd.Close());
  files_.push_back({file, size});
  return absl::OkStatus();
}

absl::Status Extractor::ReadTrailer() {
  char buf[kBlock];
  uint64_t trailer = 0;
  while (true) {
    RECD_ASSIGN_OR_RETURN(size_t got, source_.Read(buf, sizeof(buf)));
    if (got == 0) return absl::OkStatus();
    trailer += got;
    if (trailer > kMaxTrailerBytes) {
      return Bad(
          util::StrCat("more than ", kMaxTrailerBytes, " bytes follow the end-of-archive marker"));
    }
  }
}

absl::StatusOr<std::vector<ExtractedFile>> Extractor::Run() {
  char h[kBlock];
  std::optional<std::string> pending_path;  // from pax 'x' or GNU 'L'
  uint64_t pending_size = kNoSize;          // from pax 'x'
  uint32_t entries = 0;
  while (true) {
    const uint64_t header_at = offset_;
    RECD_ASSIGN_OR_RETURN(size_t got, ReadFull(source_, h, kBlock));
    if (got == 0 && header_at == 0) return Bad("archive is empty");
    if (got != kBlock) {
      return Bad(header_at == 0 ? "not a tar archive (shorter than one header)"
                                : "archive is truncated (no end-of-archive marker)");
    }
    offset_ += kBlock;
    // One zero block is the end-of-archive marker; what follows (a second one, record
    // padding) carries nothing, but it is read to the end: a gzip stream checks its length
    // and CRC only there, so a cut or damaged compressed upload is refused, not half-read.
    if (IsZeroBlock(h)) {
      RECD_RETURN_IF_ERROR(ReadTrailer());
      break;
    }
    if (!ChecksumOk(h)) {
      return Bad(header_at == 0 ? "not a tar archive (bad header checksum)"
                                : util::StrCat("header at byte ", header_at,
                                               " has a bad checksum (corrupt archive)"));
    }
    if (++entries > limits_.max_entries) {
      return Bad(util::StrCat("holds more than ", limits_.max_entries, " entries"));
    }
    const char type = h[156];
    auto header_size = ParseNumber(h + 124, 12);
    if (!header_size) return Bad(util::StrCat("header at byte ", header_at, " has a bad size"));
    uint64_t size = *header_size;

    // Metadata entries describe the next header.
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      RECD_ASSIGN_OR_RETURN(std::string data, ReadMeta(size, "extended header"));
      if (type == 'x') {
        RECD_RETURN_IF_ERROR(ApplyPax(data, &pending_path, &pending_size));
      } else if (type == 'L') {
        pending_path = std::string(data.c_str());  // NUL-terminated
      }
      // 'g' (pax global) and 'K' (GNU long link target) have nothing a model folder needs.
      continue;
    }

    std::string name;
    if (pending_path.has_value()) {
      name = *std::move(pending_path);
    } else {
      name = CString(h, 100);
      // ustar (not GNU "ustar  ") splits long names into prefix/name.
      if (std::memcmp(h + 257, "ustar\0", 6) == 0) {
        std::string prefix = CString(h + 345, 155);
        if (!prefix.empty()) name = util::StrCat(prefix, "/", name);
      }
    }
    pending_path.reset();
    if (pending_size != kNoSize) size = pending_size;
    pending_size = kNoSize;

    switch (type) {
      case '0':
      case '\0':
      case '7': {  // regular file ('7' is "contiguous", a regular file everywhere else)
        if (!name.empty() && name.back() == '/') {
          return EntryError(name, "regular file with a directory name");
        }
        RECD_ASSIGN_OR_RETURN(std::string file, PlaceEntry(name, /*is_dir=*/false));
        RECD_RETURN_IF_ERROR(ExtractFile(name, file, size));
        break;
      }
      case '5':
        RECD_RETURN_IF_ERROR(PlaceEntry(name, /*is_dir=*/true).status());
        RECD_RETURN_IF_ERROR(SkipData(size, "inside a directory entry"));
        break;
      case '1':
        return EntryError(name, "hard links are not allowed");
      case '2':
        return EntryError(name, "symbolic links are not allowed");
      case '3':
      case '4':
        return EntryError(name, "device files are not allowed");
      case '6':
        return EntryError(name, "FIFOs are not allowed");
      default:
        return EntryError(
            name, util::StrCat("unsupported entry type ", Quote(std::string_view(&type, 1))));
    }
  }
  if (pending_path.has_value()) return Bad("extended header without a following entry");
  return std::move(files_);
}

}  // namespace

absl::StatusOr<std::vector<ExtractedFile>> ExtractModelArchive(ByteSource& source,
                                                               const std::string& dest_dir,
                                                               const TarLimits& limits) {
  // Sniff the first two bytes for the gzip magic, then read the stream as a whole.
  std::string prefix(2, '\0');
  RECD_ASSIGN_OR_RETURN(size_t got, ReadFull(source, prefix.data(), prefix.size()));
  prefix.resize(got);
  const bool gzipped = LooksGzipped(prefix);
  PrefixedByteSource whole(std::move(prefix), &source);
  if (!gzipped) return Extractor(whole, dest_dir, limits).Run();
  RECD_ASSIGN_OR_RETURN(std::unique_ptr<GzipByteSource> gz, GzipByteSource::Create(&whole));
  return Extractor(*gz, dest_dir, limits).Run();
}

}  // namespace recd::model
