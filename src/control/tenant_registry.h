// The tenant registry: onboarding, offboarding, patches, API keys. Mutations are rare admin
// calls, serialised by one mutex and each committed as one synced RocksDB batch, then published
// as a new immutable TenantTable. Readers (every request) only copy a shared_ptr.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "control/tenant.h"
#include "storage/db.h"
#include "util/clock.h"

namespace recd::control {

// Told after a tenant's registry entry and stored data are gone, so that in-memory state
// (histories, popularity, models) is dropped too. Called on the admin request's thread.
class OffboardListener {
 public:
  virtual ~OffboardListener() = default;
  virtual void OnOffboarded(TenantIid iid) = 0;
};

class TenantRegistry {
 public:
  static absl::StatusOr<std::unique_ptr<TenantRegistry>> Open(storage::Db* db,
                                                              const util::Clock* clock);

  std::shared_ptr<const TenantTable> Snapshot() const;
  void AddListener(OffboardListener* listener);  // Before serving starts.

  struct Onboarded {
    std::shared_ptr<const Tenant> tenant;
    std::string server_key;
    std::string ingest_key;
  };
  // One atomic write: registry entry, both keys, the id counter. 409 if the id is taken.
  absl::StatusOr<Onboarded> Onboard(std::string_view id, std::string_view name, Tier tier);
  // 404 for an unknown id.
  absl::StatusOr<std::shared_ptr<const Tenant>> Get(std::string_view id) const;
  // Applies `mutate` to a copy and stores it; a non-OK status from `mutate` changes nothing.
  absl::StatusOr<std::shared_ptr<const Tenant>> Update(
      std::string_view id, absl::FunctionRef<absl::Status(Tenant*)> mutate);
  // Deletes the registry entry, keys and every tenant-prefixed record except usage. Idempotent.
  absl::Status Offboard(std::string_view id);

  struct CreatedKey {
    ApiKey key;
    std::string text;  // recd_<scope>_<key_id>_<secret>; shown once, never stored
  };
  absl::StatusOr<CreatedKey> CreateKey(std::string_view id, Scope scope);
  absl::StatusOr<std::vector<ApiKey>> ListKeys(std::string_view id) const;
  absl::Status RevokeKey(std::string_view id, std::string_view key_id);  // Idempotent.

  // Internal ids that ever carried this external id (offboarded ones included), for billing.
  absl::StatusOr<std::vector<TenantIid>> IidsForName(std::string_view id) const;

 private:
  TenantRegistry(storage::Db* db, const util::Clock* clock) : db_(db), clock_(clock) {}
  absl::Status Load();
  CreatedKey NewKey(TenantIid iid, Scope scope) const;
  void Publish(std::shared_ptr<const TenantTable> table) ABSL_LOCKS_EXCLUDED(snapshot_mu_);

  storage::Db* const db_;
  const util::Clock* const clock_;
  std::vector<OffboardListener*> listeners_;

  // Serialises mutations. Held across the RocksDB write on purpose: admin calls are rare and
  // must observe each other (id uniqueness); request readers never take it.
  absl::Mutex admin_mu_;
  TenantIid next_iid_ ABSL_GUARDED_BY(admin_mu_) = 1;

  mutable absl::Mutex snapshot_mu_;
  std::shared_ptr<const TenantTable> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
};

// Key layouts of the control plane.
std::string KeyRecordKey(TenantIid iid, std::string_view key_id);

}  // namespace recd::control
