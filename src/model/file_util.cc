#include "model/file_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "util/strings.h"

namespace recd::model {

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

int ScopedFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::Status ScopedFd::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int fd = Release();
  // Linux closes the descriptor even when close(2) fails, so it is never retried.
  if (::close(fd) != 0) return IoError("close", "(fd)", errno);
  return absl::OkStatus();
}

absl::Status IoError(std::string_view what, const std::string& path, int err) {
  std::string msg = util::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    return absl::UnavailableError(util::StrCat("disk full: ", msg));
  }
  return absl::InternalError(msg);
}

absl::StatusOr<ScopedFd> OpenInputFile(const std::string& path, std::string_view display_name,
                                       uint64_t* size) {
  // O_NONBLOCK keeps open(2) from waiting on a FIFO; the type check below then refuses it.
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) {
      return absl::InvalidArgumentError(
          util::StrCat(display_name, ": file not found in the model folder"));
    }
    return absl::InvalidArgumentError(
        util::StrCat(display_name, ": cannot open: ", std::strerror(err)));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("fstat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(util::StrCat(display_name, ": not a regular file"));
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path, std::string_view display_name,
                                          uint64_t max_bytes) {
  uint64_t size = 0;
  auto fd = OpenInputFile(path, display_name, &size);
  if (!fd.ok()) return fd.status();
  if (size > max_bytes) {
    return absl::InvalidArgumentError(util::StrCat(display_name, ": file is ", size,
                                                   " bytes, more than the limit of ", max_bytes));
  }
  std::string out(size, '\0');
  absl::Status s = PreadExact(fd->get(), out.data(), size, 0, display_name);
  if (!s.ok()) return s;
  return out;
}

absl::Status PreadExact(int fd, void* buf, size_t n, uint64_t offset,
                        std::string_view display_name) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          util::StrCat(display_name, ": read failed: ", std::strerror(errno)));
    }
    if (r == 0)
      return absl::InvalidArgumentError(util::StrCat(display_name, ": file is truncated"));
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status PwriteAll(int fd, const void* data, size_t n, uint64_t offset,
                       const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir, errno);
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0750) == 0 || errno == EEXIST) return absl::OkStatus();
  return IoError("mkdir", dir, errno);
}

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return IoError("lstat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("unlink", path, errno);
    return absl::OkStatus();
  }
  std::vector<std::string> children;
  {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return IoError("opendir", path, errno);
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      children.emplace_back(name);
    }
    ::closedir(dir);
  }
  for (const std::string& child : children) {
    absl::Status s = RemoveTree(util::StrCat(path, "/", child));
    if (!s.ok()) return s;
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return IoError("rmdir", path, errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MakeTempDir(const std::string& parent, std::string_view prefix) {
  std::string tmpl = util::StrCat(parent, "/", prefix, "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return IoError("mkdtemp", tmpl, errno);
  return tmpl;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

absl::Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  int err = errno;
  if (err == EEXIST) return absl::AlreadyExistsError(util::StrCat(to, " already exists"));
  if (err != EINVAL && err != ENOSYS) return IoError("rename", from, err);
  // link(2) fails with EEXIST instead of replacing, which gives the same guarantee.
  if (::link(from.c_str(), to.c_str()) != 0) {
    err = errno;
    if (err == EEXIST) return absl::AlreadyExistsError(util::StrCat(to, " already exists"));
    return IoError("link", to, err);
  }
  if (::unlink(from.c_str()) != 0) return IoError("unlink", from, errno);
  return absl::OkStatus();
}

}  // namespace recd::model
