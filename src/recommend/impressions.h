// The impression log (SPEC 1): every served recommendation (request id, user, items, model
// version, strategy, time), so that training pipelines can join what was shown with what was
// clicked (events carry the request id back). Keys are tid + served ms + seq, the event log's
// layout, so retention and offboarding treat both alike. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ingest/collector.h"
#include "recommend/recommender.h"
#include "storage/db.h"

namespace recd::recommend {

class ImpressionLog {
 public:
  // `retention` (borrowed) hides expired impressions from exports before compaction drops them.
  ImpressionLog(storage::Db* db, const ingest::Retention* retention);

  // One write, WAL without fsync: an impression is analytics, not an acknowledged write.
  absl::Status Record(TenantIid tid, int64_t served_ms, std::string_view request_id,
                      std::string_view user, const Recommendation& rec);

  // NDJSON lines {"request_id","user","items":[...],"model_version","strategy","served"} with
  // served in [from, to), oldest first, from one snapshot.
  std::unique_ptr<ingest::ExportCursor> Export(TenantIid tid, int64_t from_ms,
                                               int64_t to_ms) const;

 private:
  storage::Db* const db_;
  const ingest::Retention* const retention_;
  std::atomic<uint64_t> seq_;
};

}  // namespace recd::recommend
