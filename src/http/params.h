// Validation of the path and query parameters tenant routes share (SPEC 7.4), and the NDJSON
// streaming answer of the export routes. Errors are InvalidArgument naming the parameter.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "http/request.h"
#include "ingest/export_cursor.h"

namespace recd::http {

// A user or item id: 1 to 128 bytes of UTF-8 without control characters.
absl::Status CheckId(std::string_view what, std::string_view id);

// The integer query parameter `name` within [lo, hi]; `fallback` when absent (else required).
absl::StatusOr<int64_t> IntParam(const Request& req, std::string_view name, int64_t lo,
                                 int64_t hi, std::optional<int64_t> fallback);

// `from` (inclusive) and `to` (exclusive), both required Unix ms, to not before from.
absl::StatusOr<std::pair<int64_t, int64_t>> ExportRange(const Request& req);

// 200 application/x-ndjson, chunked, pulled from `cursor` on the pool thread.
Response NdjsonResponse(std::shared_ptr<ingest::ExportCursor> cursor);

}  // namespace recd::http
