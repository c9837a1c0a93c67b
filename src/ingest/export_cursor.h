// Streaming exports (NDJSON of the event log, of impressions): a cursor over one key range of
// one column family, read from one snapshot, that renders each record as a line. The HTTP
// layer pulls chunks on a pool thread, so an export never holds the range in memory.
// Not thread-safe: one export, one puller.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "recd/status.h"
#include "storage/db.h"

namespace recd::ingest {

class ExportCursor {
 public:
  // Appends NDJSON lines to `out`, about `budget` bytes more; false once the range is done.
  virtual absl::StatusOr<bool> Next(std::string* out, size_t budget) = 0;
  virtual ~ExportCursor() = default;
};

// Appends the line for one record to `out`, or nothing to skip it (expired, say).
using LineWriter =
    std::function<absl::Status(std::string_view key, std::string_view value, std::string* out)>;

// Keys in [begin, end) of `cf` as of construction time.
std::unique_ptr<ExportCursor> NewRangeCursor(const storage::Db* db, storage::Cf cf,
                                             std::string begin, std::string end,
                                             LineWriter write_line);

}  // namespace recd::ingest
