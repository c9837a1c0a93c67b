// /healthz, /readyz, /metrics: cheap, in-memory, answered on the I/O thread.
#include "http/api.h"
#include "http/error_response.h"

namespace recd::http {

void AddOpsRoutes(Router* router, const ApiServices& services) {
  router->Add(Route{Method::kGet, "/healthz", "healthz", Auth::kNone, BodyKind::kNone, true,
                    [](Request&, const CallContext&) {
                      return JsonResponse(200, R"({"status":"ok"})");
                    }});
  router->Add(Route{Method::kGet, "/readyz", "readyz", Auth::kNone, BodyKind::kNone, true,
                    [ready = services.ready](Request&, const CallContext&) {
                      if (!ready()) return ErrorResponse(NotReadyError("not ready"));
                      return JsonResponse(200, R"({"status":"ready"})");
                    }});
  router->Add(Route{Method::kGet, "/metrics", "metrics",
                    services.metrics_require_admin ? Auth::kAdmin : Auth::kNone, BodyKind::kNone,
                    true,
                    [metrics = services.metrics](Request&, const CallContext&) {
                      Response r;
                      r.content_type = "text/plain; version=0.0.4";
                      r.body = metrics->Render();
                      return r;
                    }});
}

}  // namespace recd::http
