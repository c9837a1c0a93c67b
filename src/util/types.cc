#include "recd/types.h"

namespace recd {

std::string_view TierName(Tier tier) {
  switch (tier) {
    case Tier::kStandard: return "standard";
    case Tier::kPremium: return "premium";
    case Tier::kEnterprise: return "enterprise";
  }
  return "standard";
}

std::optional<Tier> ParseTier(std::string_view name) {
  if (name == "standard") return Tier::kStandard;
  if (name == "premium") return Tier::kPremium;
  if (name == "enterprise") return Tier::kEnterprise;
  return std::nullopt;
}

std::string_view ScopeName(Scope scope) { return scope == Scope::kIngest ? "ingest" : "server"; }

std::optional<Scope> ParseScope(std::string_view name) {
  if (name == "ingest") return Scope::kIngest;
  if (name == "server") return Scope::kServer;
  return std::nullopt;
}

std::string_view TenantStatusName(TenantStatus status) {
  return status == TenantStatus::kActive ? "active" : "suspended";
}

std::optional<TenantStatus> ParseTenantStatus(std::string_view name) {
  if (name == "active") return TenantStatus::kActive;
  if (name == "suspended") return TenantStatus::kSuspended;
  return std::nullopt;
}

}  // namespace recd
