#include "recd/status.h"

#include "absl/strings/cord.h"
#include "util/strings.h"

namespace recd {

absl::Status WithCode(absl::Status status, std::string_view code) {
  status.SetPayload(util::ToAbsl(kErrorCodePayload), absl::Cord(util::ToAbsl(code)));
  return status;
}

absl::Status TooLargeError(std::string_view message) {
  return WithCode(absl::ResourceExhaustedError(util::ToAbsl(message)), "too_large");
}

absl::Status RateLimitedError(std::string_view message, int64_t retry_after_ms) {
  absl::Status s = WithCode(absl::ResourceExhaustedError(util::ToAbsl(message)), "rate_limited");
  s.SetPayload(util::ToAbsl(kRetryAfterMsPayload), absl::Cord(std::to_string(retry_after_ms)));
  return s;
}

absl::Status OverloadedError(std::string_view message) {
  return WithCode(absl::UnavailableError(util::ToAbsl(message)), "overloaded");
}

absl::Status NotReadyError(std::string_view message) {
  return WithCode(absl::UnavailableError(util::ToAbsl(message)), "not_ready");
}

absl::Status SuspendedError(std::string_view message) {
  return WithCode(absl::PermissionDeniedError(util::ToAbsl(message)), "suspended");
}

absl::Status MethodNotAllowedError(std::string_view message) {
  return WithCode(absl::UnimplementedError(util::ToAbsl(message)), "method_not_allowed");
}

absl::Status UnsupportedMediaTypeError(std::string_view message) {
  return WithCode(absl::InvalidArgumentError(util::ToAbsl(message)), "unsupported_media_type");
}

std::string ErrorCodeOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(util::ToAbsl(kErrorCodePayload))) return std::string(*payload);
  switch (status.code()) {
    case absl::StatusCode::kOk: return "ok";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return "invalid_argument";
    case absl::StatusCode::kUnauthenticated: return "unauthenticated";
    case absl::StatusCode::kPermissionDenied: return "permission_denied";
    case absl::StatusCode::kNotFound: return "not_found";
    case absl::StatusCode::kAlreadyExists: return "already_exists";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted: return "failed_precondition";
    case absl::StatusCode::kResourceExhausted: return "too_large";
    case absl::StatusCode::kUnavailable: return "unavailable";
    case absl::StatusCode::kDeadlineExceeded: return "overloaded";
    case absl::StatusCode::kUnimplemented: return "method_not_allowed";
    default: return "internal";
  }
}

std::optional<int64_t> RetryAfterMsOf(const absl::Status& status) {
  auto payload = status.GetPayload(util::ToAbsl(kRetryAfterMsPayload));
  if (!payload) return std::nullopt;
  int64_t ms = 0;
  if (!util::ParseInt(std::string_view(std::string(*payload)), &ms)) return std::nullopt;
  return ms;
}

}  // namespace recd
