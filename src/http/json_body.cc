#include "http/json_body.h"

#include "util/strings.h"

namespace recd::http {
namespace {

absl::Status Malformed(simdjson::error_code ec) {
  return absl::InvalidArgumentError(
      util::StrCat("malformed JSON: ", simdjson::error_message(ec)));
}

absl::Status WrongType(std::string_view field, std::string_view want) {
  return absl::InvalidArgumentError(util::StrCat("\"", field, "\" must be ", want));
}

// Thread-local: a parser holds buffers sized to the largest document seen; reusing it avoids
// an allocation per request.
simdjson::ondemand::parser& Parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

}  // namespace

absl::Status VisitJsonObject(std::string& body,
                             absl::FunctionRef<absl::Status(std::string_view, JsonValue)> on_field) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  simdjson::padded_string_view view(body.data(), body.size(), body.capacity());
  simdjson::ondemand::document doc;
  if (auto ec = Parser().iterate(view).get(doc)) return Malformed(ec);
  simdjson::ondemand::object object;
  if (auto ec = doc.get_object().get(object)) {
    if (ec == simdjson::INCORRECT_TYPE) {
      return absl::InvalidArgumentError("the body must be a JSON object");
    }
    return Malformed(ec);
  }
  for (auto field : object) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return Malformed(ec);
    JsonValue value;
    if (auto ec = field.value().get(value)) return Malformed(ec);
    RECD_RETURN_IF_ERROR(on_field(key, value));
  }
  // current_location() fails with OUT_OF_BOUNDS exactly when nothing follows the object.
  if (!doc.current_location().error()) {
    return absl::InvalidArgumentError("malformed JSON: trailing content");
  }
  return absl::OkStatus();
}

namespace {

// The JSON number grammar (RFC 8259), checked on the token's text: a valid number is never
// refused for its range (that is the reader's business), a malformed one always is.
bool IsJsonNumber(std::string_view t) {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) {
    t.remove_suffix(1);
  }
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// Deep enough for any body recd reads (events nest 3 levels); the bound keeps the recursion
// below off the stack's end whatever a client sends.
constexpr int kMaxConsumeDepth = 64;

absl::Status ConsumeAt(JsonValue value, int depth) {
  if (depth > kMaxConsumeDepth) {
    return absl::InvalidArgumentError(
        util::StrCat("JSON nested more than ", kMaxConsumeDepth, " levels deep"));
  }
  simdjson::ondemand::json_type type;
  if (auto ec = value.type().get(type)) return Malformed(ec);
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      if (auto ec = value.get_object().get(object)) return Malformed(ec);
      for (auto field : object) {
        std::string_view key;
        if (auto ec = field.unescaped_key().get(key)) return Malformed(ec);
        JsonValue v;
        if (auto ec = field.value().get(v)) return Malformed(ec);
        RECD_RETURN_IF_ERROR(ConsumeAt(v, depth + 1));
      }
      return absl::OkStatus();
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      if (auto ec = value.get_array().get(array)) return Malformed(ec);
      for (auto item : array) {
        JsonValue v;
        if (auto ec = item.get(v)) return Malformed(ec);
        RECD_RETURN_IF_ERROR(ConsumeAt(v, depth + 1));
      }
      return absl::OkStatus();
    }
    case simdjson::ondemand::json_type::number: {
      if (!IsJsonNumber(value.raw_json_token()))
        return absl::InvalidArgumentError("malformed JSON: bad number");
      return absl::OkStatus();
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (auto ec = value.get_string().get(s)) return Malformed(ec);
      return absl::OkStatus();
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (auto ec = value.get_bool().get(b)) return Malformed(ec);
      return absl::OkStatus();
    }
    case simdjson::ondemand::json_type::null: {
      bool is_null = false;
      if (auto ec = value.is_null().get(is_null)) return Malformed(ec);
      if (!is_null) return absl::InvalidArgumentError("malformed JSON: bad literal");
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("malformed JSON");
}

}  // namespace

absl::Status ConsumeJsonValue(JsonValue value) { return ConsumeAt(value, 0); }

absl::Status VisitObjectValue(JsonValue value, std::string_view what,
                              absl::FunctionRef<absl::Status(std::string_view, JsonValue)> on_field) {
  simdjson::ondemand::object object;
  if (auto ec = value.get_object().get(object)) {
    return ec == simdjson::INCORRECT_TYPE ? WrongType(what, "an object") : Malformed(ec);
  }
  for (auto field : object) {
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return Malformed(ec);
    JsonValue v;
    if (auto ec = field.value().get(v)) return Malformed(ec);
    RECD_RETURN_IF_ERROR(on_field(key, v));
  }
  return absl::OkStatus();
}

absl::Status VisitArrayValue(JsonValue value, std::string_view what,
                             absl::FunctionRef<absl::Status(size_t, JsonValue)> on_item) {
  simdjson::ondemand::array array;
  if (auto ec = value.get_array().get(array)) {
    return ec == simdjson::INCORRECT_TYPE ? WrongType(what, "an array") : Malformed(ec);
  }
  size_t i = 0;
  for (auto item : array) {
    JsonValue v;
    if (auto ec = item.get(v)) return Malformed(ec);
    RECD_RETURN_IF_ERROR(on_item(i++, v));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> GetString(JsonValue value, std::string_view field) {
  std::string_view s;
  if (auto ec = value.get_string().get(s)) {
    return ec == simdjson::INCORRECT_TYPE ? WrongType(field, "a string") : Malformed(ec);
  }
  return s;
}

absl::StatusOr<int64_t> GetInt(JsonValue value, std::string_view field) {
  simdjson::ondemand::json_type type;
  if (auto ec = value.type().get(type)) return Malformed(ec);
  if (type != simdjson::ondemand::json_type::number) return WrongType(field, "an integer");
  int64_t i = 0;
  // 1.0 is not an integer for us; neither is 1e30.
  if (value.get_int64().get(i)) return WrongType(field, "an integer");
  return i;
}

absl::StatusOr<double> GetNumber(JsonValue value, std::string_view field) {
  double d = 0;
  if (auto ec = value.get_double().get(d)) {
    return ec == simdjson::INCORRECT_TYPE ? WrongType(field, "a number") : Malformed(ec);
  }
  return d;
}

absl::StatusOr<bool> GetBool(JsonValue value, std::string_view field) {
  bool b = false;
  if (auto ec = value.get_bool().get(b)) {
    return ec == simdjson::INCORRECT_TYPE ? WrongType(field, "true or false") : Malformed(ec);
  }
  return b;
}

bool IsNull(JsonValue value) {
  bool is_null = false;
  return !value.is_null().get(is_null) && is_null;
}

}  // namespace recd::http
