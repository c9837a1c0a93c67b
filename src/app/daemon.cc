#include "app/daemon.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "http/api.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/thread.h"

namespace recd::app {

absl::StatusOr<std::string> ResolveAdminToken(const Config& config, bool* generated) {
  *generated = false;
  if (const char* env = std::getenv("RECD_ADMIN_TOKEN"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (!config.admin_token.empty()) return config.admin_token;
  const std::string path = config.data_dir + "/admin.token";
  if (std::ifstream in(path); in) {
    std::string token;
    std::getline(in, token);
    token = std::string(util::StripWhitespace(token));
    if (token.size() < 16) return absl::FailedPreconditionError(path + " holds no valid token");
    return token;
  }
  std::string token = util::RandomString(40, util::kBase62);
  // O_EXCL + 0600: the secret is never readable by others, not even for a moment.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(util::StrCat("cannot create ", path, ": ",
                                                         std::strerror(errno)));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::UnavailableError(util::StrCat("cannot write ", path));
  *generated = true;
  return token;
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const Config& config) {
  std::unique_ptr<Daemon> d(new Daemon());
  RECD_RETURN_IF_ERROR(d->Init(config));
  return d;
}

absl::Status Daemon::Init(const Config& config) {
  config_ = config;
  // Before any thread starts: every thread inherits this set unless its lane or tier pool
  // names its own (anywhere in ProcessCpus(), remembered first).
  util::ProcessCpus();
  RECD_RETURN_IF_ERROR(util::SetCurrentThreadCpus(config.cpus));
  std::error_code ec;
  for (const char* sub : {"", "/db", "/models", "/uploads"}) {
    std::filesystem::create_directories(config.data_dir + sub, ec);
    if (ec) {
      return absl::UnavailableError(
          util::StrCat("cannot create ", config.data_dir, sub, ": ", ec.message()));
    }
  }
  // Staged uploads of a previous run are incomplete by definition.
  for (const auto& entry : std::filesystem::directory_iterator(config.data_dir + "/uploads", ec)) {
    std::filesystem::remove_all(entry.path(), ec);
  }

  bool generated = false;
  RECD_ASSIGN_OR_RETURN(admin_token_, ResolveAdminToken(config, &generated));
  if (generated) {
    RECD_LOG(Info) << "generated an admin token in " << config.data_dir << "/admin.token (mode 0600)";
  }

  const util::Clock* clock = &util::SystemClock::Get();
  retention_ = std::make_unique<ingest::Retention>(clock);
  storage::DbOptions db_options;
  db_options.events_drop = retention_->EventsPredicate();
  db_options.history_drop = retention_->HistoryPredicate();
  db_options.impressions_drop = retention_->ImpressionsPredicate();
  db_options.idempotency_drop = retention_->IdempotencyPredicate();
  // Every file is recompacted (through the retention filter) within max_purge_days.
  db_options.periodic_compaction_seconds = static_cast<uint64_t>(config.max_purge_days) * 86400;
  RECD_ASSIGN_OR_RETURN(db_, storage::Db::Open(config.data_dir + "/db", db_options));
  tiers_ = std::make_unique<sched::TierTableHolder>(config.tiers);
  RECD_ASSIGN_OR_RETURN(registry_, control::TenantRegistry::Open(db_.get(), clock));
  retention_->SetLookup([registry = registry_.get(),
                         tiers = tiers_.get()](TenantIid tid) -> std::optional<int64_t> {
    auto table = registry->Snapshot();
    auto it = table->by_iid.find(tid);
    if (it == table->by_iid.end()) return std::nullopt;
    const auto quotas = tiers->Get()->QuotasFor(it->second->tier, it->second->overrides);
    return quotas.retention_days * 86'400'000;
  });

  ingest::CollectorOptions collector_options;
  for (const auto& [type, w] : config.popularity.event_weights) {
    collector_options.popularity.by_type[type] = w;
  }
  collector_options.popularity.default_weight = config.popularity.default_weight;
  collector_options.popularity.half_life_s = config.popularity.half_life_s;
  RECD_ASSIGN_OR_RETURN(collector_, ingest::Collector::Open(db_.get(), clock, retention_.get(),
                                                            collector_options));
  RECD_ASSIGN_OR_RETURN(models_, model::ModelRepository::Open(config.data_dir + "/models", clock));
  usage_ = std::make_unique<metering::UsageMeter>(db_.get(), clock);
  scheduler_ = std::make_unique<sched::TierScheduler>();
  limiter_ = std::make_unique<sched::TenantLimiter>(clock);
  scheduler_->SetTierLookup([registry = registry_.get(), tiers = tiers_.get()](
                                TenantIid iid) -> std::optional<sched::TierScheduler::Placement> {
    auto table = registry->Snapshot();
    auto it = table->by_iid.find(iid);
    if (it == table->by_iid.end()) return std::nullopt;
    const control::Tenant& t = *it->second;
    const sched::TierSpec spec = t.overrides.ApplyTo(tiers->Get()->Get(t.tier));
    return sched::TierScheduler::Placement{t.tier, spec.pool == sched::PoolKind::kDedicated};
  });
  identity_ = std::make_unique<control::Identity>(registry_.get(), admin_token_);

  control_pool_ = std::make_unique<sched::WorkerPool>("control", config.control_threads, 64, 0);
  model_store_ = std::make_unique<recommend::ModelStore>(
      models_.get(), registry_.get(), tiers_.get(), control_pool_.get(),
      static_cast<uint32_t>(config.f32_prefilter_min_rows));
  model_store_->LoadActive();  // before readiness: premium and enterprise models are mapped
  recommender_ = std::make_unique<recommend::Recommender>(model_store_.get(), collector_.get(),
                                                          config.batch_scoring);
  impressions_ = std::make_unique<recommend::ImpressionLog>(db_.get(), retention_.get());
  metrics_.AddGauge("recd_models_live", "Tenants with a mapped live model, and their bytes",
                    {"measure"}, [this] {
                      const auto st = model_store_->GetStats();
                      return std::vector<metering::GaugeSample>{
                          {{"models"}, static_cast<double>(st.live)},
                          {{"bytes"}, static_cast<double>(st.mapped_bytes)},
                          {{"prefilter_bytes"}, static_cast<double>(st.prefilter_bytes)}};
                    });
  metrics_.AddGauge("recd_scoring_prefilter_queries_total",
                    "Float32 queries scanned through an int8 prefilter, by how the answer was "
                    "settled: proved by the error bound, or by the full float32 scan after it",
                    {"result"}, [this] {
                      const auto st = model_store_->GetStats();
                      return std::vector<metering::GaugeSample>{
                          {{"proved"}, static_cast<double>(st.prefilter_proved)},
                          {{"full_scan"}, static_cast<double>(st.prefilter_full_scan)}};
                    });
  metrics_.AddGauge("recd_model_mlock_failures_total",
                    "Models that asked for mlock and are served mapped instead", {}, [this] {
                      return std::vector<metering::GaugeSample>{
                          {{}, static_cast<double>(model_store_->GetStats().lock_failures)}};
                    });
  metrics_.AddGauge("recd_impressions_dropped_total",
                    "Impressions not recorded (queue full or write failed) since start", {}, [this] {
                      return std::vector<metering::GaugeSample>{
                          {{}, static_cast<double>(impressions_ ? impressions_->dropped() : 0)}};
                    });

  // Offboarding drops the tenant's in-memory state too: histories, popularity, its live model
  // and model files, its dedicated pool (queued work still runs) and its buckets. Usage stays
  // for billing.
  struct DropTenantState final : control::OffboardListener {
    void OnOffboarded(TenantIid iid) override {
      collector->DropTenant(iid);
      store->Drop(iid);
      if (absl::Status st = repository->RemoveTenant(iid); !st.ok()) {
        RECD_LOG(Error) << "offboarded tenant " << iid << ": model files not removed: " << st;
      }
      scheduler->Retire(iid);
      limiter->Forget(iid);
    }
    ingest::Collector* collector;
    model::ModelRepository* repository;
    recommend::ModelStore* store;
    sched::TierScheduler* scheduler;
    sched::TenantLimiter* limiter;
  };
  auto listener = std::make_unique<DropTenantState>();
  listener->collector = collector_.get();
  listener->repository = models_.get();
  listener->store = model_store_.get();
  listener->scheduler = scheduler_.get();
  listener->limiter = limiter_.get();
  offboard_listener_ = std::move(listener);
  registry_->AddListener(offboard_listener_.get());

  http::TieredGatekeeper::Deps deps;
  deps.identity = identity_.get();
  deps.control_pool = control_pool_.get();
  deps.tiers = tiers_.get();
  deps.scheduler = scheduler_.get();
  deps.limiter = limiter_.get();
  deps.usage = usage_.get();
  deps.metrics = &metrics_;
  gatekeeper_ = std::make_unique<http::TieredGatekeeper>(deps);
  RelabelTenants();

  metrics_.AddGauge("recd_build_info", "Build information", {"version"},
                    [] { return std::vector<metering::GaugeSample>{{{RECD_VERSION}, 1}}; });
  // `tenant`: the tenant of a dedicated pool (under the label cap), empty for shared pools.
  metrics_.AddGauge(
      "recd_pool_queue_depth", "Queued requests per pool", {"pool", "tier", "tenant"}, [this] {
        std::vector<metering::GaugeSample> out{{{control_pool_->name(), "control", ""},
                                                static_cast<double>(control_pool_->QueueDepth())}};
        auto table = registry_->Snapshot();
        for (const auto& p : scheduler_->Pools()) {
          std::string tenant;
          if (p.dedicated) {
            auto it = table->by_iid.find(p.iid);
            tenant = it == table->by_iid.end() ? "_gone"
                                               : std::string(gatekeeper_->LabelOf(*it->second));
          }
          out.push_back({{p.name, std::string(TierName(p.tier)), std::move(tenant)},
                         static_cast<double>(p.queue_depth)});
        }
        return out;
      });
  metrics_.AddGauge("recd_dedicated_pools", "Dedicated tenant pools alive", {}, [this] {
    return std::vector<metering::GaugeSample>{
        {{}, static_cast<double>(scheduler_->dedicated_pools())}};
  });
  metrics_.AddGauge("recd_tenant_requests_in_flight",
                    "Requests holding a tenant's in-flight slot (queued or running)", {}, [this] {
                      return std::vector<metering::GaugeSample>{
                          {{}, static_cast<double>(limiter_->TotalInFlight())}};
                    });
  metrics_.AddGauge("recd_tenants", "Registered tenants", {}, [this] {
    return std::vector<metering::GaugeSample>{
        {{}, static_cast<double>(registry_->Snapshot()->by_id.size())}};
  });

  http::ApiServices services;
  services.registry = registry_.get();
  services.tiers = tiers_.get();
  services.metrics = &metrics_;
  services.clock = &util::SystemClock::Get();
  services.ready = [this] { return ready_.load(); };
  services.collector = collector_.get();
  services.max_future_skew_ms = config.max_future_skew_s * 1000;
  services.models = models_.get();
  services.model_store = model_store_.get();
  services.recommender = recommender_.get();
  services.impressions = impressions_.get();
  services.model_root = config.model_root;
  if (config.model_root.empty()) {
    RECD_LOG(Info) << "model_root is not set: {\"path\"} model imports may name any folder "
                      "recd can read (set model_root to confine them)";
  }
  services.prefilter_min_rows = static_cast<uint32_t>(config.f32_prefilter_min_rows);
  services.limiter = limiter_.get();
  services.usage = usage_.get();
  services.metrics_require_admin = config.metrics_require_admin;
  router_ = std::make_unique<http::Router>();
  http::AddOpsRoutes(router_.get(), services);
  http::AddAdminRoutes(router_.get(), services);
  http::AddEventRoutes(router_.get(), services);
  http::AddModelRoutes(router_.get(), services);
  http::AddRecommendRoutes(router_.get(), services);

  http::ServerOptions so;
  so.host = config.listen_host;
  so.port = config.listen_port;
  so.io_threads = config.io_threads;
  so.priority_io_threads = config.priority_io_threads;
  so.io_nice = config.io_nice;
  so.io_cpus = config.io_cpus;
  so.priority_io_cpus = config.priority_io_cpus;
  so.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  so.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  so.max_upload_bytes = static_cast<size_t>(config.max_upload_bytes);
  so.read_timeout_ms = config.read_timeout_ms;
  so.idle_timeout_ms = config.idle_timeout_ms;
  so.max_connections = static_cast<size_t>(config.max_connections);
  so.upload_dir = config.data_dir + "/uploads";
  so.max_concurrent_uploads = static_cast<size_t>(config.max_concurrent_uploads);
  server_ = std::make_unique<http::HttpServer>(so, router_.get(), gatekeeper_.get(), &metrics_);
  RECD_RETURN_IF_ERROR(server_->Start());
  ready_ = true;
  RECD_LOG(Info) << "recd " << RECD_VERSION << " listening on http://" << config.listen_host
                 << ":" << server_->port() << " (data in " << config.data_dir << ")";
  return absl::OkStatus();
}

void Daemon::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  ready_ = false;
  RECD_LOG(Info) << "shutting down: draining in-flight requests (grace "
                 << config_.shutdown_grace_s << " s)";
  if (server_) server_->Stop(config_.shutdown_grace_s * 1000);
  if (scheduler_) scheduler_->Shutdown();
  if (control_pool_) control_pool_->Shutdown();
  server_.reset();
  model_store_.reset();
  impressions_.reset();  // writes the queued impressions
  if (usage_) usage_->Stop();  // the last second of request counters
  collector_.reset();  // final popularity checkpoint
  // Compactions may still run until the database closes: their retention lookup must not
  // reach the registry once it is gone (without one, nothing counts as expired).
  if (retention_) retention_->SetLookup(nullptr);
  registry_.reset();
  db_.reset();  // flushes and closes RocksDB
  RECD_LOG(Info) << "stopped cleanly";
}

absl::Status Daemon::Reload(const Config& config) {
  tiers_->Set(config.tiers);
  config_.tiers = config.tiers;
  config_.max_tenant_labels = config.max_tenant_labels;
  RelabelTenants();
  RECD_LOG(Info) << "reloaded tiers and limits (pools are resized as their tenants next call)";
  return absl::OkStatus();
}

void Daemon::RelabelTenants() {
  auto table = registry_->Snapshot();
  std::vector<TenantIid> standard;
  for (const auto& [iid, t] : table->by_iid) {
    if (t->tier == Tier::kStandard) standard.push_back(iid);
  }
  // Internal ids are handed out in onboarding order and never reused.
  std::sort(standard.begin(), standard.end());
  if (standard.size() > static_cast<size_t>(config_.max_tenant_labels)) {
    standard.resize(static_cast<size_t>(config_.max_tenant_labels));
  }
  gatekeeper_->SetLabelledTenants({standard.begin(), standard.end()});
}

Daemon::~Daemon() { Shutdown(); }

}  // namespace recd::app
