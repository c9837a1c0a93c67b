// Events as stored: the log record, the history record, their tenant-prefixed keys, and the
// validation rules of SPEC 2 and 7.2. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "recd/status.h"
#include "recd/types.h"

namespace recd::ingest {

inline constexpr int64_t kMaxTs = int64_t{1} << 53;
inline constexpr size_t kMaxIdBytes = 128;

// One event as the client sent it (after JSON parsing); ts absent means server time.
struct EventInput {
  std::string_view user, item, type, request_id;
  std::optional<int64_t> ts;
  bool ts_valid = true;  // false: present but not an integer in range
};

struct Event {
  std::string user, item, type, request_id;
  int64_t ts = 0;        // Unix ms, client time
  int64_t received = 0;  // Unix ms, server time (retention and export order)
  uint64_t seq = 0;      // arrival order, unique per process lifetime and across restarts
};

// The per-event error code ("" when valid): invalid_user, invalid_item, invalid_type, invalid_ts,
// ts_in_future, invalid_request_id.
std::string_view ValidateEvent(const EventInput& in, int64_t now_ms, int64_t max_future_skew_ms);
bool IsValidType(std::string_view type);
bool IsValidEventId(std::string_view id);  // 1..128 bytes, UTF-8, no control characters

// Log (events CF): tid | received (8 BE) | seq (8 BE) -> user, item, type, ts, request_id.
std::string LogKey(TenantIid tid, int64_t received, uint64_t seq);
// `received` of a log key (also of an impression key, same layout); nullopt if it is not one.
std::optional<int64_t> LogKeyReceived(std::string_view key);
std::string EncodeLogValue(const Event& e);
absl::StatusOr<Event> DecodeLog(std::string_view key, std::string_view value);

// History (history CF): tid | user | 0x00 | ~ts (8 BE) | ~seq (8 BE) -> item, type, ts, received.
// Ascending key order is newest first per user; ties in ts go to the later arrival.
std::string HistoryPrefix(TenantIid tid, std::string_view user);
std::string HistoryKey(TenantIid tid, std::string_view user, int64_t ts, uint64_t seq);
std::string EncodeHistoryValue(const Event& e);
// Fills item, type, ts, received, seq (user comes from the caller).
absl::Status DecodeHistory(std::string_view key, std::string_view value, Event* e);
// Only `received` (what retention decides on), copying nothing; false where DecodeHistory
// would fail.
bool DecodeHistoryReceived(std::string_view key, std::string_view value, int64_t* received);

}  // namespace recd::ingest
