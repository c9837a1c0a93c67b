// Extraction of a model folder from a tar archive (SPEC 7.7): ustar, pax extended headers
// (path and size overrides) and GNU long names, optionally gzip-compressed (detected by the
// magic bytes 1f 8b). The files must sit at the archive root or inside exactly one top folder;
// they are written flat into `dest_dir`. Refused, by name: symbolic and hard links, devices
// and FIFOs, absolute names, ".." components, nested folders, duplicate entries, and archives
// extracting to more than the limits allow. Reads the stream once, front to back.
// Thread-compatible (no shared state). Errors are InvalidArgument starting with "archive",
// except too_large (ResourceExhausted) for the size bound and I/O errors on `dest_dir`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/byte_source.h"

namespace recd::model {

struct TarLimits {
  uint64_t max_total_bytes = uint64_t{1} << 30;  // sum of extracted file sizes
  uint32_t max_entries = 64;                     // headers of any kind
};

struct ExtractedFile {
  std::string name;  // plain file name inside dest_dir
  uint64_t size = 0;
};

// `dest_dir` must exist and be empty; on failure it may hold partial files (the caller
// removes it).
absl::StatusOr<std::vector<ExtractedFile>> ExtractModelArchive(ByteSource& source,
                                                               const std::string& dest_dir,
                                                               const TarLimits& limits);

}  // namespace recd::model
