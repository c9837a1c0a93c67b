// The server the harness talks to, from a URL like "http://127.0.0.1:8080". Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recd::bench {

struct Target {
  std::string host;  // as written, without IPv6 brackets: "127.0.0.1", "::1", "localhost"
  uint16_t port = 80;
  std::string base_path;    // "" or "/prefix" (no trailing slash); prepended to every API path
  std::string host_header;  // the Host header value: "127.0.0.1:8080", "[::1]:8080"
};

// Accepts http://HOST[:PORT][/PATH] where HOST is a name, an IPv4 address or a bracketed IPv6
// address. Refuses https (TLS is terminated by a proxy in front of recd; point the harness at
// recd itself), user info, queries and fragments, bad ports; errors say which part is wrong.
absl::StatusOr<Target> ParseTarget(std::string_view url);

// True for "localhost", 127.0.0.0/8 and ::1 (as written, before resolution).
bool IsLoopbackHost(std::string_view host);

}  // namespace recd::bench
