#include "model/model_types.h"

namespace recd::model {

std::string_view KindName(ModelKind kind) {
  return kind == ModelKind::kIals ? "ials" : "item_embeddings";
}

std::string_view MetricName(Metric metric) { return metric == Metric::kCosine ? "cosine" : "dot"; }

std::string_view PrecisionName(Precision precision) {
  return precision == Precision::kInt8 ? "int8" : "float32";
}

std::optional<ModelKind> ParseKind(std::string_view name) {
  if (name == "item_embeddings") return ModelKind::kItemEmbeddings;
  if (name == "ials") return ModelKind::kIals;
  return std::nullopt;
}

std::optional<Metric> ParseMetric(std::string_view name) {
  if (name == "dot") return Metric::kDot;
  if (name == "cosine") return Metric::kCosine;
  return std::nullopt;
}

std::optional<Precision> ParsePrecision(std::string_view name) {
  if (name == "float32") return Precision::kFloat32;
  if (name == "int8") return Precision::kInt8;
  return std::nullopt;
}

bool IsValidEventType(std::string_view type) {
  if (type.empty() || type.size() > kMaxEventTypeBytes) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

}  // namespace recd::model
