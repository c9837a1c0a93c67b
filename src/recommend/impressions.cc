#include "recommend/impressions.h"

#include <algorithm>
#include <chrono>

#include "storage/tenant_key.h"
#include "util/coding.h"
#include "util/json_writer.h"
#include "util/log.h"

namespace recd::recommend {
namespace {

constexpr int64_t kGatherMs = 10;

std::string ImpressionKey(TenantIid tid, int64_t served_ms, uint64_t seq) {
  std::string k;
  k.reserve(storage::kTenantPrefixBytes + 16);
  storage::PutTenantPrefix(&k, tid);
  util::PutFixed64BE(&k, static_cast<uint64_t>(std::max<int64_t>(served_ms, 0)));
  util::PutFixed64BE(&k, seq);
  return k;
}


}  // namespace

ImpressionLog::ImpressionLog(storage::Db* db, const ingest::Retention* retention)
    : db_(db),
      retention_(retention),
      // Starting from the wall clock in ns keeps keys of successive runs distinct without a
      // stored counter (two runs cannot start within the same nanosecond).
      seq_(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())),
      thread_([this] { Run(); }) {}

ImpressionLog::~ImpressionLog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void ImpressionLog::Record(TenantIid tid, int64_t served_ms, std::string_view request_id,
                           std::string_view user, const Recommendation& rec) {
  std::string line;
  line.reserve(96 + rec.items.size() * 24);
  util::JsonWriter w(&line);
  w.BeginObject().Key("request_id").String(request_id).Key("user").String(user);
  w.Key("items").BeginArray();
  for (const auto& item : rec.items) w.String(item.item);
  w.EndArray().Key("model_version");
  if (rec.model_version.empty()) {
    w.Null();
  } else {
    w.String(rec.model_version);
  }
  w.Key("strategy").String(StrategyName(rec.strategy)).Key("served").Int(served_ms).EndObject();
  std::string key = ImpressionKey(tid, served_ms, seq_.fetch_add(1));
  absl::MutexLock lock(&mu_);
  if (pending_.size() >= kMaxPending) {
    dropped_.fetch_add(1);
    return;
  }
  pending_.emplace_back(std::move(key), std::move(line));
  ++queued_;
}

void ImpressionLog::Flush() {
  absl::MutexLock lock(&mu_);
  std::pair<ImpressionLog*, uint64_t> until(this, queued_);
  mu_.Await(absl::Condition(
      +[](std::pair<ImpressionLog*, uint64_t>* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return a->first->written_ >= a->second;
      },
      &until));
}

void ImpressionLog::Run() {
  pthread_setname_np(pthread_self(), "recd-impress");
  std::vector<std::pair<std::string, std::string>> batch;
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](ImpressionLog* l) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return l->stop_ || !l->pending_.empty();
        },
        this));
    if (pending_.empty()) return;  // stopping and drained
    // Gather for a moment: one wake-up and one write per 10 ms instead of per request keeps
    // this thread from preempting pool threads on every answer.
    if (!stop_) mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(kGatherMs));
    batch.swap(pending_);
    mu_.Unlock();
    storage::Batch b = db_->NewBatch();
    for (const auto& [key, value] : batch) b.Put(storage::Cf::kImpressions, key, value);
    absl::Status st = db_->Write(b, /*sync=*/false);
    if (!st.ok()) {
      dropped_.fetch_add(batch.size());
      RECD_LOG(Warning) << batch.size() << " impressions not recorded: " << st;
    }
    const size_t n = batch.size();
    batch.clear();
    mu_.Lock();
    written_ += n;
  }
}

std::unique_ptr<ingest::ExportCursor> ImpressionLog::Export(TenantIid tid, int64_t from_ms,
                                                            int64_t to_ms) const {
  const int64_t cutoff = retention_->CutoffMs(tid);
  return ingest::NewRangeCursor(
      db_, storage::Cf::kImpressions, ImpressionKey(tid, from_ms, 0), ImpressionKey(tid, to_ms, 0),
      [cutoff](std::string_view key, std::string_view value, std::string* out) {
        if (key.size() != 20) return absl::OkStatus();
        const auto served =
            static_cast<int64_t>(util::DecodeFixed64BE(key.data() + storage::kTenantPrefixBytes));
        if (served < cutoff) return absl::OkStatus();  // expired, not yet compacted away
        out->append(value);
        out->push_back('\n');
        return absl::OkStatus();
      });
}

}  // namespace recd::recommend
