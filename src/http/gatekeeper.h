// Admission, decided on the I/O thread from the headers alone (SPEC 7.4 order, 7.6): who is
// calling (401), may they (403: scope, suspended), and which pool runs the work. Thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "control/identity.h"
#include "http/router.h"
#include "metering/metrics.h"
#include "metering/usage_meter.h"
#include "sched/tier_config.h"
#include "sched/tier_scheduler.h"
#include "sched/token_bucket.h"
#include "sched/worker_pool.h"

namespace recd::http {

// What admission grants: the caller and the pool. The holds are released when the request
// ends (the ticket is reset): the tenant's in-flight slot, and the tenant pool itself, which
// stays alive while it runs what it was given even if it was retired meanwhile.
struct Ticket {
  CallContext ctx;
  sched::WorkerPool* pool = nullptr;
  int64_t deadline_mono_ns = 0;  // 0: none
  std::shared_ptr<void> inflight_hold;
  std::shared_ptr<sched::WorkerPool> pool_hold;
  std::string_view tier_label;  // metrics label of the pool's tier ("control" for admin)
  // The tenant's metrics label (its id, or "_other" past the label cap); empty for admin and
  // ops routes. A view of the tenant the ticket holds, or of a literal.
  std::string_view tenant_label;
  // A 400 found in the headers during admission that SPEC 7.4 orders after the size and
  // media type checks (a malformed X-Request-Timeout-Ms): the server refuses with it then.
  absl::Status deferred_error;
};

class Gatekeeper {
 public:
  virtual ~Gatekeeper() = default;
  virtual absl::StatusOr<Ticket> Admit(const Route& route, const Request& request) = 0;
  // Told once per admitted request when its answer has been sent (server's I/O thread):
  // bills `usage` for a 2xx answer, a refusal for 429/503, and counts `ingested` events.
  // `reason` says why the server refused it after admission ("deadline", "overloaded");
  // empty otherwise.
  virtual void Complete(const Ticket& /*ticket*/, int /*status*/,
                        const metering::UsageDelta& /*usage*/, const IngestedCounts& /*ingested*/,
                        std::string_view /*reason*/) {}
};

// Issue-5 admission (SPEC 7.4 order, 7.6): after credentials, the tenant's request or events
// bucket (429), its in-flight cap and its pool's queue (503), then the deadline. Tenant work
// runs on the pool the TierScheduler assigns; admin work on the control pool. Refusals after
// authentication are billed as requests_refused and counted per tenant and reason.
class TieredGatekeeper final : public Gatekeeper {
 public:
  struct Deps {
    const control::Identity* identity = nullptr;
    sched::WorkerPool* control_pool = nullptr;
    const sched::TierTableHolder* tiers = nullptr;
    sched::TierScheduler* scheduler = nullptr;
    sched::TenantLimiter* limiter = nullptr;
    metering::UsageMeter* usage = nullptr;  // may be null (no billing)
    metering::MetricsRegistry* metrics = nullptr;
  };
  explicit TieredGatekeeper(Deps deps);

  absl::StatusOr<Ticket> Admit(const Route& route, const Request& request) override;
  void Complete(const Ticket& ticket, int status, const metering::UsageDelta& usage,
                const IngestedCounts& ingested, std::string_view reason) override;

  // The standard tenants that get their own metrics label; set at start and on SIGHUP only
  // (SPEC 7.6). Premium and enterprise tenants are always labelled; the rest are "_other".
  void SetLabelledTenants(absl::flat_hash_set<TenantIid> iids);
  // The tenant's metrics label: a view of `tenant.id` or a literal, valid while `tenant` is.
  std::string_view LabelOf(const control::Tenant& tenant) const;

 private:
  absl::Status Refuse(const control::Tenant& tenant, absl::Status status, std::string_view reason);
  void Count(const control::Tenant& tenant, int status, std::string_view reason);

  Deps deps_;
  metering::CounterFamily* requests_;
  metering::CounterFamily* rejections_;
  metering::CounterFamily* events_;
  mutable absl::Mutex labels_mu_;
  std::shared_ptr<const absl::flat_hash_set<TenantIid>> labelled_ ABSL_GUARDED_BY(labels_mu_);
};

// Credentials and permission only (shared by gatekeepers): 401/403 as the SPEC orders them.
absl::StatusOr<CallContext> Authorize(const control::Identity& identity, const Route& route,
                                      const Request& request);

}  // namespace recd::http
