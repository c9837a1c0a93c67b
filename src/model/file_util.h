// Small POSIX file helpers for model import and the repository. Thread-safe (no shared
// state); every function reports failure as a Status naming the path and the errno text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recd::model {

// Owns a file descriptor; closes it on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  absl::Status Close();  // Reports the close(2) error, unlike the destructor.

 private:
  int fd_ = -1;
};

// An I/O failure on recd's own files: ENOSPC/EDQUOT become Unavailable ("disk full", 503),
// anything else Internal.
absl::Status IoError(std::string_view what, const std::string& path, int err);

// Opens a user-supplied input file of a model folder read-only. Refuses anything but a
// regular file (a FIFO would block the importer). Errors are InvalidArgument and start with
// `display_name` ("items.txt: file not found in the model folder").
absl::StatusOr<ScopedFd> OpenInputFile(const std::string& path, std::string_view display_name,
                                       uint64_t* size);

// Reads a whole input file of at most `max_bytes` (else InvalidArgument naming the limit).
absl::StatusOr<std::string> ReadInputFile(const std::string& path, std::string_view display_name,
                                          uint64_t max_bytes);

// Reads exactly `n` bytes at `offset`; a short file is InvalidArgument "<display_name>: file is
// truncated".
absl::Status PreadExact(int fd, void* buf, size_t n, uint64_t offset,
                        std::string_view display_name);

absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path);
absl::Status PwriteAll(int fd, const void* data, size_t n, uint64_t offset,
                       const std::string& path);

// fsync of a directory, so that a rename or unlink inside it is durable.
absl::Status FsyncDir(const std::string& dir);

// mkdir that tolerates an existing directory.
absl::Status MakeDir(const std::string& dir);

// Removes a file or a directory tree (never following symlinks). A missing path is OK.
absl::Status RemoveTree(const std::string& path);

// Creates a fresh directory `<parent>/<prefix>XXXXXX` (mode 0700) and returns its path.
absl::StatusOr<std::string> MakeTempDir(const std::string& parent, std::string_view prefix);

bool PathExists(const std::string& path);

// Renames `from` to `to` unless `to` exists (then AlreadyExists), atomically
// (renameat2 RENAME_NOREPLACE, or link + unlink where the filesystem lacks it).
absl::Status RenameNoReplace(const std::string& from, const std::string& to);

}  // namespace recd::model
