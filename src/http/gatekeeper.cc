#include "http/gatekeeper.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "http/error_response.h"
#include "util/strings.h"

namespace recd::http {

absl::StatusOr<CallContext> Authorize(const control::Identity& identity, const Route& route,
                                      const Request& request) {
  CallContext ctx;
  const std::string_view authorization = request.Header("authorization").value_or("");
  switch (route.auth) {
    case Auth::kNone:
      return ctx;
    case Auth::kAdmin:
      RECD_RETURN_IF_ERROR(identity.CheckAdmin(authorization));
      ctx.admin = true;
      return ctx;
    case Auth::kTenantServer:
    case Auth::kTenantIngest: {
      auto query_key = request.Query("key");
      if (route.browser && authorization.empty() && query_key) {
        RECD_ASSIGN_OR_RETURN(ctx.principal, identity.AuthenticateKey(*query_key));
        // A URL ends up in logs: only the browser-safe ingest scope may travel there.
        if (ctx.principal.scope != Scope::kIngest) {
          return absl::PermissionDeniedError("only an ingest key may be passed as ?key=");
        }
      } else {
        RECD_ASSIGN_OR_RETURN(ctx.principal, identity.AuthenticateTenant(authorization));
      }
      if (route.auth == Auth::kTenantServer && ctx.principal.scope != Scope::kServer) {
        return absl::PermissionDeniedError(
            util::StrCat("an ingest key may only POST /v1/events; ", MethodName(route.method),
                         " ", route.pattern, " needs a server key"));
      }
      if (ctx.principal.tenant->status == TenantStatus::kSuspended) {
        return SuspendedError(util::StrCat("tenant \"", ctx.principal.tenant->id,
                                           "\" is suspended"));
      }
      if (auto origin = request.Header("origin"); route.browser && origin) {
        const auto& allowed = ctx.principal.tenant->allowed_origins;
        if (std::find(allowed.begin(), allowed.end(), "*") == allowed.end() &&
            std::find(allowed.begin(), allowed.end(), *origin) == allowed.end()) {
          return absl::PermissionDeniedError(
              util::StrCat("origin \"", *origin, "\" is not in the tenant's allowed_origins"));
        }
      }
      return ctx;
    }
  }
  return absl::InternalError("unknown auth kind");
}

namespace {

constexpr std::string_view kTierLabels[kNumTiers] = {"standard", "premium", "enterprise"};

// The client's X-Request-Timeout-Ms: nullopt when absent, InvalidArgument when malformed.
absl::StatusOr<std::optional<int64_t>> ClientTimeoutMs(const Request& request) {
  auto h = request.Header("x-request-timeout-ms");
  if (!h) return std::optional<int64_t>();
  int64_t ms = 0;
  if (!util::ParseInt(util::StripWhitespace(*h), &ms) || ms < 1) {
    return absl::InvalidArgumentError("X-Request-Timeout-Ms must be a positive integer");
  }
  return std::optional<int64_t>(ms);
}

}  // namespace

TieredGatekeeper::TieredGatekeeper(Deps deps)
    : deps_(deps), labelled_(std::make_shared<const absl::flat_hash_set<TenantIid>>()) {
  requests_ = deps_.metrics->AddCounter(
      "recd_tenant_requests_total", "Tenant requests answered, by tenant, tier and status",
      {"tenant", "tier", "status"});
  rejections_ = deps_.metrics->AddCounter(
      "recd_tenant_rejections_total",
      "Tenant requests refused by the scheduler, by reason (rate_limited, overloaded, deadline)",
      {"tenant", "tier", "reason"});
  events_ = deps_.metrics->AddCounter(
      "recd_events_ingested_total",
      "Events in answered POST /v1/events batches, by tenant, tier and result (accepted: "
      "stored; rejected: named in the answer's \"rejected\")",
      {"tenant", "tier", "result"});
}

void TieredGatekeeper::SetLabelledTenants(absl::flat_hash_set<TenantIid> iids) {
  auto next = std::make_shared<const absl::flat_hash_set<TenantIid>>(std::move(iids));
  absl::MutexLock lock(&labels_mu_);
  labelled_ = std::move(next);
}

std::string_view TieredGatekeeper::LabelOf(const control::Tenant& tenant) const {
  if (tenant.tier != Tier::kStandard) return tenant.id;
  std::shared_ptr<const absl::flat_hash_set<TenantIid>> set;
  {
    absl::MutexLock lock(&labels_mu_);
    set = labelled_;
  }
  return set->contains(tenant.iid) ? std::string_view(tenant.id) : "_other";
}

void TieredGatekeeper::Count(const control::Tenant& tenant, int status, std::string_view reason) {
  const std::string_view label = LabelOf(tenant);
  const std::string_view tier = kTierLabels[static_cast<int>(tenant.tier)];
  char digits[16];
  const auto printed = std::to_chars(digits, digits + sizeof(digits), status);
  requests_->Get({label, tier, std::string_view(digits, printed.ptr - digits)})->Inc();
  if (!reason.empty()) rejections_->Get({label, tier, reason})->Inc();
}

absl::Status TieredGatekeeper::Refuse(const control::Tenant& tenant, absl::Status status,
                                      std::string_view reason) {
  const int code = HttpStatusFor(status);
  Count(tenant, code, reason);
  if (deps_.usage != nullptr) {
    metering::UsageDelta refused;
    refused.requests_refused = 1;
    deps_.usage->Record(tenant.iid, refused);
  }
  return status;
}

absl::StatusOr<Ticket> TieredGatekeeper::Admit(const Route& route, const Request& request) {
  Ticket ticket;
  RECD_ASSIGN_OR_RETURN(ticket.ctx, Authorize(*deps_.identity, route, request));
  if (route.auth == Auth::kAdmin || route.auth == Auth::kNone) {
    // Admin routes are never rate limited (SPEC 7.6).
    ticket.pool = deps_.control_pool;
    ticket.tier_label = "control";
    if (!route.on_io_thread && ticket.pool->QueueDepth() >= ticket.pool->capacity()) {
      return OverloadedError("the control pool's queue is full");
    }
    return ticket;
  }
  const control::Tenant& tenant = *ticket.ctx.principal.tenant;
  const auto table = deps_.tiers->Get();
  // The tier's pool settings, or the tenant's own (a tenant with pool overrides has a pool of
  // its own); the copy only for those tenants.
  const sched::TierSpec& tier_spec = table->Get(tenant.tier);
  std::optional<sched::TierSpec> own_spec;
  if (tenant.overrides.HasPoolSettings()) own_spec = tenant.overrides.ApplyTo(tier_spec);
  const sched::TierSpec& spec = own_spec ? *own_spec : tier_spec;
  // Computed once per request: the handler reads them from the context.
  ticket.ctx.quotas = table->QuotasFor(tenant.tier, tenant.overrides);
  const sched::Quotas& quotas = ticket.ctx.quotas;

  // 429: events pay their count once parsed; every other tenant route costs one request.
  const bool events = route.bills_events;
  absl::Status rate =
      events ? deps_.limiter->Admit(tenant.iid, sched::TenantLimiter::Kind::kEvents,
                                    quotas.events_per_s, 0)
             : deps_.limiter->Admit(tenant.iid, sched::TenantLimiter::Kind::kRequests,
                                    quotas.recommendations_per_s, 1);
  if (!rate.ok()) return Refuse(tenant, rate, "rate_limited");

  // A malformed timeout is a 400, after the 503s below and the server's 413 and 415: admitted
  // with the tier's deadline, refused by the server after those checks.
  auto timeout = ClientTimeoutMs(request);
  if (!timeout.ok()) ticket.deferred_error = timeout.status();

  // 503: the tenant's own cap first (it protects its tier-mates), then its pool's queue.
  std::shared_ptr<void> inflight = deps_.limiter->TryHold(tenant.iid, quotas.max_inflight);
  if (!inflight) {
    return Refuse(tenant,
                  OverloadedError(util::StrCat("tenant holds max_inflight (", quotas.max_inflight,
                                               ") requests already")),
                  "overloaded");
  }
  std::shared_ptr<sched::WorkerPool> pool = deps_.scheduler->PoolFor(tenant.iid, spec);
  if (!pool) return Refuse(tenant, OverloadedError("shutting down"), "overloaded");
  if (pool->QueueDepth() >= pool->capacity()) {
    return Refuse(tenant, OverloadedError(util::StrCat("pool ", pool->name(), " queue is full")),
                  "overloaded");
  }
  int64_t deadline_ms = quotas.deadline_ms;
  if (timeout.ok() && *timeout && **timeout < deadline_ms) deadline_ms = **timeout;
  ticket.deadline_mono_ns = request.admitted_mono_ns + deadline_ms * 1'000'000;
  ticket.pool = pool.get();
  ticket.tier_label = kTierLabels[static_cast<int>(tenant.tier)];
  ticket.tenant_label = LabelOf(tenant);
  ticket.inflight_hold = std::move(inflight);
  ticket.pool_hold = std::move(pool);
  return ticket;
}

void TieredGatekeeper::Complete(const Ticket& ticket, int status, const metering::UsageDelta& usage,
                                const IngestedCounts& ingested, std::string_view reason) {
  const control::Tenant* tenant = ticket.ctx.principal.tenant.get();
  if (tenant == nullptr) return;  // admin and ops routes are not billed
  const bool refused = status == 429 || status == 503;
  if (refused && reason.empty()) reason = status == 429 ? "rate_limited" : "overloaded";
  Count(*tenant, status, refused ? reason : std::string_view());
  // The labels admission chose (LabelOf once per request, not again here).
  const std::string_view label = ticket.tenant_label;
  const std::string_view tier = ticket.tier_label;
  if (ingested.accepted > 0) events_->Get({label, tier, "accepted"})->Inc(ingested.accepted);
  if (ingested.rejected > 0) events_->Get({label, tier, "rejected"})->Inc(ingested.rejected);
  if (deps_.usage == nullptr) return;
  if (refused) {
    metering::UsageDelta d;
    d.requests_refused = 1;
    deps_.usage->Record(tenant->iid, d);
  } else if (status >= 200 && status < 300) {
    deps_.usage->Record(tenant->iid, usage);  // only served work is billed
  }
}

}  // namespace recd::http
