#include "model/gzip_source.h"

#include <zlib.h>

#include <algorithm>

#include "util/strings.h"

namespace recd::model {

struct GzipByteSource::State {
  z_stream z{};
  bool initialised = false;
};

namespace {
constexpr size_t kInputChunk = 64 * 1024;
}  // namespace

bool LooksGzipped(std::string_view prefix) {
  return prefix.size() >= 2 && static_cast<unsigned char>(prefix[0]) == 0x1f &&
         static_cast<unsigned char>(prefix[1]) == 0x8b;
}

GzipByteSource::GzipByteSource(ByteSource* source)
    : source_(source), state_(std::make_unique<State>()), in_(kInputChunk) {}

GzipByteSource::~GzipByteSource() {
  if (state_->initialised) inflateEnd(&state_->z);
}

absl::StatusOr<std::unique_ptr<GzipByteSource>> GzipByteSource::Create(ByteSource* source) {
  std::unique_ptr<GzipByteSource> g(new GzipByteSource(source));
  // 16 + MAX_WBITS: expect a gzip wrapper (not raw deflate, not zlib).
  if (inflateInit2(&g->state_->z, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  g->state_->initialised = true;
  return g;
}

absl::StatusOr<size_t> GzipByteSource::Read(char* buf, size_t n) {
  z_stream& z = state_->z;
  if (finished_) return 0;
  z.next_out = reinterpret_cast<Bytef*>(buf);
  z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
  const uInt want = z.avail_out;
  while (z.avail_out == want) {
    if (z.avail_in == 0 && !input_done_) {
      absl::StatusOr<size_t> r = source_->Read(in_.data(), in_.size());
      if (!r.ok()) return r.status();
      if (*r == 0) {
        input_done_ = true;
      } else {
        z.next_in = reinterpret_cast<Bytef*>(in_.data());
        z.avail_in = static_cast<uInt>(*r);
      }
    }
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      // Another member may follow (concatenated gzip files are one valid stream); anything
      // else after the end, such as tape padding, is ignored.
      if (z.avail_in == 0 && !input_done_) {
        absl::StatusOr<size_t> r = source_->Read(in_.data(), in_.size());
        if (!r.ok()) return r.status();
        z.next_in = reinterpret_cast<Bytef*>(in_.data());
        z.avail_in = static_cast<uInt>(*r);
        if (*r == 0) input_done_ = true;
      }
      if (LooksGzipped(std::string_view(reinterpret_cast<const char*>(z.next_in), z.avail_in))) {
        inflateReset(&z);
        continue;
      }
      finished_ = true;
      break;
    }
    if (rc == Z_BUF_ERROR || (rc == Z_OK && z.avail_in == 0 && input_done_)) {
      if (input_done_ && z.avail_in == 0) {
        if (z.avail_out != want) break;  // hand out what we have; the next call reports it
        return absl::InvalidArgumentError("gzip data is truncated");
      }
      continue;
    }
    if (rc != Z_OK) {
      return absl::InvalidArgumentError(
          util::StrCat("gzip data is corrupt (", z.msg != nullptr ? z.msg : zError(rc), ")"));
    }
  }
  return static_cast<size_t>(want - z.avail_out);
}

}  // namespace recd::model
