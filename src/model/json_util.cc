#include "model/json_util.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::model::json_internal {

std::string_view TypeName(simdjson::ondemand::json_type type) {
  using simdjson::ondemand::json_type;
  switch (type) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "unknown";
}

absl::Status SyntaxError(std::string_view file, simdjson::error_code error) {
  return absl::InvalidArgumentError(
      util::StrCat(file, ": not valid JSON (", simdjson::error_message(error), ")"));
}

bool AtEnd(simdjson::ondemand::document& doc) {
  const char* location = nullptr;
  // OUT_OF_BOUNDS means the iterator consumed every structural character of the input.
  return doc.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

std::string Quote(std::string_view s) {
  // Messages end up in JSON bodies and logs: keep them short, printable and valid UTF-8.
  constexpr size_t kMax = 64;
  const bool utf8 = util::IsValidId(s) || s.empty();
  size_t n = std::min(s.size(), kMax);
  // Do not cut a UTF-8 sequence in half.
  while (utf8 && n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out = "\"";
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out += "...";
  out += '"';
  return out;
}

}  // namespace recd::model::json_internal
