#include "model/safetensors_reader.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"
#include "model/file_util.h"
#include "model/json_util.h"
#include "model/model_types.h"
#include "recd/status.h"
#include "simdjson.h"
#include "util/strings.h"

namespace recd::model {
namespace {

using json_internal::Quote;
using json_internal::TypeName;

// The reference implementation refuses headers above 100 MB; a header naming a handful of
// tensors is a few hundred bytes, so 16 MiB leaves room while bounding the parse.
constexpr uint64_t kMaxHeaderBytes = uint64_t{16} << 20;

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Bytes per element of the dtypes safetensors defines; 0 for ones we do not know.
uint64_t ElementSize(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" ||
      dtype == "F8_E5M2") {
    return 1;
  }
  return 0;
}

absl::Status Bad(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(util::StrCat(name, ": ", what));
}

absl::Status ReadUintArray(std::string_view name, std::string_view tensor, std::string_view field,
                           simdjson::ondemand::value value, std::vector<uint64_t>* out) {
  simdjson::ondemand::array arr;
  if (value.get_array().get(arr)) {
    return Bad(
        name, util::StrCat("tensor ", Quote(tensor), ": ", field, " must be an array of integers"));
  }
  for (auto elem : arr) {
    uint64_t v = 0;
    if (elem.get_uint64().get(v)) {
      return Bad(name, util::StrCat("tensor ", Quote(tensor), ": ", field,
                                    " must be an array of non-negative integers"));
    }
    out->push_back(v);
    if (out->size() > 64) {
      return Bad(name, util::StrCat("tensor ", Quote(tensor), ": ", field, " is too long"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseEntry(std::string_view name, simdjson::ondemand::value value, Entry* entry) {
  simdjson::ondemand::object obj;
  if (value.get_object().get(obj)) {
    return Bad(name, util::StrCat("tensor ", Quote(entry->name), ": entry must be an object"));
  }
  bool have_dtype = false;
  bool have_shape = false;
  bool have_offsets = false;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (auto e = std::move(field_result).get(field); e) return json_internal::SyntaxError(name, e);
    if (auto e = field.unescaped_key().get(key); e) return json_internal::SyntaxError(name, e);
    if (key == "dtype") {
      std::string_view dtype;
      if (field.value().get_string().get(dtype)) {
        return Bad(name, util::StrCat("tensor ", Quote(entry->name), ": dtype must be a string"));
      }
      entry->dtype = std::string(dtype);
      have_dtype = true;
    } else if (key == "shape") {
      RECD_RETURN_IF_ERROR(ReadUintArray(name, entry->name, "shape", field.value(), &entry->shape));
      have_shape = true;
    } else if (key == "data_offsets") {
      std::vector<uint64_t> offsets;
      RECD_RETURN_IF_ERROR(
          ReadUintArray(name, entry->name, "data_offsets", field.value(), &offsets));
      if (offsets.size() != 2 || offsets[0] > offsets[1]) {
        return Bad(name, util::StrCat("tensor ", Quote(entry->name),
                                      ": data_offsets must be [begin, end] with begin <= end"));
      }
      entry->begin = offsets[0];
      entry->end = offsets[1];
      have_offsets = true;
    } else {
      return Bad(name, util::StrCat("tensor ", Quote(entry->name), ": unknown field ", Quote(key)));
    }
  }
  if (!have_dtype || !have_shape || !have_offsets) {
    return Bad(name, util::StrCat("tensor ", Quote(entry->name),
                                  " lacks one of dtype, shape, data_offsets"));
  }
  return absl::OkStatus();
}

std::string ShapeText(const std::vector<uint64_t>& shape) {
  return util::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

absl::StatusOr<TensorInfo> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size,
                                                  std::string_view name,
                                                  const std::optional<std::string>& tensor_name) {
  if (file_size < 8 || prefix.size() < 8) return Bad(name, "file is too short for safetensors");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t{static_cast<uint8_t>(prefix[i])} << (8 * i);
  if (header_len > kMaxHeaderBytes) {
    return Bad(name, util::StrCat("header length ", header_len,
                                  " is implausibly large (not a safetensors file?)"));
  }
  if (8 + header_len > file_size || prefix.size() < 8 + header_len) {
    return Bad(name, "file is truncated inside the header");
  }
  std::string_view header = prefix.substr(8, header_len);
  if (header.empty() || header[0] != '{') {
    return Bad(name, "header is not a JSON object (not a safetensors file?)");
  }
  const uint64_t data_len = file_size - 8 - header_len;

  simdjson::ondemand::parser parser;
  simdjson::padded_string json(header);
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(json).get(doc); e) return json_internal::SyntaxError(name, e);
  simdjson::ondemand::object root;
  if (auto e = doc.get_object().get(root); e) return json_internal::SyntaxError(name, e);
  std::vector<Entry> entries;
  bool have_metadata = false;
  for (auto field_result : root) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (auto e = std::move(field_result).get(field); e) return json_internal::SyntaxError(name, e);
    if (auto e = field.unescaped_key().get(key); e) return json_internal::SyntaxError(name, e);
    if (key == "__metadata__") {
      if (have_metadata) return Bad(name, "__metadata__ appears twice");
      have_metadata = true;
      simdjson::ondemand::object meta;
      if (field.value().get_object().get(meta)) return Bad(name, "__metadata__ must be an object");
      for (auto m : meta) {
        std::string_view v;
        if (m.value().get_string().get(v)) {
          return Bad(name, "__metadata__ values must be strings");
        }
      }
      continue;
    }
    Entry entry;
    entry.name = std::string(key);
    for (const Entry& seen : entries) {
      if (seen.name == entry.name) {
        return Bad(name, util::StrCat("tensor ", Quote(entry.name), " appears twice"));
      }
    }
    RECD_RETURN_IF_ERROR(ParseEntry(name, field.value(), &entry));
    entries.push_back(std::move(entry));
    if (entries.size() > 10000) return Bad(name, "header names too many tensors");
  }
  if (!json_internal::AtEnd(doc)) return Bad(name, "header has data after the JSON object");

  // Offsets are relative to the data area; the tensors must cover it without gaps or
  // overlap, which is also how the reference implementation detects truncation.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != covered) {
      return Bad(name, util::StrCat("tensor ", Quote(e->name),
                                    " data_offsets leave a gap or overlap another tensor"));
    }
    covered = e->end;
    const uint64_t elem = ElementSize(e->dtype);
    if (elem != 0) {
      uint64_t count = 1;
      for (uint64_t d : e->shape) {
        if (d != 0 && count > UINT64_MAX / d) return Bad(name, "tensor shape overflows");
        count *= d;
      }
      if (count > UINT64_MAX / elem || count * elem != e->end - e->begin) {
        return Bad(name, util::StrCat("tensor ", Quote(e->name), " has shape ", ShapeText(e->shape),
                                      " of ", e->dtype, " but data_offsets ", "span ",
                                      e->end - e->begin, " bytes"));
      }
    }
  }
  if (covered > data_len) {
    return Bad(name, util::StrCat("file is truncated: the tensors need ", covered,
                                  " data bytes but the file has ", data_len));
  }
  if (covered < data_len) {
    return Bad(name, util::StrCat("unexpected extra data: the tensors need ", covered,
                                  " data bytes but the file has ", data_len));
  }

  const Entry* chosen = nullptr;
  if (tensor_name.has_value()) {
    for (const Entry& e : entries) {
      if (e.name == *tensor_name) chosen = &e;
    }
    if (chosen == nullptr) {
      std::vector<std::string> names;
      for (const Entry& e : entries) names.push_back(Quote(e.name));
      return Bad(name, util::StrCat("no tensor named ", Quote(*tensor_name), " (the file has ",
                                    names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
  } else if (entries.size() == 1) {
    chosen = &entries[0];
  } else if (entries.empty()) {
    return Bad(name, "file holds no tensors");
  } else {
    std::vector<std::string> names;
    for (const Entry& e : entries) names.push_back(Quote(e.name));
    return Bad(name,
               util::StrCat("file holds ", entries.size(), " tensors (", absl::StrJoin(names, ", "),
                            "); set \"tensor\" in manifest.json to pick one"));
  }

  TensorInfo info;
  info.display_name = std::string(name);
  if (chosen->dtype == "F32") {
    info.dtype = DType::kF32;
  } else if (chosen->dtype == "F16") {
    info.dtype = DType::kF16;
  } else if (chosen->dtype == "BF16") {
    info.dtype = DType::kBF16;
  } else {
    return Bad(name, util::StrCat("tensor ", Quote(chosen->name), " has dtype ",
                                  Quote(chosen->dtype), "; supported: F32, F16, BF16"));
  }
  if (chosen->shape.size() != 2) {
    return Bad(name, util::StrCat("tensor ", Quote(chosen->name), " has shape ",
                                  ShapeText(chosen->shape), " but must be 2-D [items, dim]"));
  }
  info.rows = chosen->shape[0];
  info.cols = chosen->shape[1];
  if (info.rows > kMaxRows) {
    return Bad(name, util::StrCat("tensor ", Quote(chosen->name), " has too many rows"));
  }
  info.data_offset = 8 + header_len + chosen->begin;
  return info;
}

absl::StatusOr<TensorInfo> ReadSafetensorsHeader(const std::string& path, std::string_view name,
                                                 const std::optional<std::string>& tensor_name) {
  uint64_t size = 0;
  auto fd = OpenInputFile(path, name, &size);
  if (!fd.ok()) return fd.status();
  if (size < 8) return Bad(name, "file is too short for safetensors");
  std::string prefix(8, '\0');
  RECD_RETURN_IF_ERROR(PreadExact(fd->get(), prefix.data(), 8, 0, name));
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t{static_cast<uint8_t>(prefix[i])} << (8 * i);
  if (header_len <= kMaxHeaderBytes && 8 + header_len <= size) {
    prefix.resize(8 + header_len);
    RECD_RETURN_IF_ERROR(PreadExact(fd->get(), prefix.data() + 8, header_len, 8, name));
  }
  auto info = ParseSafetensorsHeader(prefix, size, name, tensor_name);
  if (!info.ok()) return info.status();
  info->path = path;
  return info;
}

}  // namespace recd::model
