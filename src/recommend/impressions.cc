#include "recommend/impressions.h"

#include <algorithm>
#include <chrono>

#include "util/coding.h"
#include "util/json_writer.h"

namespace recd::recommend {
namespace {

std::string ImpressionKey(TenantIid tid, int64_t served_ms, uint64_t seq) {
  std::string k;
  k.reserve(20);
  util::PutFixed32BE(&k, tid);
  util::PutFixed64BE(&k, static_cast<uint64_t>(std::max<int64_t>(served_ms, 0)));
  util::PutFixed64BE(&k, seq);
  return k;
}

class ImpressionCursor final : public ingest::ExportCursor {
 public:
  ImpressionCursor(const storage::Db* db, TenantIid tid, int64_t from, int64_t to, int64_t cutoff)
      : snapshot_(db->GetSnapshot()),
        end_(ImpressionKey(tid, to, 0)),
        it_(db->NewIterator(storage::Cf::kImpressions, snapshot_.get(), end_)),
        cutoff_(cutoff) {
    it_.Seek(ImpressionKey(tid, from, 0));
  }

  absl::StatusOr<bool> Next(std::string* out, size_t budget) override {
    const size_t start = out->size();
    for (; it_.Valid() && out->size() - start < budget; it_.Next()) {
      if (it_.key().size() != 20) continue;
      const auto served = static_cast<int64_t>(util::DecodeFixed64BE(it_.key().data() + 4));
      if (served < cutoff_) continue;  // expired, not yet compacted away
      out->append(it_.value());
      out->push_back('\n');
    }
    RECD_RETURN_IF_ERROR(it_.status());
    return it_.Valid();
  }

 private:
  std::unique_ptr<storage::Snapshot> snapshot_;
  std::string end_;
  storage::Iterator it_;
  int64_t cutoff_;
};

}  // namespace

ImpressionLog::ImpressionLog(storage::Db* db, const ingest::Retention* retention)
    : db_(db),
      retention_(retention),
      // Starting from the wall clock in ns keeps keys of successive runs distinct without a
      // stored counter (two runs cannot start within the same nanosecond).
      seq_(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())) {}

absl::Status ImpressionLog::Record(TenantIid tid, int64_t served_ms, std::string_view request_id,
                                   std::string_view user, const Recommendation& rec) {
  std::string line;
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
  storage::Batch batch = db_->NewBatch();
  batch.Put(storage::Cf::kImpressions, ImpressionKey(tid, served_ms, seq_.fetch_add(1)), line);
  return db_->Write(batch, /*sync=*/false);
}

std::unique_ptr<ingest::ExportCursor> ImpressionLog::Export(TenantIid tid, int64_t from_ms,
                                                            int64_t to_ms) const {
  return std::make_unique<ImpressionCursor>(db_, tid, from_ms, to_ms, retention_->CutoffMs(tid));
}

}  // namespace recd::recommend
