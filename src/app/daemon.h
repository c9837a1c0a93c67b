// Wires the components of one recd process together and owns them, in dependency order:
// storage, control plane, pools, HTTP. Tests start a Daemon in-process or run the binary.
// Start/Shutdown are called from the main thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "app/config.h"
#include "control/identity.h"
#include "control/tenant_registry.h"
#include "http/gatekeeper.h"
#include "ingest/collector.h"
#include "http/router.h"
#include "http/server.h"
#include "metering/metrics.h"
#include "model/repository.h"
#include "recommend/impressions.h"
#include "recommend/model_store.h"
#include "recommend/recommender.h"
#include "metering/usage_meter.h"
#include "sched/tier_config.h"
#include "sched/tier_scheduler.h"
#include "sched/token_bucket.h"
#include "sched/worker_pool.h"
#include "storage/db.h"

namespace recd::app {

class Daemon {
 public:
  // Restricts the calling thread to config.cpus (when set) before starting any thread, so
  // that every thread inherits it: call it from the main thread.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const Config& config);
  ~Daemon();

  uint16_t port() const { return server_->port(); }
  const std::string& admin_token() const { return admin_token_; }
  // SIGTERM/SIGINT: readiness drops at once, then drain, then RocksDB closes.
  void Shutdown();
  // SIGHUP: tiers and limits from a re-read config; a bad config keeps the old ones.
  absl::Status Reload(const Config& config);

 private:
  Daemon() = default;
  absl::Status Init(const Config& config);
  // The standard tenants with their own metrics label: the first max_tenant_labels by
  // onboarding order (SPEC 7.6); recomputed only at start and on SIGHUP.
  void RelabelTenants();

  Config config_;
  std::string admin_token_;
  std::atomic<bool> ready_{false};
  metering::MetricsRegistry metrics_;
  std::unique_ptr<ingest::Retention> retention_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<ingest::Collector> collector_;
  std::unique_ptr<control::OffboardListener> offboard_listener_;
  std::unique_ptr<model::ModelRepository> models_;
  std::unique_ptr<sched::TierTableHolder> tiers_;
  std::unique_ptr<control::TenantRegistry> registry_;
  std::unique_ptr<control::Identity> identity_;
  std::unique_ptr<sched::WorkerPool> control_pool_;
  // After the pools: retired models are released on the control pool while it lives.
  std::unique_ptr<recommend::ModelStore> model_store_;
  std::unique_ptr<recommend::Recommender> recommender_;
  std::unique_ptr<recommend::ImpressionLog> impressions_;
  std::unique_ptr<sched::TierScheduler> scheduler_;
  std::unique_ptr<sched::TenantLimiter> limiter_;
  std::unique_ptr<metering::UsageMeter> usage_;
  std::unique_ptr<http::TieredGatekeeper> gatekeeper_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
  bool shut_down_ = false;
};

// The admin token: RECD_ADMIN_TOKEN, else the config's, else <data_dir>/admin.token (created
// with mode 0600 on first start).
absl::StatusOr<std::string> ResolveAdminToken(const Config& config, bool* generated);

}  // namespace recd::app
