#include "http/params.h"

#include "ingest/event.h"
#include "util/strings.h"

namespace recd::http {
namespace {
constexpr size_t kExportChunkBytes = 64 << 10;
}  // namespace

absl::Status CheckId(std::string_view what, std::string_view id) {
  if (!ingest::IsValidEventId(id)) {
    return absl::InvalidArgumentError(util::StrCat(
        what, " must be 1 to 128 bytes of UTF-8 without control characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntParam(const Request& req, std::string_view name, int64_t lo, int64_t hi,
                                 std::optional<int64_t> fallback) {
  auto v = req.Query(name);
  if (!v) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(util::StrCat("query parameter \"", name, "\" is required"));
  }
  int64_t out = 0;
  if (!util::ParseInt(*v, &out) || out < lo || out > hi) {
    return absl::InvalidArgumentError(
        util::StrCat("\"", name, "\" must be an integer from ", lo, " to ", hi));
  }
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> ExportRange(const Request& req) {
  RECD_ASSIGN_OR_RETURN(int64_t from, IntParam(req, "from", 0, ingest::kMaxTs, std::nullopt));
  RECD_ASSIGN_OR_RETURN(int64_t to, IntParam(req, "to", 0, ingest::kMaxTs, std::nullopt));
  if (to < from) return absl::InvalidArgumentError("\"to\" must not be before \"from\"");
  return std::make_pair(from, to);
}

Response NdjsonResponse(std::shared_ptr<ingest::ExportCursor> cursor) {
  Response r;
  r.content_type = "application/x-ndjson";
  r.stream = [cursor = std::move(cursor)](std::string* chunk) {
    return cursor->Next(chunk, kExportChunkBytes);
  };
  return r;
}

}  // namespace recd::http
