// An uncompressed POSIX ustar archive built in memory, for model uploads. Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace recd::bench {

class TarWriter {
 public:
  // Appends a regular file (mode 0644, mtime `mtime_s`). Names are relative, at most 100 bytes,
  // without ".." or a leading '/'; InvalidArgument otherwise. Sizes up to 8 GiB - 1.
  absl::Status AddFile(std::string_view name, std::string_view data, int64_t mtime_s = 0);
  // Appends the two zero blocks that end the archive and returns it; the writer is then empty.
  std::string Finish();

 private:
  std::string out_;
};

// The checksum a ustar header block must carry: the byte sum with the checksum field as spaces.
uint32_t TarHeaderChecksum(std::string_view header_block);

}  // namespace recd::bench
