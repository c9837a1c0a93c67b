// Credentials -> who is calling. The admin token guards /v1/admin/*; tenant keys
// (recd_<scope>_<key_id>_<secret>) resolve to a tenant and a scope. Lookups read the current
// TenantTable snapshot only; comparisons are constant-time. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "control/tenant.h"
#include "control/tenant_registry.h"

namespace recd::control {

struct TenantPrincipal {
  std::shared_ptr<const Tenant> tenant;
  Scope scope = Scope::kServer;
};

class Identity {
 public:
  Identity(const TenantRegistry* registry, std::string admin_token)
      : registry_(registry), admin_token_sha_(util_sha(admin_token)) {}

  // `authorization` is the raw header value. 401 when missing, malformed or unknown.
  absl::Status CheckAdmin(std::string_view authorization) const;
  absl::StatusOr<TenantPrincipal> AuthenticateTenant(std::string_view authorization) const;
  // For the sendBeacon form (`?key=`): the bare key text.
  absl::StatusOr<TenantPrincipal> AuthenticateKey(std::string_view key) const;

 private:
  static std::string util_sha(std::string_view s);
  const TenantRegistry* registry_;
  const std::string admin_token_sha_;  // Hashes compare in constant time whatever the lengths.
};

// "Bearer <token>" -> token; empty if the header has another form.
std::string_view BearerToken(std::string_view authorization);

}  // namespace recd::control
