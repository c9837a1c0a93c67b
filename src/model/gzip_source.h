// Decompresses a gzip stream (one or more members, RFC 1952) from another ByteSource with
// zlib. Not thread-safe. Errors are InvalidArgument: "gzip data is truncated",
// "gzip data is corrupt (<zlib message>)".
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "model/byte_source.h"

namespace recd::model {

// True if `prefix` starts with the gzip magic bytes 1f 8b.
bool LooksGzipped(std::string_view prefix);

class GzipByteSource final : public ByteSource {
 public:
  // `source` is borrowed and must outlive this object.
  static absl::StatusOr<std::unique_ptr<GzipByteSource>> Create(ByteSource* source);
  ~GzipByteSource() override;
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  struct State;
  explicit GzipByteSource(ByteSource* source);
  ByteSource* source_;
  std::unique_ptr<State> state_;
  std::vector<char> in_;
  bool input_done_ = false;
  bool finished_ = false;
};

}  // namespace recd::model
