#include "sched/tier_config.h"

#include <cmath>

#include "util/strings.h"
#include "util/coding.h"

namespace recd::sched {

std::string_view DurabilityName(Durability d) {
  return d == Durability::kProcess ? "process" : "power";
}

std::optional<Durability> ParseDurability(std::string_view s) {
  if (s == "process") return Durability::kProcess;
  if (s == "power") return Durability::kPower;
  return std::nullopt;
}

std::string_view ModelMemoryName(ModelMemory m) {
  switch (m) {
    case ModelMemory::kMapped: return "mapped";
    case ModelMemory::kPrefetched: return "prefetched";
    case ModelMemory::kLocked: return "locked";
  }
  return "mapped";
}

std::optional<ModelMemory> ParseModelMemory(std::string_view s) {
  if (s == "mapped") return ModelMemory::kMapped;
  if (s == "prefetched") return ModelMemory::kPrefetched;
  if (s == "locked") return ModelMemory::kLocked;
  return std::nullopt;
}

Quotas QuotaOverrides::ApplyTo(Quotas q) const {
  if (recommendations_per_s) q.recommendations_per_s = *recommendations_per_s;
  if (events_per_s) q.events_per_s = *events_per_s;
  if (max_k) q.max_k = *max_k;
  if (max_events_per_batch) q.max_events_per_batch = *max_events_per_batch;
  if (deadline_ms) q.deadline_ms = *deadline_ms;
  if (retention_days) q.retention_days = *retention_days;
  if (durability) q.durability = *durability;
  if (model_memory) q.model_memory = *model_memory;
  if (max_model_bytes) q.max_model_bytes = *max_model_bytes;
  if (max_inflight) q.max_inflight = *max_inflight;
  return q;
}

TierSpec QuotaOverrides::ApplyTo(const TierSpec& tier) const {
  TierSpec s = tier;
  s.quotas = ApplyTo(tier.quotas);
  if (pool) s.pool = *pool;
  if (threads) s.threads = static_cast<int>(*threads);
  if (queue) s.queue = static_cast<int>(*queue);
  if (nice) s.nice = static_cast<int>(*nice);
  if (threads || queue || nice) s.pool = PoolKind::kDedicated;
  return s;
}

absl::Status QuotaOverrides::Check() const {
  if (pool == PoolKind::kShared && (threads || queue || nice)) {
    return absl::InvalidArgumentError(
        "quotas.threads, queue and nice give a tenant a pool of its own: they cannot go with "
        "quotas.pool \"shared\"");
  }
  return absl::OkStatus();
}

bool QuotaOverrides::empty() const {
  return !recommendations_per_s && !events_per_s && !max_k && !max_events_per_batch &&
         !deadline_ms && !retention_days && !durability && !model_memory && !max_model_bytes &&
         !max_inflight && !pool && !threads && !queue && !nice;
}

namespace {
// Field tags of the encoded form; stable on disk.
// clang-format off
enum Tag : uint8_t {
  kRecs = 1, kEvents, kMaxK, kMaxBatch, kDeadline, kRetention, kDurability, kMemory, kModelBytes,
  kInflight, kPool, kThreads, kQueue, kNice
};
// clang-format on

void PutInt(std::string* out, Tag tag, int64_t v) {
  out->push_back(static_cast<char>(tag));
  util::PutVarint64(out, static_cast<uint64_t>(v));
}
void PutDbl(std::string* out, Tag tag, double v) {
  out->push_back(static_cast<char>(tag));
  util::PutDouble(out, v);
}
}  // namespace

std::string QuotaOverrides::Encode() const {
  std::string out;
  if (recommendations_per_s) PutDbl(&out, kRecs, *recommendations_per_s);
  if (events_per_s) PutDbl(&out, kEvents, *events_per_s);
  if (max_k) PutInt(&out, kMaxK, *max_k);
  if (max_events_per_batch) PutInt(&out, kMaxBatch, *max_events_per_batch);
  if (deadline_ms) PutInt(&out, kDeadline, *deadline_ms);
  if (retention_days) PutInt(&out, kRetention, *retention_days);
  if (durability) PutInt(&out, kDurability, static_cast<int64_t>(*durability));
  if (model_memory) PutInt(&out, kMemory, static_cast<int64_t>(*model_memory));
  if (max_model_bytes) PutInt(&out, kModelBytes, *max_model_bytes);
  if (max_inflight) PutInt(&out, kInflight, *max_inflight);
  if (pool) PutInt(&out, kPool, static_cast<int64_t>(*pool));
  if (threads) PutInt(&out, kThreads, *threads);
  if (queue) PutInt(&out, kQueue, *queue);
  if (nice) PutInt(&out, kNice, *nice);
  return out;
}

absl::StatusOr<QuotaOverrides> QuotaOverrides::Decode(std::string_view in) {
  QuotaOverrides o;
  while (!in.empty()) {
    auto tag = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    double d = 0;
    uint64_t u = 0;
    bool ok = (tag == kRecs || tag == kEvents) ? util::GetDouble(&in, &d)
                                               : util::GetVarint64(&in, &u);
    if (!ok) return absl::DataLossError("corrupt quota overrides");
    auto i = static_cast<int64_t>(u);
    switch (tag) {
      case kRecs: o.recommendations_per_s = d; break;
      case kEvents: o.events_per_s = d; break;
      case kMaxK: o.max_k = i; break;
      case kMaxBatch: o.max_events_per_batch = i; break;
      case kDeadline: o.deadline_ms = i; break;
      case kRetention: o.retention_days = i; break;
      case kDurability: o.durability = static_cast<Durability>(i); break;
      case kMemory: o.model_memory = static_cast<ModelMemory>(i); break;
      case kModelBytes: o.max_model_bytes = i; break;
      case kInflight: o.max_inflight = i; break;
      // Pool settings are range-checked like the config's: a bad one would rebuild pools.
      case kPool:
        if (u > 1) return absl::DataLossError("corrupt quota overrides: pool");
        o.pool = static_cast<PoolKind>(i);
        break;
      case kThreads:
        if (u < 1 || u > 256) return absl::DataLossError("corrupt quota overrides: threads");
        o.threads = i;
        break;
      case kQueue:
        if (u < 1 || u > 1'000'000) return absl::DataLossError("corrupt quota overrides: queue");
        o.queue = i;
        break;
      case kNice:
        if (u > 19) return absl::DataLossError("corrupt quota overrides: nice");
        o.nice = i;
        break;
      default: return absl::DataLossError("corrupt quota overrides: unknown tag");
    }
  }
  return o;
}

namespace {
absl::Status NeedNumber(std::string_view name, std::optional<double> number, double lo, double hi,
                        bool integer) {
  if (!number) return absl::InvalidArgumentError(util::StrCat("quotas.", name, " must be a number"));
  double v = *number;
  if (!std::isfinite(v) || v < lo || v > hi || (integer && v != std::floor(v))) {
    return absl::InvalidArgumentError(util::StrCat("quotas.", name, " must be ",
                                                   integer ? "an integer" : "a number", " in [",
                                                   lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status SetQuotaField(QuotaOverrides* o, std::string_view name, bool clear,
                           std::optional<double> number, std::optional<std::string_view> text) {
  auto set_int = [&](std::optional<int64_t>* field, double lo, double hi) -> absl::Status {
    if (clear) {
      field->reset();
      return absl::OkStatus();
    }
    RECD_RETURN_IF_ERROR(NeedNumber(name, number, lo, hi, true));
    *field = static_cast<int64_t>(*number);
    return absl::OkStatus();
  };
  auto set_dbl = [&](std::optional<double>* field) -> absl::Status {
    if (clear) {
      field->reset();
      return absl::OkStatus();
    }
    RECD_RETURN_IF_ERROR(NeedNumber(name, number, 0, 1e9, false));
    *field = *number + 0.0;  // -0 is 0 (and shows as 0)
    return absl::OkStatus();
  };
  if (name == "recommendations_per_s") return set_dbl(&o->recommendations_per_s);
  if (name == "events_per_s") return set_dbl(&o->events_per_s);
  if (name == "max_k") return set_int(&o->max_k, 1, 1000);
  if (name == "max_events_per_batch") return set_int(&o->max_events_per_batch, 1, 1000);
  if (name == "deadline_ms") return set_int(&o->deadline_ms, 1, 600'000);
  if (name == "retention_days") return set_int(&o->retention_days, 1, 36'500);
  if (name == "max_model_bytes") return set_int(&o->max_model_bytes, 1, 1e13);
  if (name == "max_inflight") return set_int(&o->max_inflight, 1, 1e6);
  // The same ranges as the config's [tiers.*] keys.
  if (name == "threads") return set_int(&o->threads, 1, 256);
  if (name == "queue") return set_int(&o->queue, 1, 1e6);
  if (name == "nice") return set_int(&o->nice, 0, 19);
  if (name == "pool") {
    if (clear) {
      o->pool.reset();
      return absl::OkStatus();
    }
    if (text && *text == "shared") {
      o->pool = PoolKind::kShared;
    } else if (text && *text == "dedicated") {
      o->pool = PoolKind::kDedicated;
    } else {
      return absl::InvalidArgumentError("quotas.pool must be \"shared\" or \"dedicated\"");
    }
    return absl::OkStatus();
  }
  if (name == "durability") {
    if (clear) {
      o->durability.reset();
      return absl::OkStatus();
    }
    auto d = text ? ParseDurability(*text) : std::nullopt;
    if (!d) return absl::InvalidArgumentError("quotas.durability must be \"process\" or \"power\"");
    o->durability = *d;
    return absl::OkStatus();
  }
  if (name == "model_memory") {
    if (clear) {
      o->model_memory.reset();
      return absl::OkStatus();
    }
    auto m = text ? ParseModelMemory(*text) : std::nullopt;
    if (!m) {
      return absl::InvalidArgumentError(
          "quotas.model_memory must be \"mapped\", \"prefetched\" or \"locked\"");
    }
    o->model_memory = *m;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(util::StrCat("unknown quota \"", name, "\""));
}

TierTable TierTable::Defaults() {
  TierTable t;
  auto& s = t.tiers[0];
  s.tier = Tier::kStandard;
  s.pool = PoolKind::kShared;
  s.threads = 2;
  s.queue = 512;
  s.nice = 10;
  s.quotas = Quotas{};
  s.quotas.retention_days = 30;

  auto& p = t.tiers[1];
  p.tier = Tier::kPremium;
  p.pool = PoolKind::kDedicated;
  p.threads = 2;
  p.queue = 256;
  p.nice = 5;
  p.quotas.recommendations_per_s = 1000;
  p.quotas.events_per_s = 20000;
  p.quotas.retention_days = 90;
  p.quotas.model_memory = ModelMemory::kPrefetched;
  p.quotas.max_model_bytes = int64_t{1} << 30;
  p.quotas.max_inflight = 256;

  auto& e = t.tiers[2];
  e.tier = Tier::kEnterprise;
  e.pool = PoolKind::kDedicated;
  e.threads = 4;
  e.queue = 1024;
  e.nice = 0;
  e.quotas.recommendations_per_s = 5000;
  e.quotas.events_per_s = 100000;
  e.quotas.retention_days = 365;
  e.quotas.model_memory = ModelMemory::kLocked;
  e.quotas.max_model_bytes = int64_t{4} << 30;
  e.quotas.max_inflight = 1024;
  return t;
}

}  // namespace recd::sched
