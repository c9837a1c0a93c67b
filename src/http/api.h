// Route tables of the v1 API and the services their handlers call. Handlers are thin: parse,
// call a service, render. Built once by app/; the services outlive the router.
#pragma once

#include <atomic>
#include <functional>

#include "control/tenant_registry.h"
#include "ingest/collector.h"
#include "http/router.h"
#include "metering/metrics.h"
#include "model/repository.h"
#include "recommend/impressions.h"
#include "recommend/model_store.h"
#include "recommend/recommender.h"
#include "metering/usage_meter.h"
#include "sched/tier_config.h"
#include "sched/token_bucket.h"
#include "util/clock.h"

namespace recd::http {

struct ApiServices {
  control::TenantRegistry* registry = nullptr;
  sched::TierTableHolder* tiers = nullptr;
  metering::MetricsRegistry* metrics = nullptr;
  const util::Clock* clock = nullptr;
  std::function<bool()> ready;  // storage open, models loaded, not draining
  ingest::Collector* collector = nullptr;
  int64_t max_future_skew_ms = 300'000;
  model::ModelRepository* models = nullptr;
  recommend::ModelStore* model_store = nullptr;
  recommend::Recommender* recommender = nullptr;
  recommend::ImpressionLog* impressions = nullptr;
  std::string model_root;  // folders importable with {"path": ...}; empty: none
  uint32_t prefilter_min_rows = 0;  // ImportOptions::prefilter_min_rows (f32_prefilter_min_rows)
  // Tiers (issue 5): the events bucket is charged once a batch is parsed; usage is read by
  // the admin usage route. Null in unit tests that do not need them.
  sched::TenantLimiter* limiter = nullptr;
  metering::UsageMeter* usage = nullptr;
  bool metrics_require_admin = false;  // /metrics behind the admin token
};

void AddOpsRoutes(Router* router, const ApiServices& services);
void AddAdminRoutes(Router* router, const ApiServices& services);
void AddEventRoutes(Router* router, const ApiServices& services);
void AddModelRoutes(Router* router, const ApiServices& services);
void AddRecommendRoutes(Router* router, const ApiServices& services);
// GET /v1/admin/tenants/{id}/usage; added by AddAdminRoutes.
void AddUsageRoutes(Router* router, const ApiServices& services);

}  // namespace recd::http
