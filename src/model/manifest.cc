#include "model/manifest.h"

#include <algorithm>
#include <cmath>

#include "model/json_util.h"
#include "recd/status.h"
#include "simdjson.h"
#include "util/strings.h"

namespace recd::model {
namespace {

using json_internal::Quote;
using json_internal::TypeName;
using simdjson::ondemand::json_type;

constexpr std::string_view kFile = "manifest.json";
constexpr std::string_view kAllowed =
    "format, kind, metric, dim, items, item_embeddings, tensor, regularization, alpha, "
    "event_weights, precision, half_life_s, history_len";

enum Field : int {
  kFormat,
  kKind,
  kMetric,
  kDim,
  kItems,
  kEmbeddings,
  kTensor,
  kRegularization,
  kAlpha,
  kEventWeights,
  kPrecision,
  kHalfLife,
  kHistoryLen,
  kFieldCount
};

constexpr std::string_view kFieldNames[kFieldCount] = {
    "format",          "kind",        "metric",         "dim",   "items",
    "item_embeddings", "tensor",      "regularization", "alpha", "event_weights",
    "precision",       "half_life_s", "history_len"};

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(util::StrCat(kFile, ": ", what));
}

absl::Status WrongType(std::string_view field, std::string_view want, json_type got) {
  return Bad(util::StrCat("field \"", field, "\" must be ", want, ", got ", TypeName(got)));
}

// Reads the value's type first so that wrong types are named, not reported as syntax errors.
absl::StatusOr<json_type> TypeOf(simdjson::ondemand::value& value) {
  json_type t;
  if (auto e = value.type().get(t); e) return json_internal::SyntaxError(kFile, e);
  return t;
}

absl::StatusOr<std::string_view> GetString(std::string_view field,
                                           simdjson::ondemand::value& value) {
  RECD_ASSIGN_OR_RETURN(json_type t, TypeOf(value));
  if (t != json_type::string) return WrongType(field, "a string", t);
  std::string_view s;
  if (auto e = value.get_string().get(s); e) return json_internal::SyntaxError(kFile, e);
  return s;
}

// An integer in [lo, hi]. "64.0" and "1e2" are refused: a count is written as an integer.
absl::StatusOr<int64_t> GetInt(std::string_view field, simdjson::ondemand::value& value, int64_t lo,
                               int64_t hi) {
  RECD_ASSIGN_OR_RETURN(json_type t, TypeOf(value));
  std::string range = util::StrCat("an integer from ", lo, " to ", hi);
  if (t != json_type::number) return WrongType(field, range, t);
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  int64_t v = 0;
  if (value.get_int64().get(v) || v < lo || v > hi) {
    return Bad(util::StrCat("field \"", field, "\" must be ", range, ", got ", raw));
  }
  return v;
}

// A finite number; `positive` demands > 0, otherwise >= 0.
absl::StatusOr<double> GetNonNegative(std::string_view field, simdjson::ondemand::value& value,
                                      bool positive) {
  RECD_ASSIGN_OR_RETURN(json_type t, TypeOf(value));
  std::string_view want = positive ? "a finite number > 0" : "a finite number >= 0";
  if (t != json_type::number) return WrongType(field, want, t);
  double v = 0;
  if (value.get_double().get(v) || !std::isfinite(v) || v < 0 || (positive && v == 0)) {
    std::string_view raw = value.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
      raw.remove_suffix(1);
    }
    return Bad(util::StrCat("field \"", field, "\" must be ", want, ", got ", raw));
  }
  return v;
}

absl::StatusOr<std::string> GetFileName(std::string_view field, simdjson::ondemand::value& value) {
  RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(field, value));
  if (!IsPlainFileName(s)) {
    return Bad(util::StrCat("field \"", field, "\" must be a plain file name inside the model ",
                            "folder (no '/', no \"..\"), got ", Quote(s)));
  }
  return std::string(s);
}

absl::Status ParseEventWeights(simdjson::ondemand::value& value, Manifest* m) {
  RECD_ASSIGN_OR_RETURN(json_type t, TypeOf(value));
  if (t != json_type::object) return WrongType("event_weights", "an object", t);
  simdjson::ondemand::object obj;
  if (auto e = value.get_object().get(obj); e) return json_internal::SyntaxError(kFile, e);
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (auto e = std::move(field_result).get(field); e) return json_internal::SyntaxError(kFile, e);
    if (auto e = field.unescaped_key().get(key); e) return json_internal::SyntaxError(kFile, e);
    std::string type(key);
    if (!IsValidEventType(type)) {
      return Bad(util::StrCat("event_weights key ", Quote(type),
                              " is not a valid event type ([a-z_]{1,32})"));
    }
    for (const auto& [seen, unused] : m->event_weights) {
      if (seen == type)
        return Bad(util::StrCat("event_weights key ", Quote(type), " appears twice"));
    }
    if (m->event_weights.size() >= kMaxEventWeights) {
      return Bad(util::StrCat("event_weights names more than ", kMaxEventWeights, " types"));
    }
    std::string label = util::StrCat("event_weights.", type);
    RECD_ASSIGN_OR_RETURN(double w, GetNonNegative(label, field.value(), /*positive=*/true));
    m->event_weights.emplace_back(std::move(type), w);
  }
  std::sort(m->event_weights.begin(), m->event_weights.end());
  return absl::OkStatus();
}

absl::Status ParseField(Field f, simdjson::ondemand::value& value, Manifest* m) {
  std::string_view name = kFieldNames[f];
  switch (f) {
    case kFormat: {
      RECD_ASSIGN_OR_RETURN(json_type t, TypeOf(value));
      int64_t v = 0;
      if (t != json_type::number || value.get_int64().get(v) || v != 1) {
        return Bad("field \"format\" must be 1 (the only manifest format this recd reads)");
      }
      return absl::OkStatus();
    }
    case kKind: {
      RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(name, value));
      auto kind = ParseKind(s);
      if (!kind) {
        return Bad(
            util::StrCat("field \"kind\" must be \"item_embeddings\" or \"ials\", got ", Quote(s)));
      }
      m->kind = *kind;
      return absl::OkStatus();
    }
    case kMetric: {
      RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(name, value));
      auto metric = ParseMetric(s);
      if (!metric) {
        return Bad(util::StrCat("field \"metric\" must be \"dot\" or \"cosine\", got ", Quote(s)));
      }
      m->metric = *metric;
      return absl::OkStatus();
    }
    case kDim: {
      RECD_ASSIGN_OR_RETURN(int64_t v, GetInt(name, value, 1, kMaxDim));
      m->dim = static_cast<uint32_t>(v);
      return absl::OkStatus();
    }
    case kItems: {
      RECD_ASSIGN_OR_RETURN(m->items_file, GetFileName(name, value));
      return absl::OkStatus();
    }
    case kEmbeddings: {
      RECD_ASSIGN_OR_RETURN(m->embeddings_file, GetFileName(name, value));
      if (!m->embeddings_file.ends_with(".npy") && !m->embeddings_file.ends_with(".safetensors")) {
        return Bad(util::StrCat("field \"item_embeddings\" must name a .npy or .safetensors ",
                                "file, got ", Quote(m->embeddings_file)));
      }
      return absl::OkStatus();
    }
    case kTensor: {
      RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(name, value));
      if (s.empty()) return Bad("field \"tensor\" must not be empty");
      m->tensor = std::string(s);
      return absl::OkStatus();
    }
    case kRegularization: {
      RECD_ASSIGN_OR_RETURN(m->regularization, GetNonNegative(name, value, false));
      return absl::OkStatus();
    }
    case kAlpha: {
      RECD_ASSIGN_OR_RETURN(m->alpha, GetNonNegative(name, value, true));
      return absl::OkStatus();
    }
    case kEventWeights:
      return ParseEventWeights(value, m);
    case kPrecision: {
      RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(name, value));
      auto p = ParsePrecision(s);
      if (!p) {
        return Bad(
            util::StrCat("field \"precision\" must be \"float32\" or \"int8\", got ", Quote(s)));
      }
      m->precision = *p;
      return absl::OkStatus();
    }
    case kHalfLife: {
      RECD_ASSIGN_OR_RETURN(m->half_life_s, GetNonNegative(name, value, false));
      return absl::OkStatus();
    }
    case kHistoryLen: {
      RECD_ASSIGN_OR_RETURN(int64_t v, GetInt(name, value, kMinHistoryLen, kMaxHistoryLen));
      m->history_len = static_cast<uint32_t>(v);
      return absl::OkStatus();
    }
    case kFieldCount:
      break;
  }
  return absl::InternalError("unreachable manifest field");
}

}  // namespace

bool Manifest::embeddings_are_safetensors() const {
  return embeddings_file.ends_with(".safetensors");
}

bool IsPlainFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view text) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(text);
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(json).get(doc); e) return json_internal::SyntaxError(kFile, e);
  json_type root_type;
  if (auto e = doc.type().get(root_type); e) return json_internal::SyntaxError(kFile, e);
  if (root_type != json_type::object) {
    // On-demand guesses a scalar's type from its first byte ("format: 1" looks like "false"):
    // make sure it is real JSON before blaming its type.
    bool b;
    double d;
    if (root_type == json_type::boolean) {
      if (auto e = doc.get_bool().get(b); e) return json_internal::SyntaxError(kFile, e);
    } else if (root_type == json_type::number) {
      if (auto e = doc.get_double().get(d); e) return json_internal::SyntaxError(kFile, e);
    } else if (root_type == json_type::null) {
      bool is_null = false;
      if (doc.is_null().get(is_null) || !is_null) {
        return json_internal::SyntaxError(kFile, simdjson::INCORRECT_TYPE);
      }
    }
    return Bad(util::StrCat("must be a JSON object, got ", TypeName(root_type)));
  }
  simdjson::ondemand::object obj;
  if (auto e = doc.get_object().get(obj); e) return json_internal::SyntaxError(kFile, e);

  Manifest m;
  bool seen[kFieldCount] = {};
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (auto e = std::move(field_result).get(field); e) return json_internal::SyntaxError(kFile, e);
    if (auto e = field.unescaped_key().get(key); e) return json_internal::SyntaxError(kFile, e);
    auto it = std::find(std::begin(kFieldNames), std::end(kFieldNames), key);
    if (it == std::end(kFieldNames)) {
      return Bad(util::StrCat("unknown field ", Quote(key), " (allowed: ", kAllowed, ")"));
    }
    auto f = static_cast<Field>(it - std::begin(kFieldNames));
    if (seen[f]) return Bad(util::StrCat("field \"", key, "\" appears twice"));
    seen[f] = true;
    RECD_RETURN_IF_ERROR(ParseField(f, field.value(), &m));
  }
  if (!json_internal::AtEnd(doc)) return Bad("unexpected data after the JSON object");

  for (Field f : {kFormat, kKind, kMetric, kDim, kItems, kEmbeddings}) {
    if (!seen[f]) return Bad(util::StrCat("missing required field \"", kFieldNames[f], "\""));
  }
  if (m.kind == ModelKind::kIals) {
    if (m.metric != Metric::kDot) {
      return Bad("kind \"ials\" requires metric \"dot\" (got \"cosine\")");
    }
    if (m.dim > kMaxIalsDim) {
      return Bad(
          util::StrCat("kind \"ials\" allows dim up to ", kMaxIalsDim, " (got ", m.dim, ")"));
    }
  }
  if (m.tensor.has_value() && !m.embeddings_are_safetensors()) {
    return Bad("field \"tensor\" applies only to a .safetensors item_embeddings file");
  }
  if (m.items_file == m.embeddings_file) {
    return Bad("fields \"items\" and \"item_embeddings\" name the same file");
  }
  return m;
}

}  // namespace recd::model
