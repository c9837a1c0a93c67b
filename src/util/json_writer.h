// Streams JSON text into a string without building a DOM. Not thread-safe.
// The caller keeps the structure balanced; commas are inserted automatically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace recd::util {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);  // Non-finite values are written as null.
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  JsonWriter& Raw(std::string_view json);  // A complete JSON value, written verbatim.

 private:
  void Separate();

  std::string* out_;
  bool need_comma_ = false;
};

// Appends `s` as a JSON string literal (quotes included) with the required escapes.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace recd::util
