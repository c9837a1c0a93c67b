// Reading real interaction logs for replay: MovieLens ratings.csv and the UCI Online Retail CSV
// (plain or gzip). Files are read in place, never copied. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace recd::bench {

struct ReplayEvent {
  std::string user;
  std::string item;
  int64_t ts_ms = 0;
};

// Splits one CSV record (RFC 4180: quoted fields, "" for a quote inside quotes) into fields.
// InvalidArgument on an unterminated quote or junk after a closing quote.
absl::StatusOr<std::vector<std::string>> SplitCsvRecord(std::string_view record);

// "YYYY-MM-DD HH:MM[:SS]" read as UTC -> Unix ms.
absl::StatusOr<int64_t> ParseDateTimeUtcMs(std::string_view text);

struct ReplayReadStats {
  int64_t rows = 0;     // data rows read
  int64_t skipped = 0;  // rows filtered out (guest checkouts, cancellations, returns)
};

// Reads `format` ("movielens": userId,movieId,rating,timestamp; "online-retail": the UCI columns,
// keeping rows with a CustomerID, Quantity > 0 and an InvoiceNo not starting with 'C') from
// `path` (gzip detected by content) and returns the events sorted by time (stable, so rows of
// one invoice keep their order), at most `limit` of them (0: all). Errors name the file and line.
absl::StatusOr<std::vector<ReplayEvent>> ReadReplayFile(const std::string& path,
                                                        std::string_view format, int64_t limit,
                                                        ReplayReadStats* stats = nullptr);

}  // namespace recd::bench
