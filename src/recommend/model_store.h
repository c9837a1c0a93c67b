// The live model of every tenant (SPEC 3, 7.7): which compiled version is active, mapped and
// shared by the requests that score against it. Activation maps (and pre-faults, by the
// tenant's memory policy) the new version before it becomes visible, persists the choice in
// the tenant record, then swaps one pointer; requests holding the old version finish on it,
// and its mapping is released on the background pool after the last reader lets go.
//
// Standard tenants' models are mapped on first use (mapping checks only the header and the
// section table, so it is cheap enough for a request thread); premium and enterprise models
// are mapped at start.
// Thread-safety: every method may be called from any thread. Get() takes a reader lock for
// the pointer copy only; activation and first-use mapping serialise on one writer lock.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "control/tenant_registry.h"
#include "model/f32_prefilter.h"
#include "model/repository.h"
#include "recommend/scoring_batcher.h"
#include "sched/tier_config.h"
#include "sched/worker_pool.h"

namespace recd::recommend {

// One mapped version of one tenant's model.
struct LiveModel {
  LiveModel(std::string version, std::shared_ptr<const model::CompiledModel> model,
            model::MapOptions options, PrefilterCounts* prefilter_counts)
      : version(std::move(version)),
        model(std::move(model)),
        options(options),
        prefilter_counts(prefilter_counts) {}

  const std::string version;
  const std::shared_ptr<const model::CompiledModel> model;
  const model::MapOptions options;          // how it was mapped
  PrefilterCounts* const prefilter_counts;  // the store's
  // Concurrent requests scoring this version share passes over its matrix.
  mutable ScoringBatcher batcher;

  // A float32 model whose file carries an int8 copy, from prefilter_min_rows rows, is scanned
  // through the copy (same answers; docs/ARCHITECTURE.md, "Float32 through an int8
  // prefilter") once the background pool has verified it; null before that, and for every
  // other model: scoring then runs the full float32 scan.
  const kernels::F32Prefilter* prefilter() const {
    return prefilter_.load(std::memory_order_acquire);
  }
  // Publishes the verified view; called once, by the store's verification task.
  void SetPrefilter(const kernels::F32Prefilter& view) const {
    prefilter_view_ = view;
    prefilter_.store(&prefilter_view_, std::memory_order_release);
  }

 private:
  mutable kernels::F32Prefilter prefilter_view_{};
  mutable std::atomic<const kernels::F32Prefilter*> prefilter_{nullptr};
};

class ModelStore {
 public:
  // All borrowed; `background` releases retired mappings (null: on the releasing thread).
  // Float32 models of at least `prefilter_min_rows` rows (0: none) are scanned through the
  // int8 copy their file carries (import writes one from the same threshold); files without
  // one are scanned in float32.
  ModelStore(model::ModelRepository* repository, control::TenantRegistry* registry,
             sched::TierTableHolder* tiers, sched::WorkerPool* background,
             uint32_t prefilter_min_rows = 0)
      : repository_(repository),
        registry_(registry),
        tiers_(tiers),
        background_(background),
        prefilter_min_rows_(prefilter_min_rows) {}

  // Maps the active models of premium and enterprise tenants (standard ones map on first
  // use). A version that no longer maps is logged and left unmapped: that tenant is served
  // `popular` until an operator activates a good version.
  void LoadActive();

  // The tenant's live model, or null when it has none (or its file no longer maps).
  std::shared_ptr<const LiveModel> Get(const control::Tenant& tenant);

  // Makes `version` live. Errors: NotFound for an unknown tenant or version, DataLoss for a
  // damaged file (the old version stays live). Activating the live version is a no-op.
  absl::StatusOr<model::ModelInfo> Activate(std::string_view tenant_id, std::string_view version);

  // Re-maps the live version under the tenant's current memory policy (after a tier or quota
  // change) and swaps it in, if the policy differs from the one it was mapped with. No live
  // model: nothing to do.
  absl::Status ApplyMemoryPolicy(std::string_view tenant_id);

  // Deletes an inactive version. Errors: FailedPrecondition if it is the active one.
  absl::Status Remove(std::string_view tenant_id, std::string_view version);

  // Offboarding: forget the tenant (its files are removed by the repository).
  void Drop(TenantIid iid);

  struct Stats {
    uint64_t live = 0;            // tenants with a mapped live model
    uint64_t mapped_bytes = 0;    // their compiled files' sizes
    uint64_t lock_failures = 0;   // mlock refused since start (served mapped instead)
    uint64_t prefilter_bytes = 0; // of mapped_bytes: the int8 copies scanned as prefilters
    uint64_t prefilter_proved = 0;     // since start: PrefilterCounts
    uint64_t prefilter_full_scan = 0;
  };
  Stats GetStats() const;

 private:
  model::MapOptions MapOptionsFor(const control::Tenant& tenant) const;
  std::shared_ptr<const LiveModel> MakeLive(std::string version,
                                            std::shared_ptr<const model::CompiledModel> m,
                                            model::MapOptions options) const;

  model::ModelRepository* const repository_;
  control::TenantRegistry* const registry_;
  sched::TierTableHolder* const tiers_;
  sched::WorkerPool* const background_;
  const uint32_t prefilter_min_rows_;
  mutable PrefilterCounts prefilter_counts_;

  std::shared_ptr<const LiveModel> Map(const control::Tenant& tenant, const std::string& version,
                                       absl::Status* error);

  std::atomic<uint64_t> lock_failures_{0};
  absl::Mutex write_mu_;  // activation, first-use mapping, removal
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TenantIid, std::shared_ptr<const LiveModel>> live_ ABSL_GUARDED_BY(mu_);
  // Versions that failed to map, so a broken file is not re-read by every request.
  absl::flat_hash_map<TenantIid, std::string> broken_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recd::recommend
