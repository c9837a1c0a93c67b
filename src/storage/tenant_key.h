// Tenant-prefixed keys. Every key of a tenant-data column family (Cf in db.h) starts with the
// tenant's internal id, 4 bytes big-endian, so a tenant's data is one key range: scoping,
// export and offboarding are prefix scans and range deletes. This is the one place that
// writes and reads that prefix; what follows it belongs to each family's owner. On-disk
// format: changing it breaks every existing data directory. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "recd/types.h"
#include "util/coding.h"

namespace recd::storage {

inline constexpr size_t kTenantPrefixBytes = 4;

// Appends the tenant's prefix to `dst` (for keys that go on with fixed-width fields).
inline void PutTenantPrefix(std::string* dst, TenantIid tid) { util::PutFixed32BE(dst, tid); }

// The tenant's prefix followed by `rest`; with no `rest`, the prefix of all its keys.
inline std::string TenantKey(TenantIid tid, std::string_view rest = {}) {
  std::string k;
  k.reserve(kTenantPrefixBytes + rest.size());
  PutTenantPrefix(&k, tid);
  k.append(rest);
  return k;
}

// The tenant a key belongs to; 0 (never assigned) for a key too short to carry a prefix.
inline TenantIid KeyTenant(std::string_view key) {
  return key.size() < kTenantPrefixBytes ? 0 : util::DecodeFixed32BE(key.data());
}

}  // namespace recd::storage
