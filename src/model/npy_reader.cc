#include "model/npy_reader.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_join.h"
#include "model/file_util.h"
#include "model/model_types.h"
#include "util/strings.h"

namespace recd::model {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// numpy itself refuses headers above 10 000 bytes unless told otherwise; be a bit looser.
constexpr uint32_t kMaxHeaderLen = 1u << 20;

// A cursor over the header's Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (100, 32), }
class DictParser {
 public:
  explicit DictParser(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  std::optional<std::string> String() {
    SkipSpace();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return std::nullopt;
    char quote = s_[pos_++];
    size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) return std::nullopt;
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  std::optional<bool> Bool() {
    SkipSpace();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      std::string_view w(word);
      if (s_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return value;
      }
    }
    return std::nullopt;
  }
  // A tuple of non-negative integers: "()", "(7,)", "(100, 32)"; Python 2 numpy wrote "100L".
  std::optional<std::vector<uint64_t>> Tuple() {
    if (!Consume('(')) return std::nullopt;
    std::vector<uint64_t> dims;
    while (!Consume(')')) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return std::nullopt;
      uint64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(s_[pos_++] - '0');
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
      dims.push_back(v);
      if (!Consume(',') && !Peek(')')) return std::nullopt;
    }
    return dims;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string ShapeText(const std::vector<uint64_t>& dims) {
  return util::StrCat("(", absl::StrJoin(dims, ", "), dims.size() == 1 ? ",)" : ")");
}

absl::Status Bad(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(util::StrCat(name, ": ", what));
}

}  // namespace

absl::StatusOr<TensorInfo> ParseNpyHeader(std::string_view prefix, uint64_t file_size,
                                          std::string_view name) {
  if (prefix.size() < 8 || prefix.substr(0, 6) != kMagic) {
    return Bad(name, "not a NumPy .npy file (bad magic bytes)");
  }
  const auto major = static_cast<uint8_t>(prefix[6]);
  const auto minor = static_cast<uint8_t>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return Bad(name, util::StrCat("unsupported .npy format version ", major, ".", minor,
                                  " (supported: 1.0, 2.0, 3.0)"));
  }
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 (3.0 allows UTF-8).
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (prefix.size() < 8 + len_bytes) return Bad(name, "header is truncated");
  uint32_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) {
    header_len |= uint32_t{static_cast<uint8_t>(prefix[8 + i])} << (8 * i);
  }
  if (header_len > kMaxHeaderLen) {
    return Bad(name, util::StrCat("header length ", header_len, " is implausibly large"));
  }
  const uint64_t data_offset = 8 + len_bytes + header_len;
  if (prefix.size() < data_offset) return Bad(name, "header is truncated");
  std::string_view header = prefix.substr(8 + len_bytes, header_len);

  DictParser p(header);
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<uint64_t>> shape;
  if (!p.Consume('{')) return Bad(name, "header is not a Python dict literal");
  while (!p.Consume('}')) {
    std::optional<std::string> key = p.String();
    if (!key || !p.Consume(':')) return Bad(name, "header dict is malformed");
    if (*key == "descr") {
      descr = p.String();
      if (!descr) {
        return Bad(name,
                   "dtype is not a simple type string (structured arrays are not "
                   "supported); save a plain float32 or float16 matrix");
      }
    } else if (*key == "fortran_order") {
      fortran = p.Bool();
      if (!fortran) return Bad(name, "header field fortran_order is not True or False");
    } else if (*key == "shape") {
      shape = p.Tuple();
      if (!shape) return Bad(name, "header field shape is not a tuple of integers");
    } else {
      return Bad(name, util::StrCat("header has unexpected key '", *key, "'"));
    }
    if (!p.Consume(',') && !p.Peek('}')) return Bad(name, "header dict is malformed");
  }
  if (!p.AtEnd()) return Bad(name, "header has data after the dict");
  if (!descr || !fortran || !shape) {
    return Bad(name, "header lacks one of descr, fortran_order, shape");
  }

  TensorInfo info;
  info.display_name = std::string(name);
  if (*descr == "<f4") {
    info.dtype = DType::kF32;
  } else if (*descr == "<f2") {
    info.dtype = DType::kF16;
  } else if (!descr->empty() && (*descr)[0] == '>') {
    return Bad(name, util::StrCat("dtype '", *descr,
                                  "' is big-endian; save little-endian float32 ('<f4') or "
                                  "float16 ('<f2')"));
  } else {
    return Bad(name, util::StrCat("dtype '", *descr,
                                  "' is not supported; use float32 ('<f4') or float16 ('<f2')"));
  }
  if (*fortran) {
    return Bad(name,
               "array is in Fortran order; save it in C order "
               "(np.save(f, np.ascontiguousarray(m)))");
  }
  if (shape->size() != 2) {
    return Bad(name, util::StrCat("shape ", ShapeText(*shape), " is not 2-D [items, dim]"));
  }
  info.rows = (*shape)[0];
  info.cols = (*shape)[1];
  info.data_offset = data_offset;
  // Bound the factors first so that the product below cannot overflow.
  // rows <= 2^31 and cols <= 2^24 keep rows * cols * 4 far below 2^64.
  if (info.rows > kMaxRows || info.cols > (uint64_t{1} << 24)) {
    return Bad(name, util::StrCat("shape ", ShapeText(*shape), " is too large"));
  }
  const uint64_t data_bytes = info.rows * info.cols * DTypeSize(info.dtype);
  const uint64_t want = data_offset + data_bytes;
  if (file_size != want) {
    return Bad(name, util::StrCat("file is ", file_size, " bytes but shape [", info.rows, ", ",
                                  info.cols, "] of '", *descr, "' needs ", want, " (", data_offset,
                                  " header + ", data_bytes, " data): ",
                                  file_size < want ? "truncated" : "unexpected extra data"));
  }
  return info;
}

absl::StatusOr<TensorInfo> ReadNpyHeader(const std::string& path, std::string_view name) {
  uint64_t size = 0;
  auto fd = OpenInputFile(path, name, &size);
  if (!fd.ok()) return fd.status();
  // Read the fixed part first to learn the header length, then exactly the header.
  std::string prefix(static_cast<size_t>(std::min<uint64_t>(size, 12)), '\0');
  absl::Status s = PreadExact(fd->get(), prefix.data(), prefix.size(), 0, name);
  if (!s.ok()) return s;
  if (prefix.size() >= 10 && prefix.substr(0, 6) == kMagic) {
    const auto major = static_cast<uint8_t>(prefix[6]);
    uint64_t header_len = 0;
    size_t len_bytes = major == 1 ? 2 : 4;
    if (prefix.size() >= 8 + len_bytes) {
      for (size_t i = 0; i < len_bytes; ++i) {
        header_len |= uint64_t{static_cast<uint8_t>(prefix[8 + i])} << (8 * i);
      }
      uint64_t want =
          std::min<uint64_t>(size, 8 + len_bytes + std::min<uint64_t>(header_len, kMaxHeaderLen));
      prefix.resize(static_cast<size_t>(want));
      s = PreadExact(fd->get(), prefix.data(), prefix.size(), 0, name);
      if (!s.ok()) return s;
    }
  }
  auto info = ParseNpyHeader(prefix, size, name);
  if (!info.ok()) return info.status();
  info->path = path;
  return info;
}

}  // namespace recd::model
