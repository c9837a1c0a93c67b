// Maps (method, decoded path segments) to a route: 404 when no pattern matches the path, 405
// with the allowed methods when the path matches under other methods. Built once at start,
// read-only afterwards, so thread-safe for lookups.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "control/identity.h"
#include "http/request.h"
#include "sched/tier_config.h"

namespace recd::http {

enum class Auth : uint8_t { kNone, kAdmin, kTenantServer, kTenantIngest /* ingest or server */ };
enum class BodyKind : uint8_t { kNone, kJson, kFile };

// Who is calling, as resolved from the credentials, and (tenant routes) under which limits.
struct CallContext {
  bool admin = false;
  control::TenantPrincipal principal;  // set for tenant routes
  // Tenant routes: the tenant's effective quotas as admission computed them, from the same
  // snapshots as `principal`; the handler applies these rather than looking them up again.
  sched::Quotas quotas;
};

using Handler = std::function<Response(Request&, const CallContext&)>;

struct Route {
  Method method = Method::kGet;
  std::string pattern;  // "/v1/admin/tenants/{id}"; {name} matches one segment
  std::string name;     // metrics label
  Auth auth = Auth::kNone;
  BodyKind body = BodyKind::kNone;
  bool on_io_thread = false;  // only for cheap in-memory routes (health, metrics)
  Handler handler;
  // Browser ingestion (SPEC 7.5): an `Origin` must be in the tenant's allowed_origins, and an
  // ingest key may come as `?key=` (navigator.sendBeacon cannot set headers).
  bool browser = false;
  // Rate limited by the events bucket, charged with the batch size once parsed (SPEC 7.6);
  // every other tenant route costs one request of the requests bucket.
  bool bills_events = false;
};

struct RouteMatch {
  const Route* route = nullptr;    // null: 404 or 405
  std::vector<std::string> params;
  std::string allow;               // non-empty: 405 with this Allow header
};

class Router {
 public:
  void Add(Route route);
  RouteMatch Match(Method method, const std::vector<std::string>& segments) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> parts;  // literal, or "" for a placeholder
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

}  // namespace recd::http
