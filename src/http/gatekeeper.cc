#include "http/gatekeeper.h"

#include <algorithm>

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

absl::StatusOr<Ticket> BasicGatekeeper::Admit(const Route& route, const Request& request) {
  Ticket ticket;
  RECD_ASSIGN_OR_RETURN(ticket.ctx, Authorize(*identity_, route, request));
  ticket.pool = route.auth == Auth::kAdmin ? control_pool_ : request_pool_;
  if (ticket.pool->QueueDepth() >= ticket.pool->capacity()) {
    return OverloadedError(util::StrCat("pool ", ticket.pool->name(), " queue is full"));
  }
  return ticket;
}

}  // namespace recd::http
