// Starts the real `recd serve` binary on 127.0.0.1:0 with a temporary data dir, learns the
// port from its log, and stops it with a signal. The binary path comes from the build
// (RECD_BINARY). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace recd::testing {

class DaemonProcess {
 public:
  // A fresh temporary data dir, removed by the destructor unless `keep_data` was called.
  DaemonProcess();
  ~DaemonProcess();

  static constexpr const char* kAdminToken = "test-admin-token-0123456789";

  // Starts the binary; extra args are appended to `recd serve`. Returns false if it did not
  // log a listening port within 20 s.
  bool Start(const std::vector<std::string>& extra_args = {});
  // SIGTERM and wait; returns the exit status (or -1 if killed by a signal).
  int Stop(int sig = 15);
  void Kill();  // SIGKILL: a crash

  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string Log() const;  // everything it wrote to stderr so far
  pid_t pid() const { return pid_; }

 private:
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

}  // namespace recd::testing
