// Billing usage per tenant and UTC day (SPEC 7.6), kept in RocksDB's usage family where a merge
// operator adds 8-byte little-endian counters. Event counters are written by the collector in
// the same batch as the events (AddUsageMerges), so they are exact across crashes; everything
// else is summed in memory and flushed by a background thread every interval (and at Stop), so
// a crash loses at most one interval of request counters.
//
// Key: internal tenant id (4 bytes BE) + day since 1970-01-01 (4 bytes BE) + counter (1 byte).
// Thread-safe: Record is called on I/O threads, Read on pool threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "metering/usage_delta.h"
#include "recd/status.h"
#include "recd/types.h"
#include "storage/db.h"
#include "util/clock.h"

namespace recd::metering {

enum class UsageCounter : uint8_t {
  kEventsAccepted = 0,
  kEventsRejected,
  kBytesIngested,
  kRecommendations,
  kSimilar,
  kItemsScored,
  kCpuNs,
  kRequestsRefused,
};
inline constexpr int kNumUsageCounters = 8;

std::string UsageKey(TenantIid iid, int64_t day, UsageCounter counter);
// Adds the non-zero counters of `delta` to `batch` as merges for (iid, day).
void AddUsageMerges(storage::Batch* batch, TenantIid iid, int64_t day, const UsageDelta& delta);

struct DayUsage {
  int64_t day = 0;
  std::array<uint64_t, kNumUsageCounters> counters{};
  uint64_t operator[](UsageCounter c) const { return counters[static_cast<int>(c)]; }
};

class UsageMeter {
 public:
  UsageMeter(storage::Db* db, const util::Clock* clock, int64_t flush_interval_ms = 1000);
  ~UsageMeter();  // Stop()

  // Adds `delta` to the tenant's counters of today (server clock, UTC).
  void Record(TenantIid iid, const UsageDelta& delta);
  void RecordOnDay(TenantIid iid, int64_t day, const UsageDelta& delta);

  // Writes the buffered counters to RocksDB (one batch). Serialised with itself.
  absl::Status Flush();

  // The sums over `iids` for every day in [from_day, to_day], zero-filled, including what is
  // still buffered.
  absl::StatusOr<std::vector<DayUsage>> Read(const std::vector<TenantIid>& iids, int64_t from_day,
                                             int64_t to_day);

  // Stops the flush thread and flushes what is left. Idempotent.
  void Stop();

 private:
  void Loop();
  static uint64_t Key(TenantIid iid, int64_t day) {
    return (uint64_t{iid} << 32) | static_cast<uint32_t>(day);
  }

  storage::Db* const db_;
  const util::Clock* const clock_;
  const int64_t interval_ms_;

  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, UsageDelta> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Held across a whole flush (swap and write) so that a Read's flush sees every earlier
  // Record committed, even when the background flush swapped it out first.
  absl::Mutex flush_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::thread thread_;
};

}  // namespace recd::metering
