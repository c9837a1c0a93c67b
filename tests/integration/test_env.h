// Shared fixture for integration tests: one real daemon per test, with helpers to onboard.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "tests/support/daemon_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json.h"
#include "util/clock.h"
#include "util/text.h"

namespace recd::testing {

// Today's date on the UTC calendar, shifted by whole days: "2026-11-23" (usage is metered per
// UTC day).
inline std::string UtcDate(int offset_days = 0) {
  return util::FormatIsoDate(util::DayOfUnixMs(util::SystemClock::Get().NowMs()) + offset_days);
}

// A gauge's value in a /metrics scrape taken on a fresh connection (which, unauthenticated,
// stays on the shared I/O lane and holds no tenant slot itself); -1 when it is missing.
inline double GaugeValue(uint16_t port, const std::string& gauge) {
  HttpClient probe(port);
  HttpResult m = probe.Send("GET", "/metrics");
  const std::string name = "\n" + gauge + " ";
  size_t at = m.body.find(name);
  if (m.status != 200 || at == std::string::npos) return -1;
  return std::stod(m.body.substr(at + name.size()));
}

// Polls until the gauge reads `value` (asynchronous server state that a test must not race);
// returns the last value read, after at most 20 s.
inline double AwaitGauge(uint16_t port, const std::string& gauge, double value) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double now = GaugeValue(port, gauge);
  while (now != value && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = GaugeValue(port, gauge);
  }
  return now;
}

// A connection driven by hand, for what HttpClient hides: headers now and the body later
// (deadlines, in-flight holds, uploads in progress), pipelined requests, a slow reader.
class RawConnection {
 public:
  // `receive_buffer` > 0 sets SO_RCVBUF before connecting (a client that takes little at once).
  explicit RawConnection(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      EXPECT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer)),
                0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // The next answer (head and Content-Length body); bytes of later answers stay buffered for
  // the next call. If the peer closes first, whatever arrived.
  std::string ReadAnswer() {
    char buf[65536];
    for (;;) {
      const size_t head = in_.find("\r\n\r\n");
      const size_t cl = in_.find("Content-Length: ");
      if (head != std::string::npos && cl != std::string::npos && cl < head) {
        const size_t end = head + 4 + std::stoul(in_.substr(cl + 16));
        if (in_.size() >= end) {
          std::string answer = in_.substr(0, end);
          in_.erase(0, end);
          return answer;
        }
      }
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::exchange(in_, std::string());
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string in_;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(); }

  // `args` are remembered for RestartDaemon().
  void StartDaemon(const std::vector<std::string>& args = {}) {
    args_ = args;
    ASSERT_TRUE(daemon_.Start(args)) << daemon_.Log();
    client_ = std::make_unique<HttpClient>(daemon_.port());
  }
  // `while_stopped` runs between the stop and the start (to change files on disk).
  void RestartDaemon(const std::function<void()>& while_stopped = {}) {
    client_.reset();
    ASSERT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    if (while_stopped) while_stopped();
    StartDaemon(args_);
  }

 public:
  static std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  static std::vector<std::pair<std::string, std::string>> Admin() {
    return Bearer(DaemonProcess::kAdminToken);
  }

 protected:
  HttpResult AdminCall(const std::string& method, const std::string& target,
                       const std::string& body = "") {
    return client_->Send(method, target, body, Admin());
  }

  struct Keys {
    std::string server, ingest;
  };
  Keys Onboard(const std::string& id, const std::string& tier = "standard") {
    HttpResult r = AdminCall("POST", "/v1/admin/tenants",
                             R"({"id":")" + id + R"(","tier":")" + tier + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    Json j(r.body);
    return {Str(j["keys"]["server"]), Str(j["keys"]["ingest"])};
  }

  DaemonProcess daemon_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> args_;
};

}  // namespace recd::testing
