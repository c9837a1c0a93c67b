#include "model/byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/strings.h"

namespace recd::model {

absl::StatusOr<std::unique_ptr<FileByteSource>> FileByteSource::Open(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::NotFoundError(util::StrCat(path, " not found"));
    return IoError("open", path, errno);
  }
  return std::unique_ptr<FileByteSource>(new FileByteSource(std::move(fd), path));
}

absl::StatusOr<size_t> FileByteSource::Read(char* buf, size_t n) {
  while (true) {
    ssize_t r = ::read(fd_.get(), buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return IoError("read", path_, errno);
  }
}

absl::StatusOr<size_t> StringByteSource::Read(char* buf, size_t n) {
  const size_t k = std::min(n, data_.size());
  std::memcpy(buf, data_.data(), k);
  data_.remove_prefix(k);
  return k;
}

absl::StatusOr<size_t> PrefixedByteSource::Read(char* buf, size_t n) {
  if (pos_ < prefix_.size()) {
    const size_t k = std::min(n, prefix_.size() - pos_);
    std::memcpy(buf, prefix_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  return source_->Read(buf, n);
}

absl::StatusOr<size_t> ReadFull(ByteSource& source, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    absl::StatusOr<size_t> r = source.Read(buf + got, n - got);
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    got += *r;
  }
  return got;
}

}  // namespace recd::model
