#include "model/npy_reader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

using testing::F16Bytes;
using testing::F32Bytes;
using ::testing::HasSubstr;
using testing::NpyBytes;
using testing::NpyBytesWithHeader;

absl::StatusOr<TensorInfo> Parse(const std::string& bytes) {
  return ParseNpyHeader(bytes, bytes.size(), "item_embeddings.npy");
}

std::string Msg(const absl::StatusOr<TensorInfo>& r) { return std::string(r.status().message()); }

TEST(NpyReader, AcceptsLittleEndianFloat32InEveryFormatVersion) {
  for (int major : {1, 2, 3}) {
    std::string data = F32Bytes({1, 2, 3, 4, 5, 6});
    std::string bytes = NpyBytes("<f4", false, {2, 3}, data, major);
    auto info = Parse(bytes);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->dtype, DType::kF32);
    EXPECT_EQ(info->rows, 2u);
    EXPECT_EQ(info->cols, 3u);
    EXPECT_EQ(info->data_offset, bytes.size() - data.size());
    EXPECT_EQ(info->data_offset % 64, 0u);
  }
}

TEST(NpyReader, AcceptsLittleEndianFloat16) {
  auto info = Parse(NpyBytes("<f2", false, {3, 2}, F16Bytes({1, 2, 3, 4, 5, 6})));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->dtype, DType::kF16);
}

TEST(NpyReader, AcceptsPython2LongShapeLiterals) {
  auto info = Parse(NpyBytesWithHeader(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }", F32Bytes({1, 2})));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows, 2u);
}

TEST(NpyReader, RejectsBigEndianFloats) {
  auto r = Parse(NpyBytes(">f4", false, {2, 2}, std::string(16, '\0')));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), HasSubstr("item_embeddings.npy: dtype '>f4' is big-endian"));
}

TEST(NpyReader, RejectsFloat64) {
  auto r = Parse(NpyBytes("<f8", false, {2, 2}, std::string(32, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("dtype '<f8' is not supported"));
}

TEST(NpyReader, RejectsIntegerDtypes) {
  auto r = Parse(NpyBytes("<i4", false, {2, 2}, std::string(16, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("dtype '<i4' is not supported"));
}

TEST(NpyReader, RejectsFortranOrder) {
  auto r = Parse(NpyBytes("<f4", true, {2, 2}, std::string(16, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("Fortran order"));
}

TEST(NpyReader, RejectsOneDimensionalArrays) {
  auto r = Parse(NpyBytes("<f4", false, {4}, std::string(16, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("shape (4,) is not 2-D"));
}

TEST(NpyReader, RejectsThreeDimensionalArrays) {
  auto r = Parse(NpyBytes("<f4", false, {2, 2, 1}, std::string(16, '\0')));
  EXPECT_THAT(Msg(r), HasSubstr("shape (2, 2, 1) is not 2-D"));
}

TEST(NpyReader, RejectsTruncatedData) {
  std::string bytes = NpyBytes("<f4", false, {2, 3}, F32Bytes({1, 2, 3, 4, 5, 6}));
  bytes.resize(bytes.size() - 1);
  auto r = Parse(bytes);
  EXPECT_THAT(Msg(r), HasSubstr("truncated"));
  EXPECT_THAT(Msg(r), HasSubstr("shape [2, 3]"));
}

TEST(NpyReader, RejectsExtendedData) {
  std::string bytes = NpyBytes("<f4", false, {2, 3}, F32Bytes({1, 2, 3, 4, 5, 6})) + "x";
  EXPECT_THAT(Msg(Parse(bytes)), HasSubstr("unexpected extra data"));
}

TEST(NpyReader, RejectsTruncatedHeader) {
  std::string bytes = NpyBytes("<f4", false, {1, 1}, F32Bytes({1}));
  EXPECT_THAT(Msg(Parse(bytes.substr(0, 30))), HasSubstr("header is truncated"));
  EXPECT_THAT(Msg(Parse(bytes.substr(0, 9))), HasSubstr("header is truncated"));
}

TEST(NpyReader, RejectsBadMagic) {
  EXPECT_THAT(Msg(Parse("PK\x03\x04 this is a zip file")), HasSubstr("bad magic"));
  EXPECT_THAT(Msg(Parse("")), HasSubstr("bad magic"));
}

TEST(NpyReader, RejectsUnknownFormatVersion) {
  std::string bytes = NpyBytes("<f4", false, {1, 1}, F32Bytes({1}));
  bytes[6] = 4;
  EXPECT_THAT(Msg(Parse(bytes)), HasSubstr("unsupported .npy format version 4.0"));
}

TEST(NpyReader, RejectsStructuredDtypes) {
  auto r = Parse(NpyBytesWithHeader(
      "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 1), }", F32Bytes({1})));
  EXPECT_THAT(Msg(r), HasSubstr("structured arrays are not supported"));
}

TEST(NpyReader, RejectsMissingAndUnexpectedHeaderKeys) {
  EXPECT_THAT(Msg(Parse(NpyBytesWithHeader("{'descr': '<f4', 'shape': (1, 1), }", F32Bytes({1})))),
              HasSubstr("lacks one of descr, fortran_order, shape"));
  EXPECT_THAT(
      Msg(Parse(NpyBytesWithHeader(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'x': 1}", F32Bytes({1})))),
      HasSubstr("unexpected key 'x'"));
}

TEST(NpyReader, ReadsHeaderFromFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("m.npy"), NpyBytes("<f4", false, {1, 2}, F32Bytes({1, 2})));
  auto info = ReadNpyHeader(dir.Sub("m.npy"), "m.npy");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->path, dir.Sub("m.npy"));
  auto missing = ReadNpyHeader(dir.Sub("nope.npy"), "nope.npy");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.npy: file not found"));
}

}  // namespace
}  // namespace recd::model
