#include "model/safetensors_reader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

using testing::BF16Bytes;
using testing::F16Bytes;
using testing::F32Bytes;
using ::testing::HasSubstr;
using testing::SafetensorsBytes;
using testing::SafetensorsBytesWithHeader;
using testing::StTensor;

absl::StatusOr<TensorInfo> Parse(const std::string& bytes,
                                 std::optional<std::string> name = std::nullopt) {
  return ParseSafetensorsHeader(bytes, bytes.size(), "emb.safetensors", name);
}

std::string Msg(const absl::StatusOr<TensorInfo>& r) { return std::string(r.status().message()); }

TEST(SafetensorsReader, AcceptsTheOnlyTensorOfEachFloatDtype) {
  for (auto [dtype, want, data] :
       {std::tuple{"F32", DType::kF32, F32Bytes({1, 2, 3, 4, 5, 6})},
        std::tuple{"F16", DType::kF16, F16Bytes({1, 2, 3, 4, 5, 6})},
        std::tuple{"BF16", DType::kBF16, BF16Bytes({1, 2, 3, 4, 5, 6})}}) {
    std::string bytes = SafetensorsBytes({{"emb", dtype, {3, 2}, data}});
    auto info = Parse(bytes);
    ASSERT_TRUE(info.ok()) << dtype << ": " << info.status();
    EXPECT_EQ(info->dtype, want);
    EXPECT_EQ(info->rows, 3u);
    EXPECT_EQ(info->cols, 2u);
    EXPECT_EQ(info->data_offset, bytes.size() - data.size());
  }
}

TEST(SafetensorsReader, AllowsMetadata) {
  auto info = Parse(
      SafetensorsBytes({{"emb", "F32", {1, 1}, F32Bytes({1})}}, R"({"format":"pt","note":"x"})"));
  ASSERT_TRUE(info.ok()) << info.status();
}

TEST(SafetensorsReader, PicksTheNamedTensor) {
  std::string bytes = SafetensorsBytes(
      {{"user", "F64", {1, 1}, std::string(8, '\0')}, {"item", "F32", {2, 1}, F32Bytes({1, 2})}});
  auto info = Parse(bytes, "item");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows, 2u);
  EXPECT_EQ(info->data_offset, bytes.size() - 8);
}

TEST(SafetensorsReader, RequiresANameWhenTheFileHoldsSeveralTensors) {
  auto r = Parse(
      SafetensorsBytes({{"a", "F32", {1, 1}, F32Bytes({1})}, {"b", "F32", {1, 1}, F32Bytes({1})}}));
  EXPECT_THAT(Msg(r), HasSubstr("holds 2 tensors (\"a\", \"b\"); set \"tensor\""));
}

TEST(SafetensorsReader, RejectsAnUnknownTensorName) {
  auto r = Parse(SafetensorsBytes({{"a", "F32", {1, 1}, F32Bytes({1})}}), "b");
  EXPECT_THAT(Msg(r), HasSubstr("no tensor named \"b\" (the file has \"a\")"));
}

TEST(SafetensorsReader, RejectsUnsupportedDtypes) {
  auto r = Parse(SafetensorsBytes({{"a", "F64", {1, 1}, std::string(8, '\0')}}));
  EXPECT_THAT(Msg(r), HasSubstr("has dtype \"F64\"; supported: F32, F16, BF16"));
}

TEST(SafetensorsReader, RejectsTensorsThatAreNot2D) {
  auto r = Parse(SafetensorsBytes({{"a", "F32", {2, 1, 1}, F32Bytes({1, 2})}}));
  EXPECT_THAT(Msg(r), HasSubstr("shape [2, 1, 1] but must be 2-D"));
}

TEST(SafetensorsReader, RejectsTruncatedData) {
  std::string bytes = SafetensorsBytes({{"a", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})}});
  bytes.resize(bytes.size() - 4);
  EXPECT_THAT(Msg(Parse(bytes)), HasSubstr("file is truncated"));
}

TEST(SafetensorsReader, RejectsExtendedData) {
  std::string bytes = SafetensorsBytes({{"a", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})}}) + "xxxx";
  EXPECT_THAT(Msg(Parse(bytes)), HasSubstr("unexpected extra data"));
}

TEST(SafetensorsReader, RejectsOffsetsThatDisagreeWithTheShape) {
  auto r = Parse(SafetensorsBytesWithHeader(
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(12, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("data_offsets span 12 bytes"));
}

TEST(SafetensorsReader, RejectsGapsBetweenTensors) {
  auto r = Parse(SafetensorsBytesWithHeader(
      R"({"a":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]}})", std::string(8, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("leave a gap or overlap"));
}

TEST(SafetensorsReader, RejectsATruncatedHeader) {
  std::string bytes = SafetensorsBytes({{"a", "F32", {1, 1}, F32Bytes({1})}});
  EXPECT_THAT(Msg(Parse(bytes.substr(0, 20))), HasSubstr("truncated inside the header"));
  EXPECT_THAT(Msg(Parse(bytes.substr(0, 5))), HasSubstr("too short"));
}

TEST(SafetensorsReader, RejectsMalformedHeaders) {
  EXPECT_THAT(Msg(Parse(SafetensorsBytesWithHeader("{\"a\":", ""))), HasSubstr("not valid JSON"));
  EXPECT_THAT(Msg(Parse(SafetensorsBytesWithHeader("[1]", ""))), HasSubstr("not a JSON object"));
  EXPECT_THAT(Msg(Parse(SafetensorsBytesWithHeader(
                  R"({"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4],"x":1}})",
                  std::string(4, '\0')))),
              HasSubstr("unknown field \"x\""));
  EXPECT_THAT(Msg(Parse(SafetensorsBytesWithHeader(R"({"a":{"dtype":"F32","shape":[1,1]}})", ""))),
              HasSubstr("lacks one of dtype, shape, data_offsets"));
}

}  // namespace
}  // namespace recd::model
