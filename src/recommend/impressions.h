// The impression log (SPEC 1): every served recommendation (request id, user, items, model
// version, strategy, time), so that training pipelines can join what was shown with what was
// clicked (events carry the request id back). Keys are tid + served ms + seq, the event log's
// layout, so retention and offboarding treat both alike.
//
// Record() only queues: a writer thread at the process's normal priority commits the queue in
// one batch (WAL, no fsync), so a request pays neither a RocksDB write nor, on a niced pool
// thread, the risk of leading a write group for others (SPEC 7.6). An impression is analytics,
// not an acknowledged write: a crash may lose the last few milliseconds of them, and when more
// than kMaxPending wait (the disk cannot keep up) new ones are dropped and counted.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "ingest/collector.h"
#include "recommend/recommender.h"
#include "storage/db.h"

namespace recd::recommend {

class ImpressionLog {
 public:
  // `retention` (borrowed) hides expired impressions from exports before compaction drops them.
  // Starts the writer thread: construct from a thread at normal priority (nice is inherited).
  ImpressionLog(storage::Db* db, const ingest::Retention* retention);
  ~ImpressionLog();  // Writes what is queued, then stops.

  static constexpr size_t kMaxPending = 100'000;

  // Queues the impression. Never blocks on the disk.
  void Record(TenantIid tid, int64_t served_ms, std::string_view request_id,
              std::string_view user, const Recommendation& rec);
  // Waits until everything queued before the call is written (tests, shutdown).
  void Flush();
  uint64_t dropped() const { return dropped_.load(); }

  // NDJSON lines {"request_id","user","items":[...],"model_version","strategy","served"} with
  // served in [from, to), oldest first, from one snapshot.
  std::unique_ptr<ingest::ExportCursor> Export(TenantIid tid, int64_t from_ms,
                                               int64_t to_ms) const;

 private:
  void Run();

  storage::Db* const db_;
  const ingest::Retention* const retention_;
  std::atomic<uint64_t> seq_;
  std::atomic<uint64_t> dropped_{0};

  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;   // impressions ever queued
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;  // ... and handed to RocksDB since
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace recd::recommend
