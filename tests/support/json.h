// JSON reading for tests (simdjson DOM; exceptions are fine in tests).
#pragma once

#include <memory>
#include <string>

#include "simdjson.h"

namespace recd::testing {

class Json {
 public:
  explicit Json(const std::string& text) : parser_(std::make_unique<simdjson::dom::parser>()) {
    root_ = parser_->parse(text);  // throws simdjson_error on malformed input
  }
  simdjson::dom::element operator[](const char* key) const { return root_[key]; }
  simdjson::dom::element root() const { return root_; }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
};

inline std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

}  // namespace recd::testing
