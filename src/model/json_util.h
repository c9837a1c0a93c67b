// Helpers shared by the simdjson on-demand parsers of manifest.json and safetensors headers.
// Internal to model/. Thread-safe, pure.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "simdjson.h"

namespace recd::model::json_internal {

// "string", "number", "object", "array", "boolean", "null".
std::string_view TypeName(simdjson::ondemand::json_type type);

// InvalidArgument "<file>: not valid JSON (<simdjson's text>)".
absl::Status SyntaxError(std::string_view file, simdjson::error_code error);

// True if nothing but whitespace follows the document's root value, which on-demand parsing
// does not check by itself (simdjson 3.0.1 has no document::at_end).
bool AtEnd(simdjson::ondemand::document& doc);

// Quotes `s` for a message, escaping control characters and cutting it at 64 bytes.
std::string Quote(std::string_view s);

}  // namespace recd::model::json_internal
