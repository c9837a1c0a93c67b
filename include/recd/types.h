// Shared vocabulary: tenant ids, tiers, key scopes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace recd {

// The fixed-width internal tenant id that prefixes every stored key of a tenant's data.
// Assigned at onboarding from a persistent counter and never reused.
using TenantIid = uint32_t;

enum class Tier : uint8_t { kStandard = 0, kPremium = 1, kEnterprise = 2 };
inline constexpr int kNumTiers = 3;

enum class Scope : uint8_t { kIngest = 0, kServer = 1 };

enum class TenantStatus : uint8_t { kActive = 0, kSuspended = 1 };

std::string_view TierName(Tier tier);
std::optional<Tier> ParseTier(std::string_view name);
std::string_view ScopeName(Scope scope);
std::optional<Scope> ParseScope(std::string_view name);
std::string_view TenantStatusName(TenantStatus status);
std::optional<TenantStatus> ParseTenantStatus(std::string_view name);

}  // namespace recd
