// A blocking HTTP/1.1 client for the control plane: onboarding and offboarding the harness's
// tenants, quotas, model uploads and activation, and reading /metrics. One keep-alive
// connection, reopened when needed; every call has a deadline. Also counts the answers it got
// by route and status, for the run's totals.
// Not thread-safe: one thread (the runner's) owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "bench/harness/target.h"

namespace recd::bench {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

struct TenantKeys {
  std::string server;
  std::string ingest;
};

class AdminClient {
 public:
  // `address` is the resolved numeric address of `target`'s host.
  AdminClient(Target target, std::string address, std::string admin_token, int64_t timeout_ns);
  ~AdminClient();

  // One request; a transport failure or timeout is Unavailable / DeadlineExceeded. `route`
  // labels the answer in Counts() (e.g. "POST /v1/admin/tenants").
  absl::StatusOr<HttpAnswer> Call(std::string_view method, std::string_view path,
                                  std::string_view content_type, std::string_view body,
                                  std::string_view route, int64_t timeout_ns = 0);

  // POST /v1/admin/tenants; 201 gives the keys. Other answers become errors quoting the body.
  absl::StatusOr<TenantKeys> CreateTenant(std::string_view id, std::string_view name,
                                          std::string_view tier);
  // PATCH /v1/admin/tenants/{id} {"quotas":{...}}.
  absl::Status SetQuotas(std::string_view id, const std::map<std::string, double>& quotas);
  // PUT .../models/{version} with a tar body (application/x-tar); expects 201.
  absl::Status UploadModel(std::string_view id, std::string_view version, std::string_view tar);
  // POST .../models/{version}/activate; expects 200.
  absl::Status ActivateModel(std::string_view id, std::string_view version);
  // DELETE /v1/admin/tenants/{id}; expects 204 (or 404: already gone).
  absl::Status DeleteTenant(std::string_view id);

  // "METHOD route" -> status -> answers.
  const std::map<std::string, std::map<int, int64_t>>& counts() const { return counts_; }

 private:
  class Connection;
  Target target_;
  std::string admin_token_;
  int64_t timeout_ns_;
  std::unique_ptr<Connection> connection_;
  std::map<std::string, std::map<int, int64_t>> counts_;
};

// Parses {"tenant":{...},"keys":{"server":"...","ingest":"..."}}.
absl::StatusOr<TenantKeys> ParseTenantKeys(std::string_view json);

}  // namespace recd::bench
