// A tenant as the control plane stores it, its API keys, and the immutable snapshot of all of
// them that the request path reads (STYLE 5).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "recd/status.h"
#include "recd/types.h"
#include "sched/tier_config.h"

namespace recd::control {

struct Tenant {
  TenantIid iid = 0;
  std::string id;    // external id, [a-z0-9][a-z0-9-]{1,31}
  std::string name;
  Tier tier = Tier::kStandard;
  TenantStatus status = TenantStatus::kActive;
  int64_t created_ms = 0;
  std::string active_model;  // empty: no model yet
  sched::QuotaOverrides overrides;
  std::vector<std::string> allowed_origins{"*"};

  std::string Encode() const;
  static absl::StatusOr<Tenant> Decode(std::string_view in);
};

struct ApiKey {
  TenantIid iid = 0;
  std::string key_id;  // 12 lowercase base32
  Scope scope = Scope::kServer;
  std::string sha256;  // of the whole key text, 32 raw bytes
  int64_t created_ms = 0;

  std::string EncodeValue() const;
  static absl::StatusOr<ApiKey> Decode(TenantIid iid, std::string_view key_id,
                                       std::string_view value);
};

// Everything the request path needs to resolve credentials and tenants; never mutated after
// publication.
struct TenantTable {
  absl::flat_hash_map<std::string, std::shared_ptr<const Tenant>> by_id;
  absl::flat_hash_map<TenantIid, std::shared_ptr<const Tenant>> by_iid;
  absl::flat_hash_map<std::string, ApiKey> keys_by_id;
};

bool IsValidTenantId(std::string_view id);

}  // namespace recd::control
