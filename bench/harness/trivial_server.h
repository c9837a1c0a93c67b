// A trivial local HTTP/1.1 server for measuring the harness itself (--calibrate) and for tests.
// It answers every request at once from a single thread: 200 with a tiny JSON body, or, with
// `fake_recd`, the status codes and JSON shapes of recd's admin API (201 for onboarding with
// fake keys, 201 for a model upload, 204 for DELETE), so that the whole harness can run
// without the daemon. A path "/status/NNN" answers NNN.
//
// Thread-safety: Start/port/counts may be called from any thread; the server runs on its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace recd::bench {

class TrivialServer {
 public:
  // Listens on 127.0.0.1 on a free port.
  static absl::StatusOr<std::unique_ptr<TrivialServer>> Start(bool fake_recd);
  ~TrivialServer();  // stops the server and joins its thread

  uint16_t port() const;
  // Requests answered, keyed "METHOD /path-without-query STATUS".
  std::map<std::string, int64_t> Counts() const;
  int64_t total_requests() const;

  class Impl;

 private:
  explicit TrivialServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recd::bench
