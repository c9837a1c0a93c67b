#include "ingest/event.h"

#include "storage/tenant_key.h"
#include "util/coding.h"
#include "util/text.h"

namespace recd::ingest {

bool IsValidType(std::string_view type) {
  if (type.empty() || type.size() > 32) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

bool IsValidEventId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdBytes && util::IsValidId(id);
}

std::string_view ValidateEvent(const EventInput& in, int64_t now_ms, int64_t max_future_skew_ms) {
  if (!IsValidEventId(in.user)) return "invalid_user";
  if (!IsValidEventId(in.item)) return "invalid_item";
  if (!IsValidType(in.type)) return "invalid_type";
  if (!in.ts_valid || (in.ts && (*in.ts < 0 || *in.ts >= kMaxTs))) return "invalid_ts";
  if (in.ts && *in.ts > now_ms + max_future_skew_ms) return "ts_in_future";
  if (!in.request_id.empty() && !IsValidEventId(in.request_id)) return "invalid_request_id";
  return {};
}

std::string LogKey(TenantIid tid, int64_t received, uint64_t seq) {
  std::string k;
  k.reserve(storage::kTenantPrefixBytes + 16);
  storage::PutTenantPrefix(&k, tid);
  util::PutFixed64BE(&k, static_cast<uint64_t>(received));
  util::PutFixed64BE(&k, seq);
  return k;
}

std::string EncodeLogValue(const Event& e) {
  std::string v;
  util::PutLengthPrefixed(&v, e.user);
  util::PutLengthPrefixed(&v, e.item);
  util::PutLengthPrefixed(&v, e.type);
  util::PutVarint64(&v, static_cast<uint64_t>(e.ts));
  util::PutLengthPrefixed(&v, e.request_id);
  return v;
}

std::optional<int64_t> LogKeyReceived(std::string_view key) {
  if (key.size() != storage::kTenantPrefixBytes + 16) return std::nullopt;
  return static_cast<int64_t>(util::DecodeFixed64BE(key.data() + storage::kTenantPrefixBytes));
}

absl::StatusOr<Event> DecodeLog(std::string_view key, std::string_view value) {
  Event e;
  const std::optional<int64_t> received = LogKeyReceived(key);
  if (!received) return absl::DataLossError("corrupt event log key");
  e.received = *received;
  e.seq = util::DecodeFixed64BE(key.data() + storage::kTenantPrefixBytes + 8);
  std::string_view user, item, type, rid;
  uint64_t ts = 0;
  if (!util::GetLengthPrefixed(&value, &user) || !util::GetLengthPrefixed(&value, &item) ||
      !util::GetLengthPrefixed(&value, &type) || !util::GetVarint64(&value, &ts) ||
      !util::GetLengthPrefixed(&value, &rid)) {
    return absl::DataLossError("corrupt event log record");
  }
  e.user = user;
  e.item = item;
  e.type = type;
  e.ts = static_cast<int64_t>(ts);
  e.request_id = rid;
  return e;
}

std::string HistoryPrefix(TenantIid tid, std::string_view user) {
  std::string k;
  k.reserve(storage::kTenantPrefixBytes + user.size() + 1 + 16);
  storage::PutTenantPrefix(&k, tid);
  k.append(user);
  k.push_back('\0');  // ids hold no NUL, so "u" never prefixes "u1"'s records
  return k;
}

std::string HistoryKey(TenantIid tid, std::string_view user, int64_t ts, uint64_t seq) {
  std::string k = HistoryPrefix(tid, user);
  util::PutFixed64BE(&k, ~static_cast<uint64_t>(ts));
  util::PutFixed64BE(&k, ~seq);
  return k;
}

std::string EncodeHistoryValue(const Event& e) {
  std::string v;
  util::PutLengthPrefixed(&v, e.item);
  util::PutLengthPrefixed(&v, e.type);
  util::PutVarint64(&v, static_cast<uint64_t>(e.ts));
  util::PutVarint64(&v, static_cast<uint64_t>(e.received));
  return v;
}

namespace {

// tid, the NUL after the user, ~ts and ~seq.
constexpr size_t kMinHistoryKeyBytes = storage::kTenantPrefixBytes + 1 + 16;

// A history value's fields, as views into it. False if it is corrupt.
struct HistoryFields {
  std::string_view item, type;
  uint64_t ts = 0, received = 0;
};
bool ParseHistoryValue(std::string_view value, HistoryFields* f) {
  return util::GetLengthPrefixed(&value, &f->item) && util::GetLengthPrefixed(&value, &f->type) &&
         util::GetVarint64(&value, &f->ts) && util::GetVarint64(&value, &f->received);
}

}  // namespace

absl::Status DecodeHistory(std::string_view key, std::string_view value, Event* e) {
  if (key.size() < kMinHistoryKeyBytes) return absl::DataLossError("corrupt history key");
  e->seq = ~util::DecodeFixed64BE(key.data() + key.size() - 8);
  HistoryFields f;
  if (!ParseHistoryValue(value, &f)) return absl::DataLossError("corrupt history record");
  e->item = f.item;
  e->type = f.type;
  e->ts = static_cast<int64_t>(f.ts);
  e->received = static_cast<int64_t>(f.received);
  return absl::OkStatus();
}

bool DecodeHistoryReceived(std::string_view key, std::string_view value, int64_t* received) {
  HistoryFields f;
  if (key.size() < kMinHistoryKeyBytes || !ParseHistoryValue(value, &f)) return false;
  *received = static_cast<int64_t>(f.received);
  return true;
}

}  // namespace recd::ingest
