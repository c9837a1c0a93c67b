#include "tests/support/daemon_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace recd::testing {

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  return made == nullptr ? std::string() : std::string(made);
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

DaemonProcess::DaemonProcess() {
  data_dir_ = MakeTempDir("recd-it-");
  log_path_ = data_dir_ + ".log";
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Kill();
  RemoveTree(data_dir_);
  ::unlink(log_path_.c_str());
}

bool DaemonProcess::Start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {RECD_BINARY, "serve", "--listen", "127.0.0.1:0",
                                   "--data-dir", data_dir_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Append, so a restart keeps the earlier log for diagnosis.
  std::ofstream(log_path_, std::ios::app) << "---- start\n";
  const std::streamoff start_offset = static_cast<std::streamoff>(Log().size());
  pid_ = ::fork();
  if (pid_ == 0) {
    FILE* f = std::freopen(log_path_.c_str(), "a", stderr);
    (void)f;
    ::setenv("RECD_ADMIN_TOKEN", kAdminToken, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < give_up) {
    std::string log = Log().substr(start_offset);
    size_t pos = log.find("listening on http://127.0.0.1:");
    if (pos != std::string::npos) {
      port_ = static_cast<uint16_t>(std::atoi(log.c_str() + pos + 30));
      if (port_ != 0) return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int DaemonProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string DaemonProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace recd::testing
