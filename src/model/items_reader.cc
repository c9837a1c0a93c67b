#include "model/items_reader.h"

#include "absl/container/flat_hash_map.h"
#include "model/json_util.h"
#include "model/model_types.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::model {
namespace {

absl::Status LineError(std::string_view name, uint64_t line, std::string_view what) {
  return absl::InvalidArgumentError(util::StrCat(name, " line ", line, ": ", what));
}

}  // namespace

absl::StatusOr<ItemIds> ParseItems(std::string_view text, std::string_view name) {
  if (text.empty()) return absl::InvalidArgumentError(util::StrCat(name, ": file is empty"));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    return absl::InvalidArgumentError(
        util::StrCat(name, ": starts with a UTF-8 byte order mark; save the file without one"));
  }
  // One final LF ends the last line rather than starting an empty one.
  if (text.back() == '\n') text.remove_suffix(1);

  ItemIds ids;
  ids.bytes.reserve(text.size());
  ids.offsets.push_back(0);
  // Keys view `text`, which outlives the map; values are 1-based line numbers.
  absl::flat_hash_map<std::string_view, uint64_t> first_line;
  uint64_t line = 0;
  size_t pos = 0;
  while (true) {
    ++line;
    size_t end = text.find('\n', pos);
    std::string_view id = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (id.empty()) return LineError(name, line, "empty line (every line must be an item id)");
    if (id.back() == '\r') {
      return LineError(name, line, "ends with CR (Windows line ending); use LF line endings");
    }
    if (id.size() > kMaxIdBytes) {
      return LineError(name, line,
                       util::StrCat("item id is ", id.size(), " bytes, more than ", kMaxIdBytes));
    }
    if (!util::IsValidId(id)) {
      return LineError(name, line,
                       util::StrCat("item id ", json_internal::Quote(id),
                                    " is not valid UTF-8 or contains control "
                                    "characters"));
    }
    auto [it, inserted] = first_line.emplace(id, line);
    if (!inserted) {
      return LineError(name, line,
                       util::StrCat("duplicate item id ", json_internal::Quote(id),
                                    " (first on line ", it->second, ")"));
    }
    ids.bytes.append(id);
    ids.offsets.push_back(ids.bytes.size());
    if (ids.count() > kMaxRows) {
      return absl::InvalidArgumentError(util::StrCat(name, ": more than ", kMaxRows, " items"));
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return ids;
}

}  // namespace recd::model
