// Request-body JSON on simdjson's on-demand API with error codes (no exceptions): a visitor over
// the fields of a top-level object, and typed field readers whose errors name the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "recd/status.h"
#include "simdjson.h"

namespace recd::http {

using JsonValue = simdjson::ondemand::value;

// Parses `body` (whose capacity has simdjson's padding) as one JSON object and calls
// `on_field` for each field in order. Malformed JSON, a non-object, or trailing content is
// InvalidArgument; so is any error `on_field` returns.
absl::Status VisitJsonObject(std::string& body,
                             absl::FunctionRef<absl::Status(std::string_view key, JsonValue value)>
                                 on_field);
// Iterates a JSON object value (a nested object).
absl::Status VisitObjectValue(JsonValue value, std::string_view what,
                              absl::FunctionRef<absl::Status(std::string_view key, JsonValue v)>
                                  on_field);
absl::Status VisitArrayValue(JsonValue value, std::string_view what,
                             absl::FunctionRef<absl::Status(size_t index, JsonValue v)> on_item);

// Reads `value` through to its end, whatever its type, so that malformed JSON inside it is
// found: the On-Demand parser skips values nobody reads without checking them, and a bad
// request must be refused whole (SPEC 6). InvalidArgument "malformed JSON" if it is not
// well-formed. Also on a value whose typed read just failed (simdjson allows a second try).
absl::Status ConsumeJsonValue(JsonValue value);

absl::StatusOr<std::string_view> GetString(JsonValue value, std::string_view field);
absl::StatusOr<int64_t> GetInt(JsonValue value, std::string_view field);
absl::StatusOr<double> GetNumber(JsonValue value, std::string_view field);
absl::StatusOr<bool> GetBool(JsonValue value, std::string_view field);
bool IsNull(JsonValue value);

}  // namespace recd::http
