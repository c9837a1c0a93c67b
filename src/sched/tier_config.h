// Tier definitions (SPEC 4, 7.6): pools and the per-tenant limits a tier grants, plus the
// per-tenant overrides an operator may set. Plain values; an immutable TierTable snapshot is
// shared by readers and replaced whole on SIGHUP.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "recd/status.h"
#include "recd/types.h"
#include "util/thread.h"

namespace recd::sched {

enum class PoolKind : uint8_t { kShared = 0, kDedicated = 1 };
enum class Durability : uint8_t { kProcess = 0, kPower = 1 };
enum class ModelMemory : uint8_t { kMapped = 0, kPrefetched = 1, kLocked = 2 };

std::string_view DurabilityName(Durability d);
std::optional<Durability> ParseDurability(std::string_view s);
std::string_view ModelMemoryName(ModelMemory m);
std::optional<ModelMemory> ParseModelMemory(std::string_view s);

// The limits one tenant runs under.
struct Quotas {
  double recommendations_per_s = 100;
  double events_per_s = 5000;
  int64_t max_k = 1000;
  int64_t max_events_per_batch = 1000;
  int64_t deadline_ms = 1000;
  int64_t retention_days = 30;
  Durability durability = Durability::kProcess;
  ModelMemory model_memory = ModelMemory::kMapped;
  int64_t max_model_bytes = int64_t{256} << 20;
  int64_t max_inflight = 64;
};

struct TierSpec;

// Per-tenant overrides of the tier's settings (SPEC 7.6: "overrides any of them"); an empty
// optional means "the tier's value".
struct QuotaOverrides {
  std::optional<double> recommendations_per_s;
  std::optional<double> events_per_s;
  std::optional<int64_t> max_k;
  std::optional<int64_t> max_events_per_batch;
  std::optional<int64_t> deadline_ms;
  std::optional<int64_t> retention_days;
  std::optional<Durability> durability;
  std::optional<ModelMemory> model_memory;
  std::optional<int64_t> max_model_bytes;
  std::optional<int64_t> max_inflight;
  // The pool settings. A shared pool's threads serve the whole tier, so a tenant with any of
  // threads, queue or nice gets a pool of its own (pool "shared" with them is refused).
  std::optional<PoolKind> pool;
  std::optional<int64_t> threads;
  std::optional<int64_t> queue;
  std::optional<int64_t> nice;

  Quotas ApplyTo(Quotas base) const;
  // The tier's spec as this tenant runs under it: pool settings and quotas.
  TierSpec ApplyTo(const TierSpec& tier) const;
  bool HasPoolSettings() const { return pool || threads || queue || nice; }
  // InvalidArgument for overrides that contradict each other (pool "shared" with threads,
  // queue or nice).
  absl::Status Check() const;
  bool empty() const;
  std::string Encode() const;
  static absl::StatusOr<QuotaOverrides> Decode(std::string_view in);
};

// Sets one override by its config/API name from a string or number form; `clear` restores the
// tier's value. Unknown names and out-of-range values are InvalidArgument naming the field.
absl::Status SetQuotaField(QuotaOverrides* overrides, std::string_view name, bool clear,
                           std::optional<double> number, std::optional<std::string_view> text);

struct TierSpec {
  Tier tier = Tier::kStandard;
  PoolKind pool = PoolKind::kShared;
  int threads = 2;
  int queue = 256;
  int nice = 10;
  util::CpuList cpus;  // where the pool's threads run; empty: where the process's `cpus` says
  Quotas quotas;
};

struct TierTable {
  std::array<TierSpec, kNumTiers> tiers;
  const TierSpec& Get(Tier t) const { return tiers[static_cast<int>(t)]; }
  // The limits a tenant of `tier` with `overrides` runs under (its effective quotas).
  Quotas QuotasFor(Tier tier, const QuotaOverrides& overrides) const {
    return overrides.ApplyTo(Get(tier).quotas);
  }
  static TierTable Defaults();
};

// The current TierTable, replaced whole on SIGHUP. Thread-safe.
class TierTableHolder {
 public:
  explicit TierTableHolder(TierTable table)
      : table_(std::make_shared<const TierTable>(std::move(table))) {}
  std::shared_ptr<const TierTable> Get() const {
    absl::MutexLock lock(&mu_);
    return table_;
  }
  void Set(TierTable table) {
    auto next = std::make_shared<const TierTable>(std::move(table));
    absl::MutexLock lock(&mu_);
    table_ = std::move(next);
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const TierTable> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recd::sched
