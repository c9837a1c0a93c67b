// The HTTP/1.1 server on Boost.Beast: a fixed set of I/O threads accept, parse headers, admit,
// read bodies and write answers; handlers run on the pool admission chose, never on an I/O
// thread (except routes marked on_io_thread). One request at a time per connection.
//
// Two I/O lanes. Every connection starts on the shared lane (its threads at `io_nice`). Once
// a connection carries an authenticated request whose pool runs at a lower nice than that
// (admin work, premium and enterprise tenants by default), it moves for the rest of its life
// to the priority lane, whose threads keep the process's nice: a flood of standard traffic,
// whose refusals close connections and so turn into accept/refuse/close churn, then competes
// for the CPU at standard's priority instead of delaying the higher tiers' I/O.
// Start/BeginDrain/Stop are called from the owning (main) thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/gatekeeper.h"
#include "http/router.h"
#include "metering/metrics.h"
#include "recd/status.h"
#include "util/thread.h"

namespace recd::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port
  int io_threads = 2;           // the shared lane
  int priority_io_threads = 1;  // 0: no priority lane, every connection stays shared
  int io_nice = 10;             // nice of the shared lane's threads (0 to 19)
  // Where each lane's threads run; empty: the starting thread's set (the daemon's `cpus`).
  util::CpuList io_cpus;
  util::CpuList priority_io_cpus;
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 1 << 20;
  size_t max_upload_bytes = size_t{1} << 30;
  int64_t read_timeout_ms = 30'000;     // headers and JSON bodies
  int64_t upload_timeout_ms = 600'000;  // file bodies
  int64_t idle_timeout_ms = 60'000;
  size_t max_connections = 4096;
  std::string upload_dir;  // where file bodies are streamed to
  size_t max_concurrent_uploads = 2;  // more at once answer 503
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router* router, Gatekeeper* gatekeeper,
             metering::MetricsRegistry* metrics);
  ~HttpServer();

  // Binds and starts the I/O threads. The bound port is port() afterwards.
  absl::Status Start();
  uint16_t port() const;
  // Stops accepting, closes idle connections; in-flight requests finish with Connection: close.
  void BeginDrain();
  bool draining() const;
  // Waits up to `grace_ms` for in-flight requests, then stops the I/O threads.
  void Stop(int64_t grace_ms);
  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recd::http
