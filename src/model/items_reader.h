// items.txt of a model folder: one item id per line, row i of the matrix is line i.
// Lines end in LF; a final LF is optional. Every line must be a valid id (SPEC 7.4: UTF-8
// without control characters, 1 to 128 bytes), so CR (Windows line endings) is refused with
// a message saying so; ids are unique. Thread-safe, pure. Errors are InvalidArgument
// messages starting with the display name, e.g.
// `items.txt line 17: duplicate item id "sku-9" (first on line 3)`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace recd::model {

// The ids, concatenated without separators: id r is bytes[offsets[r], offsets[r + 1]).
struct ItemIds {
  std::string bytes;
  std::vector<uint64_t> offsets;  // size() == count() + 1, offsets[0] == 0

  size_t count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::string_view Id(size_t r) const {
    return std::string_view(bytes).substr(offsets[r], offsets[r + 1] - offsets[r]);
  }
};

absl::StatusOr<ItemIds> ParseItems(std::string_view text, std::string_view display_name);

}  // namespace recd::model
