#include "http/error_response.h"

#include <algorithm>

#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::http {

int HttpStatusFor(const absl::Status& status) {
  const std::string code = ErrorCodeOf(status);
  if (code == "invalid_argument") return 400;
  if (code == "unauthenticated") return 401;
  if (code == "permission_denied" || code == "suspended") return 403;
  if (code == "not_found") return 404;
  if (code == "method_not_allowed") return 405;
  if (code == "already_exists" || code == "failed_precondition") return 409;
  if (code == "too_large") return 413;
  if (code == "unsupported_media_type") return 415;
  if (code == "rate_limited") return 429;
  if (code == "overloaded" || code == "not_ready" || code == "unavailable") return 503;
  return 500;
}

Response ErrorResponse(const absl::Status& status) {
  Response r;
  r.status = HttpStatusFor(status);
  const std::string code = r.status == 500 ? "internal" : ErrorCodeOf(status);
  util::JsonWriter w(&r.body);
  w.BeginObject().Key("error").BeginObject().Key("code").String(code).Key("message").String(
      util::ToStd(status.message()));
  auto retry_ms = RetryAfterMsOf(status);
  const bool retry_in_body = r.status == 429 && retry_ms.has_value();
  if (retry_in_body) w.Key("retry_after_ms").Int(*retry_ms);
  w.EndObject();
  // SPEC 7.6 says "retry_after_ms in the body" without a place: it is in the error object,
  // beside the code, and at the top level, where a client that reads only that finds it.
  if (retry_in_body) w.Key("retry_after_ms").Int(*retry_ms);
  w.EndObject();
  if (r.status == 429) {
    int64_t ms = retry_ms.value_or(1000);
    r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, (ms + 999) / 1000)));
  } else if (r.status == 503) {
    r.headers.emplace_back("Retry-After", "1");
  }
  return r;
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace recd::http
