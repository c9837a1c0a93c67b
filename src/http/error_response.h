// The one place a Status becomes an HTTP answer (STYLE 2): status code from the SPEC's code,
// body {"error":{"code","message"}}, Retry-After for 429/503.
#pragma once

#include "http/request.h"
#include "recd/status.h"

namespace recd::http {

int HttpStatusFor(const absl::Status& status);
Response ErrorResponse(const absl::Status& status);
// A JSON 200/201 answer.
Response JsonResponse(int status, std::string body);

}  // namespace recd::http
