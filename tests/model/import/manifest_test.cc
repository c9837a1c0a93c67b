#include "model/manifest.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

using ::testing::HasSubstr;
using testing::ManifestJson;

std::string Error(std::string_view json) {
  auto m = ParseManifest(json);
  EXPECT_FALSE(m.ok()) << json;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(m.status().message());
}

TEST(Manifest, ParsesTheSpecExample) {
  auto m = ParseManifest(R"({"format":1,"kind":"ials","metric":"dot",
      "dim":64,"items":"items.txt","item_embeddings":"item_embeddings.npy",
      "regularization":0.05,"alpha":1.0,
      "event_weights":{"view":1,"add_to_cart":3,"purchase":5}})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->kind, ModelKind::kIals);
  EXPECT_EQ(m->metric, Metric::kDot);
  EXPECT_EQ(m->dim, 64u);
  EXPECT_EQ(m->items_file, "items.txt");
  EXPECT_EQ(m->embeddings_file, "item_embeddings.npy");
  EXPECT_DOUBLE_EQ(m->regularization, 0.05);
  EXPECT_DOUBLE_EQ(m->alpha, 1.0);
  // Sorted by name.
  ASSERT_EQ(m->event_weights.size(), 3u);
  EXPECT_EQ(m->event_weights[0], (std::pair<std::string, double>{"add_to_cart", 3}));
  EXPECT_EQ(m->event_weights[1], (std::pair<std::string, double>{"purchase", 5}));
  EXPECT_EQ(m->event_weights[2], (std::pair<std::string, double>{"view", 1}));
}

TEST(Manifest, AppliesDocumentedDefaults) {
  auto m = ParseManifest(ManifestJson("item_embeddings", "cosine", 8));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->precision, Precision::kFloat32);
  EXPECT_DOUBLE_EQ(m->regularization, 0.01);
  EXPECT_DOUBLE_EQ(m->alpha, 1.0);
  EXPECT_DOUBLE_EQ(m->half_life_s, 86400);
  EXPECT_EQ(m->history_len, 50u);
  EXPECT_TRUE(m->event_weights.empty());
  EXPECT_FALSE(m->tensor.has_value());
}

TEST(Manifest, ParsesEveryOptionalField) {
  auto m = ParseManifest(
      ManifestJson("item_embeddings", "dot", 8, "emb.safetensors",
                   R"("tensor":"items","precision":"int8","half_life_s":0,"history_len":1000)"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->tensor, "items");
  EXPECT_EQ(m->precision, Precision::kInt8);
  EXPECT_EQ(m->half_life_s, 0);
  EXPECT_EQ(m->history_len, 1000u);
  EXPECT_TRUE(m->embeddings_are_safetensors());
}

TEST(Manifest, RefusesUnknownFieldsByName) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("learning_rate":0.1)")),
              HasSubstr("manifest.json: unknown field \"learning_rate\""));
}

TEST(Manifest, RefusesRepeatedFields) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("dim":9)")),
              HasSubstr("field \"dim\" appears twice"));
}

TEST(Manifest, RefusesMissingRequiredFields) {
  EXPECT_THAT(Error(R"({"format":1,"kind":"ials","metric":"dot","items":"i.txt",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("missing required field \"dim\""));
  EXPECT_THAT(Error(R"({"kind":"ials","metric":"dot","dim":3,"items":"i.txt",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("missing required field \"format\""));
}

TEST(Manifest, RefusesOtherFormatVersions) {
  EXPECT_THAT(Error(R"({"format":2,"kind":"ials","metric":"dot","dim":3,"items":"i.txt",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("field \"format\" must be 1"));
}

TEST(Manifest, RefusesUnknownKindAndMetric) {
  EXPECT_THAT(
      Error(ManifestJson("two_tower", "dot", 8)),
      HasSubstr("field \"kind\" must be \"item_embeddings\" or \"ials\", got \"two_tower\""));
  EXPECT_THAT(Error(ManifestJson("ials", "l2", 8)),
              HasSubstr("field \"metric\" must be \"dot\" or \"cosine\", got \"l2\""));
}

TEST(Manifest, RefusesDimOutsideOneTo4096) {
  EXPECT_THAT(Error(ManifestJson("item_embeddings", "dot", 0)),
              HasSubstr("field \"dim\" must be an integer from 1 to 4096, got 0"));
  EXPECT_THAT(Error(ManifestJson("item_embeddings", "dot", 4097)),
              HasSubstr("field \"dim\" must be an integer from 1 to 4096, got 4097"));
  EXPECT_TRUE(ParseManifest(ManifestJson("item_embeddings", "dot", 4096)).ok());
}

TEST(Manifest, RefusesNonIntegerDim) {
  EXPECT_THAT(Error(R"({"format":1,"kind":"ials","metric":"dot","dim":8.5,"items":"i.txt",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("field \"dim\" must be an integer from 1 to 4096, got 8.5"));
  EXPECT_THAT(Error(R"({"format":1,"kind":"ials","metric":"dot","dim":"8","items":"i.txt",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("field \"dim\" must be an integer from 1 to 4096, got string"));
}

TEST(Manifest, RefusesIalsWithCosine) {
  EXPECT_THAT(Error(ManifestJson("ials", "cosine", 8)),
              HasSubstr("kind \"ials\" requires metric \"dot\""));
}

TEST(Manifest, RefusesIalsAbove512Dims) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 513)),
              HasSubstr("kind \"ials\" allows dim up to 512 (got 513)"));
  EXPECT_TRUE(ParseManifest(ManifestJson("ials", "dot", 512)).ok());
}

TEST(Manifest, RefusesBadEventWeights) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"view":0})")),
              HasSubstr("field \"event_weights.view\" must be a finite number > 0, got 0"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"view":-1})")),
              HasSubstr("event_weights.view\" must be a finite number > 0, got -1"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"view":"3"})")),
              HasSubstr("event_weights.view\" must be a finite number > 0, got string"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"View":1})")),
              HasSubstr("event_weights key \"View\" is not a valid event type"));
  EXPECT_THAT(
      Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"view":1,"view":2})")),
      HasSubstr("event_weights key \"view\" appears twice"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":[1])")),
              HasSubstr("field \"event_weights\" must be an object, got array"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("event_weights":{"v":1e999})")),
              HasSubstr("event_weights.v\" must be a finite number > 0"));
}

TEST(Manifest, RefusesOutOfRangeNumbers) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("alpha":0)")),
              HasSubstr("field \"alpha\" must be a finite number > 0, got 0"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("regularization":-0.1)")),
              HasSubstr("field \"regularization\" must be a finite number >= 0, got -0.1"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("half_life_s":-1)")),
              HasSubstr("field \"half_life_s\" must be a finite number >= 0"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("history_len":0)")),
              HasSubstr("field \"history_len\" must be an integer from 1 to 1000, got 0"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("history_len":1001)")),
              HasSubstr("got 1001"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("precision":"fp16")")),
              HasSubstr("field \"precision\" must be \"float32\" or \"int8\", got \"fp16\""));
}

TEST(Manifest, RefusesFileNamesOutsideTheFolder) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "../secret.npy")),
              HasSubstr("field \"item_embeddings\" must be a plain file name"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "/etc/x.npy")),
              HasSubstr("must be a plain file name"));
  EXPECT_THAT(Error(R"({"format":1,"kind":"ials","metric":"dot","dim":3,"items":"..",
                       "item_embeddings":"e.npy"})"),
              HasSubstr("field \"items\" must be a plain file name"));
}

TEST(Manifest, RefusesEmbeddingFilesOfOtherTypes) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.bin")), HasSubstr("must name a .npy or "
                                                                        ".safetensors file"));
}

TEST(Manifest, RefusesTensorNameForNpy) {
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8, "e.npy", R"("tensor":"x")")),
              HasSubstr("\"tensor\" applies only to a .safetensors"));
}

TEST(Manifest, RefusesMalformedJson) {
  EXPECT_THAT(Error("{\"format\":1,"), HasSubstr("manifest.json: not valid JSON"));
  EXPECT_THAT(Error("[1,2]"), HasSubstr("manifest.json: must be a JSON object, got array"));
  EXPECT_THAT(Error(ManifestJson("ials", "dot", 8) + " {}"),
              HasSubstr("unexpected data after the JSON object"));
}

}  // namespace
}  // namespace recd::model
