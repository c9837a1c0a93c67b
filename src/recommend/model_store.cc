#include "recommend/model_store.h"

#include "util/log.h"
#include "util/strings.h"

namespace recd::recommend {

model::MapOptions ModelStore::MapOptionsFor(const control::Tenant& tenant) const {
  const sched::Quotas quotas = tiers_->Get()->QuotasFor(tenant.tier, tenant.overrides);
  model::MapOptions options;
  options.populate = quotas.model_memory != sched::ModelMemory::kMapped;
  options.lock = quotas.model_memory == sched::ModelMemory::kLocked;
  return options;
}

std::shared_ptr<const LiveModel> ModelStore::MakeLive(std::string version,
                                                     std::shared_ptr<const model::CompiledModel> m,
                                                     model::MapOptions options) const {
  const bool prefilter =
      prefilter_min_rows_ > 0 && m->rows() >= prefilter_min_rows_ && model::HasPrefilterCopy(*m);
  auto* live = new LiveModel(std::move(version), std::move(m), options, &prefilter_counts_);
  // munmap of a large mapping takes milliseconds: keep it off the request that happens to
  // release the last reference.
  sched::WorkerPool* pool = background_;
  std::shared_ptr<const LiveModel> shared(live, [pool](const LiveModel* p) {
    if (pool == nullptr || !pool->TrySubmit([p] { delete p; })) delete p;
  });
  if (prefilter) {
    // Verifying the copy reads all of it (~1 ms per 100k x 64 items, more from a cold disk):
    // not on a request thread, not under the store's lock, and not before /readyz (SPEC 7.7
    // keeps data checksums off the start). Until it is done the model answers by the float32
    // scan, with the same answers.
    std::weak_ptr<const LiveModel> weak = shared;
    auto verify = [weak] {
      std::shared_ptr<const LiveModel> l = weak.lock();
      if (l == nullptr) return;  // replaced before it was verified
      absl::StatusOr<kernels::F32Prefilter> view = model::PrefilterOf(*l->model);
      if (view.ok()) {
        l->SetPrefilter(*view);
      } else {
        // The float32 matrix still answers; only the shortcut through the copy is lost.
        RECD_LOG(Warning) << "model " << l->version
                          << ": int8 prefilter not used, scanning float32: "
                          << view.status().message();
      }
    };
    if (pool == nullptr || !pool->TrySubmit(verify)) verify();
  }
  return shared;
}

std::shared_ptr<const LiveModel> ModelStore::Map(const control::Tenant& tenant,
                                                 const std::string& version, absl::Status* error) {
  const model::MapOptions options = MapOptionsFor(tenant);
  auto mapped = repository_->Open(tenant.iid, version, options);
  if (!mapped.ok()) {
    *error = mapped.status();
    return nullptr;
  }
  if (options.lock && !(*mapped)->locked()) lock_failures_.fetch_add(1);
  return MakeLive(version, std::move(*mapped), options);
}

ModelStore::Stats ModelStore::GetStats() const {
  Stats stats;
  stats.lock_failures = lock_failures_.load();
  stats.prefilter_proved = prefilter_counts_.proved.load(std::memory_order_relaxed);
  stats.prefilter_full_scan = prefilter_counts_.full_scan.load(std::memory_order_relaxed);
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [iid, live] : live_) {
    ++stats.live;
    stats.mapped_bytes += live->model->file_bytes();
    if (live->prefilter() != nullptr) {
      stats.prefilter_bytes += uint64_t{live->model->rows()} * (live->model->i8_stride() + 4);
    }
  }
  return stats;
}

void ModelStore::LoadActive() {
  auto table = registry_->Snapshot();
  for (const auto& [iid, tenant] : table->by_iid) {
    if (tenant->active_model.empty() || tenant->tier == Tier::kStandard) continue;
    absl::Status error;
    auto live = Map(*tenant, tenant->active_model, &error);
    absl::MutexLock lock(&mu_);
    if (live == nullptr) {
      RECD_LOG(Error) << "tenant " << tenant->id << ": active model " << tenant->active_model
                      << " does not map, serving popular: " << error;
      broken_[iid] = tenant->active_model;
      continue;
    }
    live_[iid] = std::move(live);
  }
}

std::shared_ptr<const LiveModel> ModelStore::Get(const control::Tenant& tenant) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = live_.find(tenant.iid);
    if (it != live_.end()) return it->second;
  }
  if (tenant.active_model.empty()) return nullptr;
  absl::MutexLock write(&write_mu_);
  // The record may have changed since the caller's snapshot: map what is active now.
  auto table = registry_->Snapshot();
  auto current = table->by_iid.find(tenant.iid);
  if (current == table->by_iid.end() || current->second->active_model.empty()) return nullptr;
  const std::string& version = current->second->active_model;
  {
    absl::MutexLock lock(&mu_);
    auto it = live_.find(tenant.iid);
    if (it != live_.end()) return it->second;
    auto broken = broken_.find(tenant.iid);
    if (broken != broken_.end() && broken->second == version) return nullptr;
  }
  absl::Status error;
  auto live = Map(*current->second, version, &error);
  absl::MutexLock lock(&mu_);
  if (live == nullptr) {
    RECD_LOG(Error) << "tenant " << tenant.id << ": active model " << version
                    << " does not map, serving popular: " << error;
    broken_[tenant.iid] = version;
    return nullptr;
  }
  live_[tenant.iid] = live;
  return live;
}

absl::StatusOr<model::ModelInfo> ModelStore::Activate(std::string_view tenant_id,
                                                      std::string_view version) {
  absl::MutexLock write(&write_mu_);
  RECD_ASSIGN_OR_RETURN(std::shared_ptr<const control::Tenant> tenant, registry_->Get(tenant_id));
  RECD_ASSIGN_OR_RETURN(model::ModelInfo info, repository_->Info(tenant->iid, version));
  if (!info.problem.empty()) {
    return absl::DataLossError(util::StrCat("model version ", version, ": ", info.problem));
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = live_.find(tenant->iid);
    if (tenant->active_model == version && it != live_.end() && it->second->version == version) {
      return info;
    }
  }
  // Map and pre-fault first: the swap below must not make requests wait on page faults.
  absl::Status error;
  auto live = Map(*tenant, std::string(version), &error);
  if (live == nullptr) return error;
  RECD_RETURN_IF_ERROR(registry_->Update(tenant_id, [&](control::Tenant* t) {
                                  t->active_model = std::string(version);
                                  return absl::OkStatus();
                                }).status());
  std::shared_ptr<const LiveModel> retired;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = live_[tenant->iid];
    retired = std::move(slot);  // released outside the lock
    slot = std::move(live);
    broken_.erase(tenant->iid);
  }
  RECD_LOG(Info) << "tenant " << tenant_id << ": model " << version << " is live";
  return info;
}

absl::Status ModelStore::ApplyMemoryPolicy(std::string_view tenant_id) {
  absl::MutexLock write(&write_mu_);
  RECD_ASSIGN_OR_RETURN(std::shared_ptr<const control::Tenant> tenant, registry_->Get(tenant_id));
  std::shared_ptr<const LiveModel> current;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = live_.find(tenant->iid);
    if (it == live_.end()) return absl::OkStatus();
    current = it->second;
  }
  const model::MapOptions wanted = MapOptionsFor(*tenant);
  if (wanted.populate == current->options.populate && wanted.lock == current->options.lock) {
    return absl::OkStatus();
  }
  absl::Status error;
  auto live = Map(*tenant, current->version, &error);
  if (live == nullptr) return error;
  std::shared_ptr<const LiveModel> retired;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = live_[tenant->iid];
    retired = std::move(slot);
    slot = std::move(live);
  }
  RECD_LOG(Info) << "tenant " << tenant_id << ": model " << current->version << " re-mapped ("
                 << (wanted.lock ? "locked" : wanted.populate ? "prefetched" : "mapped") << ")";
  return absl::OkStatus();
}

absl::Status ModelStore::Remove(std::string_view tenant_id, std::string_view version) {
  absl::MutexLock write(&write_mu_);
  absl::StatusOr<std::shared_ptr<const control::Tenant>> found = registry_->Get(tenant_id);
  // Erasure is idempotent (SPEC 7.3): an unknown (or offboarded) tenant has no versions.
  if (absl::IsNotFound(found.status())) return absl::OkStatus();
  RECD_ASSIGN_OR_RETURN(std::shared_ptr<const control::Tenant> tenant, std::move(found));
  if (tenant->active_model == version) {
    return absl::FailedPreconditionError(util::StrCat(
        "model version ", version, " is active; activate another version before deleting it"));
  }
  return repository_->Remove(tenant->iid, version);
}

void ModelStore::Drop(TenantIid iid) {
  std::shared_ptr<const LiveModel> retired;
  absl::MutexLock lock(&mu_);
  auto it = live_.find(iid);
  if (it != live_.end()) {
    retired = std::move(it->second);
    live_.erase(it);
  }
  broken_.erase(iid);
}

}  // namespace recd::recommend
