#include "metering/usage_meter.h"

#include <cstring>

#include "storage/tenant_key.h"
#include "util/coding.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::metering {
namespace {

std::string DayPrefix(TenantIid iid, int64_t day) {
  std::string k;
  storage::PutTenantPrefix(&k, iid);
  util::PutFixed32BE(&k, static_cast<uint32_t>(day));
  return k;
}

std::string Le64(uint64_t v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);  // the merge operator's format (x86-64 is little-endian)
  return out;
}

const uint64_t* Field(const UsageDelta& d, int i) {
  const uint64_t* fields[kNumUsageCounters] = {&d.events_accepted, &d.events_rejected,
                                               &d.bytes_ingested,  &d.recommendations,
                                               &d.similar,         &d.items_scored,
                                               &d.cpu_ns,          &d.requests_refused};
  return fields[i];
}

void Add(UsageDelta* into, const UsageDelta& d) {
  into->events_accepted += d.events_accepted;
  into->events_rejected += d.events_rejected;
  into->bytes_ingested += d.bytes_ingested;
  into->recommendations += d.recommendations;
  into->similar += d.similar;
  into->items_scored += d.items_scored;
  into->cpu_ns += d.cpu_ns;
  into->requests_refused += d.requests_refused;
}

}  // namespace

std::string UsageKey(TenantIid iid, int64_t day, UsageCounter counter) {
  std::string k = DayPrefix(iid, day);
  k.push_back(static_cast<char>(counter));
  return k;
}

void AddUsageMerges(storage::Batch* batch, TenantIid iid, int64_t day, const UsageDelta& delta) {
  for (int i = 0; i < kNumUsageCounters; ++i) {
    uint64_t v = *Field(delta, i);
    if (v == 0) continue;
    batch->Merge(storage::Cf::kUsage, UsageKey(iid, day, static_cast<UsageCounter>(i)), Le64(v));
  }
}

UsageMeter::UsageMeter(storage::Db* db, const util::Clock* clock, int64_t flush_interval_ms)
    : db_(db), clock_(clock), interval_ms_(flush_interval_ms) {
  thread_ = std::thread([this] { Loop(); });
}

UsageMeter::~UsageMeter() { Stop(); }

void UsageMeter::Record(TenantIid iid, const UsageDelta& delta) {
  RecordOnDay(iid, util::DayOfUnixMs(clock_->NowMs()), delta);
}

void UsageMeter::RecordOnDay(TenantIid iid, int64_t day, const UsageDelta& delta) {
  if (delta.empty()) return;
  absl::MutexLock lock(&mu_);
  Add(&pending_[Key(iid, day)], delta);
}

absl::Status UsageMeter::Flush() {
  absl::MutexLock flush_lock(&flush_mu_);
  absl::flat_hash_map<uint64_t, UsageDelta> taken;
  {
    absl::MutexLock lock(&mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return absl::OkStatus();
  storage::Batch batch = db_->NewBatch();
  for (const auto& [key, delta] : taken) {
    AddUsageMerges(&batch, static_cast<TenantIid>(key >> 32),
                   static_cast<int64_t>(static_cast<uint32_t>(key)), delta);
  }
  absl::Status st = db_->Write(batch, /*sync=*/false);
  if (!st.ok()) {
    // Keep the counts for the next attempt rather than lose billed work.
    absl::MutexLock lock(&mu_);
    for (const auto& [key, delta] : taken) Add(&pending_[key], delta);
  }
  return st;
}

absl::StatusOr<std::vector<DayUsage>> UsageMeter::Read(const std::vector<TenantIid>& iids,
                                                       int64_t from_day, int64_t to_day) {
  RECD_RETURN_IF_ERROR(Flush());
  std::vector<DayUsage> days(static_cast<size_t>(to_day - from_day + 1));
  for (size_t i = 0; i < days.size(); ++i) days[i].day = from_day + static_cast<int64_t>(i);
  for (TenantIid iid : iids) {
    const std::string begin = DayPrefix(iid, from_day);
    const std::string end = DayPrefix(iid, to_day + 1);
    auto it = db_->NewIterator(storage::Cf::kUsage, nullptr, end);
    for (it.Seek(begin); it.Valid(); it.Next()) {
      std::string_view k = it.key(), v = it.value();
      if (k.size() != 9 || v.size() != 8) {
        return absl::DataLossError("corrupt usage record");
      }
      const int64_t day = util::DecodeFixed32BE(k.data() + storage::kTenantPrefixBytes);
      const auto counter = static_cast<uint8_t>(k[8]);
      if (day < from_day || day > to_day || counter >= kNumUsageCounters) continue;
      uint64_t value = 0;
      std::memcpy(&value, v.data(), 8);
      days[static_cast<size_t>(day - from_day)].counters[counter] += value;
    }
    RECD_RETURN_IF_ERROR(it.status());
  }
  return days;
}

void UsageMeter::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(interval_ms_));
    if (stopping_) break;
    mu_.Unlock();
    absl::Status st = Flush();
    if (!st.ok()) RECD_LOG(Error) << "usage flush failed (kept for the next one): " << st;
    mu_.Lock();
  }
}

void UsageMeter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::Status st = Flush();
  if (!st.ok()) RECD_LOG(Error) << "final usage flush failed: " << st;
}

}  // namespace recd::metering
