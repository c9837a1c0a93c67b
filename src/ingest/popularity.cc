#include "ingest/popularity.h"

#include <algorithm>
#include <cmath>

#include "util/coding.h"
#include "util/strings.h"

namespace recd::ingest {
namespace {
// Rebase the landmark before exponents grow past this (2^600 is far from double's limit).
constexpr double kRebaseExponent = 600;
constexpr int64_t kSortedMaxAgeMs = 1000;
}  // namespace

double PopularityWeights::Weight(std::string_view type) const {
  auto it = by_type.find(type);
  return it == by_type.end() ? default_weight : it->second;
}

double Popularity::Exponent(int64_t delta_ms) const {
  if (weights_.half_life_s <= 0) return 0;
  return static_cast<double>(delta_ms) / (weights_.half_life_s * 1000.0);
}

std::shared_ptr<Popularity::Table> Popularity::GetTable(TenantIid tid, bool create) {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(tid);
  if (it != tables_.end()) return it->second;
  if (!create) return nullptr;
  return tables_[tid] = std::make_shared<Table>();
}

void Popularity::Add(TenantIid tid, std::string_view item, std::string_view type, int64_t ts_ms,
                     double sign) {
  std::shared_ptr<Table> t = GetTable(tid, true);
  const double w = sign * weights_.Weight(type);
  absl::MutexLock lock(&t->mu);
  if (t->scores.empty() && t->landmark_ms == 0) t->landmark_ms = ts_ms;
  double e = Exponent(ts_ms - t->landmark_ms);
  if (e > kRebaseExponent) {
    // Move the landmark to this event: every stored sum shrinks by the same factor.
    const double factor = std::exp2(-e);
    for (auto& [k, v] : t->scores) v.sum *= factor;
    t->landmark_ms = ts_ms;
    e = 0;
  }
  // Look up by view: a known item costs no allocation (the common case, per event).
  auto it = t->scores.find(util::ToAbsl(item));
  if (it == t->scores.end()) {
    if (sign < 0) return;  // nothing to take out
    it = t->scores.emplace(std::string(item), Table::Entry{}).first;
  }
  it->second.sum += w * std::exp2(e);
  it->second.events += sign < 0 ? -1 : 1;
  if (it->second.events <= 0) t->scores.erase(it);
  t->dirty = true;
}

std::vector<ScoredItem> Popularity::Top(TenantIid tid, size_t k, int64_t now_ms,
                                        absl::FunctionRef<bool(std::string_view)> skip) {
  std::vector<ScoredItem> out;
  std::shared_ptr<Table> t = GetTable(tid, false);
  if (t == nullptr || k == 0) return out;
  std::shared_ptr<const std::vector<std::pair<std::string, double>>> sorted;
  double scale = 1;
  {
    absl::MutexLock lock(&t->mu);
    if (t->sorted == nullptr || (t->dirty && now_ms - t->sorted_at_ms >= kSortedMaxAgeMs)) {
      auto fresh = std::make_shared<std::vector<std::pair<std::string, double>>>();
      fresh->reserve(t->scores.size());
      for (const auto& [item, entry] : t->scores) fresh->emplace_back(item, entry.sum);
      std::sort(fresh->begin(), fresh->end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      t->sorted = std::move(fresh);
      t->sorted_at_ms = now_ms;
      t->dirty = false;
    }
    sorted = t->sorted;
    scale = std::exp2(-Exponent(now_ms - t->landmark_ms));
  }
  for (const auto& [item, v] : *sorted) {
    if (out.size() >= k) break;
    if (v <= 0 || skip(item)) continue;
    out.push_back({item, v * scale});
  }
  return out;
}

void Popularity::DropTenant(TenantIid tid) {
  absl::MutexLock lock(&mu_);
  tables_.erase(tid);
}

std::vector<TenantIid> Popularity::Tenants() {
  absl::MutexLock lock(&mu_);
  std::vector<TenantIid> out;
  for (const auto& [tid, t] : tables_) out.push_back(tid);
  return out;
}

std::string Popularity::Serialize(TenantIid tid) {
  std::string out;
  std::shared_ptr<Table> t = GetTable(tid, false);
  if (t == nullptr) return out;
  absl::MutexLock lock(&t->mu);
  util::PutVarint64(&out, 2);  // format (1 had no event counts)
  util::PutVarint64(&out, static_cast<uint64_t>(t->landmark_ms));
  util::PutDouble(&out, weights_.half_life_s);
  util::PutVarint64(&out, t->scores.size());
  for (const auto& [item, v] : t->scores) {
    util::PutLengthPrefixed(&out, item);
    util::PutDouble(&out, v.sum);
    util::PutVarint64(&out, static_cast<uint64_t>(v.events));
  }
  return out;
}

absl::Status Popularity::Restore(TenantIid tid, std::string_view in) {
  uint64_t format = 0, landmark = 0, n = 0;
  double half_life = 0;
  // Format 1 lacks the event counts: the caller rebuilds from the log.
  if (!util::GetVarint64(&in, &format) || format != 2 || !util::GetVarint64(&in, &landmark) ||
      !util::GetDouble(&in, &half_life) || !util::GetVarint64(&in, &n)) {
    return absl::DataLossError("corrupt popularity checkpoint");
  }
  if (half_life != weights_.half_life_s) {
    // Sums decayed with another half-life cannot be converted; the caller rebuilds from the log.
    return absl::FailedPreconditionError("popularity half-life changed");
  }
  absl::flat_hash_map<std::string, Table::Entry> scores;
  scores.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view item;
    double v = 0;
    uint64_t events = 0;
    if (!util::GetLengthPrefixed(&in, &item) || !util::GetDouble(&in, &v) ||
        !util::GetVarint64(&in, &events) || events == 0) {
      return absl::DataLossError("corrupt popularity checkpoint");
    }
    scores.emplace(item, Table::Entry{v, static_cast<int64_t>(events)});
  }
  std::shared_ptr<Table> t = GetTable(tid, true);
  absl::MutexLock lock(&t->mu);
  t->landmark_ms = static_cast<int64_t>(landmark);
  t->scores = std::move(scores);
  t->sorted = nullptr;
  t->dirty = true;
  return absl::OkStatus();
}

}  // namespace recd::ingest
