#include "bench/harness/tar_writer.h"

#include <cstdio>
#include <cstring>

#include "util/strings.h"

namespace recd::bench {
namespace {

constexpr size_t kBlock = 512;

// Writes `value` as zero-padded octal in `width - 1` digits plus a NUL, as ustar wants.
void PutOctal(char* field, size_t width, uint64_t value) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
  std::memcpy(field, digits, width - 1);  // callers keep values within width - 1 digits
  field[width - 1] = '\0';
}

}  // namespace

uint32_t TarHeaderChecksum(std::string_view header_block) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock && i < header_block.size(); ++i) {
    const bool in_checksum_field = i >= 148 && i < 156;
    sum += in_checksum_field ? ' ' : static_cast<unsigned char>(header_block[i]);
  }
  return sum;
}

absl::Status TarWriter::AddFile(std::string_view name, std::string_view data, int64_t mtime_s) {
  if (name.empty() || name.size() > 100 || name.front() == '/' ||
      name.find("..") != std::string_view::npos) {
    return absl::InvalidArgumentError(util::StrCat("bad tar member name \"", name, "\""));
  }
  if (data.size() >= (uint64_t{1} << 33)) {
    return absl::InvalidArgumentError(util::StrCat("tar member ", name, " is too large"));
  }
  char header[kBlock];
  std::memset(header, 0, sizeof header);
  std::memcpy(header, name.data(), name.size());                                     // name[100]
  PutOctal(header + 100, 8, 0644);                                                   // mode
  PutOctal(header + 108, 8, 0);                                                      // uid
  PutOctal(header + 116, 8, 0);                                                      // gid
  PutOctal(header + 124, 12, data.size());                                           // size
  PutOctal(header + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime_s, 0)));  // mtime
  header[156] = '0';                      // typeflag: regular file
  std::memcpy(header + 257, "ustar", 6);  // magic "ustar\0"
  std::memcpy(header + 263, "00", 2);     // version
  std::memcpy(header + 265, "recd", 4);   // uname
  std::memcpy(header + 297, "recd", 4);   // gname
  // Checksum: six octal digits, NUL, space.
  std::snprintf(header + 148, 8, "%06o", TarHeaderChecksum(std::string_view(header, kBlock)));
  header[155] = ' ';
  out_.append(header, kBlock);
  out_.append(data);
  out_.append((kBlock - data.size() % kBlock) % kBlock, '\0');
  return absl::OkStatus();
}

std::string TarWriter::Finish() {
  out_.append(2 * kBlock, '\0');
  std::string archive;
  archive.swap(out_);
  return archive;
}

}  // namespace recd::bench
