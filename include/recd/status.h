// Shared error vocabulary. Errors cross component boundaries as absl::Status; the
// SPEC's snake_case error code rides along as a payload so that http/ can render
// exactly the code a service meant (e.g. 403 "suspended" vs 403 "permission_denied").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recd {

// Payload URLs carried on a Status.
inline constexpr std::string_view kErrorCodePayload = "recd.dev/code";
inline constexpr std::string_view kRetryAfterMsPayload = "recd.dev/retry_after_ms";

// Constructors for the SPEC's error codes that absl has no 1:1 code for.
absl::Status TooLargeError(std::string_view message);             // 413 too_large
absl::Status RateLimitedError(std::string_view message, int64_t retry_after_ms);  // 429
absl::Status OverloadedError(std::string_view message);           // 503 overloaded
absl::Status NotReadyError(std::string_view message);             // 503 not_ready
absl::Status SuspendedError(std::string_view message);            // 403 suspended
absl::Status MethodNotAllowedError(std::string_view message);     // 405
absl::Status UnsupportedMediaTypeError(std::string_view message); // 415
absl::Status WithCode(absl::Status status, std::string_view code);

// The snake_case code of `status`: the payload if set, else derived from the canonical code.
std::string ErrorCodeOf(const absl::Status& status);
std::optional<int64_t> RetryAfterMsOf(const absl::Status& status);

}  // namespace recd

// Debian 12's abseil has no status macros; these are the usual pair.
#define RECD_CONCAT_INNER_(a, b) a##b
#define RECD_CONCAT_(a, b) RECD_CONCAT_INNER_(a, b)

#define RECD_RETURN_IF_ERROR(expr)                   \
  do {                                               \
    ::absl::Status recd_status_ = (expr);            \
    if (!recd_status_.ok()) return recd_status_;     \
  } while (false)

#define RECD_ASSIGN_OR_RETURN(lhs, expr) \
  RECD_ASSIGN_OR_RETURN_IMPL_(RECD_CONCAT_(recd_statusor_, __LINE__), lhs, expr)

#define RECD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(tmp).value()
