// A pull-based stream of bytes (an uploaded archive on disk, a socket body, a test string),
// so that archive extraction works on streams without holding them in memory.
// Not thread-safe: one reader at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/file_util.h"

namespace recd::model {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` (> 0) bytes into `buf`; returns 0 only at the end of the stream.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Reads a file from its start.
class FileByteSource final : public ByteSource {
 public:
  // Errors: NotFound if missing, Internal on other failures.
  static absl::StatusOr<std::unique_ptr<FileByteSource>> Open(const std::string& path);
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  FileByteSource(ScopedFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  ScopedFd fd_;
  std::string path_;
};

// Reads from a string it does not own (which must outlive it).
class StringByteSource final : public ByteSource {
 public:
  explicit StringByteSource(std::string_view data) : data_(data) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  std::string_view data_;
};

// Reads `prefix` first, then the rest of `source` (borrowed): lets a reader sniff the first
// bytes of a stream and still hand the whole stream on.
class PrefixedByteSource final : public ByteSource {
 public:
  PrefixedByteSource(std::string prefix, ByteSource* source)
      : prefix_(std::move(prefix)), source_(source) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  std::string prefix_;
  size_t pos_ = 0;
  ByteSource* source_;
};

// Reads until `n` bytes or the end of the stream; returns how many were read.
absl::StatusOr<size_t> ReadFull(ByteSource& source, char* buf, size_t n);

}  // namespace recd::model
