// Round trips through import, compile and map, and the corruption tests of STYLE 11.
#include "model/compiled_model.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/compiler.h"
#include "model/crc32c.h"
#include "model/f32_prefilter.h"
#include "model/kernels/kernels.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // NOLINT: fixture writers

struct Built {
  std::vector<float> values;  // rows x dim as written (float32 before any conversion)
  std::vector<std::string> ids;
  std::string path;
};

// Writes a folder with `embeddings` (already encoded) and compiles it to dir/model.recdm.
absl::StatusOr<uint64_t> Compile(const TempDir& dir, const std::string& manifest,
                                 const std::vector<std::string>& ids,
                                 const std::string& embeddings_file, const std::string& embeddings,
                                 uint64_t seed = 7, ImportOptions options = {}) {
  const std::string folder = dir.Sub("folder");
  MakeDirs(folder);
  WriteFile(folder + "/manifest.json", manifest);
  WriteFile(folder + "/items.txt", ItemsText(ids));
  WriteFile(folder + "/" + embeddings_file, embeddings);
  options.hash_seed = seed;
  return CompileModelFolder(folder, dir.Sub("model.recdm"), options, 1763884800123);
}

std::shared_ptr<const CompiledModel> MustMap(const std::string& path, MapOptions options = {}) {
  auto m = CompiledModel::Map(path, options);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

uint64_t AlignUpTo64(uint64_t v) { return (v + 63) / 64 * 64; }

bool Aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

TEST(CompiledModel, RoundTripsAFloat32DotModel) {
  TempDir dir;
  const uint32_t rows = 37, dim = 20;
  auto values = RandomMatrix(rows, dim, 3);
  auto ids = MakeIds(rows);
  auto bytes = Compile(dir,
                       ManifestJson("item_embeddings", "dot", dim, "e.npy",
                                    R"("event_weights":{"view":1,"purchase":5},)"
                                    R"("half_life_s":3600,"history_len":7)"),
                       ids, "e.npy", NpyBytes("<f4", false, {rows, dim}, F32Bytes(values)));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->file_bytes(), *bytes);
  EXPECT_EQ(m->kind(), ModelKind::kItemEmbeddings);
  EXPECT_EQ(m->metric(), Metric::kDot);
  EXPECT_EQ(m->precision(), Precision::kFloat32);
  EXPECT_EQ(m->rows(), rows);
  EXPECT_EQ(m->dim(), dim);
  EXPECT_EQ(m->stride(), 32u);
  EXPECT_EQ(m->i8_stride(), 0u);
  EXPECT_EQ(m->history_len(), 7u);
  EXPECT_EQ(m->half_life_s(), 3600);
  EXPECT_EQ(m->created_unix_ms(), 1763884800123);
  EXPECT_EQ(m->matrix_i8(), nullptr);
  EXPECT_EQ(m->scales_i8(), nullptr);
  EXPECT_EQ(m->gram(), nullptr);
  EXPECT_TRUE(Aligned64(m->matrix()));
  for (uint32_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(Aligned64(m->Row(r)));
    for (uint32_t c = 0; c < m->stride(); ++c) {
      const float want = c < dim ? values[r * dim + c] : 0.0f;
      ASSERT_EQ(m->Row(r)[c], want) << r << "," << c;
    }
  }
  EXPECT_EQ(m->EventWeight("purchase"), 5);
  EXPECT_EQ(m->EventWeight("view"), 1);
  EXPECT_EQ(m->EventWeight("click"), 1);
  EXPECT_EQ(m->event_weight_count(), 2u);
  EXPECT_EQ(m->EventWeightAt(0).first, "purchase");
  EXPECT_TRUE(m->VerifyDataChecksum().ok());
}

TEST(CompiledModel, HashIndexFindsEveryIdAndRejectsOthers) {
  TempDir dir;
  const uint32_t rows = 5000, dim = 3;
  auto ids = MakeIds(rows, "item/");
  ids[17] = "ü-unicode";
  ids[18] = std::string(128, 'L');
  ids[19] = "x";
  auto bytes = Compile(dir, ManifestJson("item_embeddings", "dot", dim, "e.npy"), ids, "e.npy",
                       NpyBytes("<f4", false, {rows, dim}, F32Bytes(RandomMatrix(rows, dim, 1))));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  for (uint32_t r = 0; r < rows; ++r) {
    ASSERT_EQ(m->ItemId(r), ids[r]);
    auto found = m->FindRow(ids[r]);
    ASSERT_TRUE(found.has_value()) << ids[r];
    ASSERT_EQ(*found, r);
  }
  for (std::string_view unknown : {"", "item", "item/5000", "item/0 ", "X", "ü", "item/-1"}) {
    EXPECT_FALSE(m->FindRow(unknown).has_value()) << unknown;
  }
  EXPECT_FALSE(m->FindRow(std::string(129, 'L')).has_value());
  EXPECT_EQ(m->ItemId(rows), "");
}

TEST(CompiledModel, WidensFloat16NpyExactly) {
  TempDir dir;
  const uint32_t rows = 9, dim = 17;
  auto values = RandomMatrix(rows, dim, 5);
  values[3] = 1e-7f;  // a float16 subnormal
  std::string f16 = F16Bytes(values);
  ASSERT_TRUE(Compile(dir, ManifestJson("item_embeddings", "dot", dim, "e.npy"), MakeIds(rows),
                      "e.npy", NpyBytes("<f2", false, {rows, dim}, f16))
                  .ok());
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  for (uint32_t i = 0; i < rows * dim; ++i) {
    const double want = HalfReference(FloatToHalf(values[i]));
    ASSERT_EQ(double{m->Row(i / dim)[i % dim]}, want) << i;
  }
}

TEST(CompiledModel, ReadsEverySafetensorsDtype) {
  const uint32_t rows = 6, dim = 5;
  auto values = RandomMatrix(rows, dim, 9);
  for (std::string dtype : {"F32", "F16", "BF16"}) {
    TempDir dir;
    std::string data = dtype == "F32"   ? F32Bytes(values)
                       : dtype == "F16" ? F16Bytes(values)
                                        : BF16Bytes(values);
    std::string file = SafetensorsBytes({{"user_factors", "F32", {1, 1}, F32Bytes({1})},
                                         {"item_factors", dtype, {rows, dim}, data}});
    auto bytes = Compile(
        dir, ManifestJson("ials", "dot", dim, "m.safetensors", R"("tensor":"item_factors")"),
        MakeIds(rows), "m.safetensors", file);
    ASSERT_TRUE(bytes.ok()) << dtype << ": " << bytes.status();
    auto m = MustMap(dir.Sub("model.recdm"));
    ASSERT_NE(m, nullptr);
    for (uint32_t i = 0; i < rows * dim; ++i) {
      const double want = dtype == "F32"   ? double{values[i]}
                          : dtype == "F16" ? HalfReference(FloatToHalf(values[i]))
                                           : BFloat16Reference(FloatToBFloat16(values[i]));
      ASSERT_EQ(double{m->Row(i / dim)[i % dim]}, want) << dtype << " " << i;
    }
  }
}

TEST(CompiledModel, NormalisesCosineRowsAtImport) {
  TempDir dir;
  const uint32_t rows = 12, dim = 33;
  auto values = RandomMatrix(rows, dim, 11);
  // An all-zero row (an item without a vector) stays zero, as numpy/sklearn normalisers leave
  // it: it scores 0 against every user.
  const uint32_t zero_row = 4;
  for (uint32_t c = 0; c < dim; ++c) values[zero_row * dim + c] = 0;
  ASSERT_TRUE(Compile(dir, ManifestJson("item_embeddings", "cosine", dim, "e.npy"), MakeIds(rows),
                      "e.npy", NpyBytes("<f4", false, {rows, dim}, F32Bytes(values)))
                  .ok());
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  for (uint32_t c = 0; c < m->stride(); ++c) EXPECT_EQ(m->Row(zero_row)[c], 0.0f);
  for (uint32_t r = 0; r < rows; ++r) {
    if (r == zero_row) continue;
    double norm = 0, orig = 0;
    for (uint32_t c = 0; c < dim; ++c) {
      norm += double{m->Row(r)[c]} * m->Row(r)[c];
      orig += double{values[r * dim + c]} * values[r * dim + c];
    }
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-6);
    for (uint32_t c = 0; c < dim; ++c) {
      EXPECT_NEAR(m->Row(r)[c], values[r * dim + c] / std::sqrt(orig), 1e-6);
    }
    for (uint32_t c = dim; c < m->stride(); ++c) EXPECT_EQ(m->Row(r)[c], 0.0f);
  }
}

TEST(CompiledModel, StoresAnInt8CopyWithPerRowScales) {
  TempDir dir;
  const uint32_t rows = 10, dim = 70;
  auto values = RandomMatrix(rows, dim, 13);
  for (uint32_t c = 0; c < dim; ++c) values[4 * dim + c] = 0;  // an all-zero row (dot allows it)
  ASSERT_TRUE(Compile(dir,
                      ManifestJson("item_embeddings", "dot", dim, "e.npy", R"("precision":"int8")"),
                      MakeIds(rows), "e.npy", NpyBytes("<f4", false, {rows, dim}, F32Bytes(values)))
                  .ok());
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->precision(), Precision::kInt8);
  EXPECT_EQ(m->i8_stride(), 128u);
  ASSERT_NE(m->matrix_i8(), nullptr);
  ASSERT_NE(m->scales_i8(), nullptr);
  EXPECT_TRUE(Aligned64(m->matrix_i8()));
  EXPECT_TRUE(Aligned64(m->scales_i8()));
  for (uint32_t r = 0; r < rows; ++r) {
    float max_abs = 0;
    for (uint32_t c = 0; c < dim; ++c) max_abs = std::max(max_abs, std::fabs(values[r * dim + c]));
    const float scale = m->scales_i8()[r];
    EXPECT_FLOAT_EQ(scale, max_abs / 127.0f);
    const int8_t* q = m->matrix_i8() + r * m->i8_stride();
    for (uint32_t c = 0; c < m->i8_stride(); ++c) {
      if (c >= dim) {
        ASSERT_EQ(q[c], 0) << "padding";
        continue;
      }
      ASSERT_GE(q[c], -127);
      ASSERT_NEAR(scale * q[c], values[r * dim + c], scale * 0.5f + 1e-7f) << r << "," << c;
    }
  }
  // The float32 matrix is kept alongside.
  EXPECT_EQ(m->Row(2)[5], values[2 * dim + 5]);
}

// A float32 model of at least prefilter_min_rows rows carries the kernels' own quantisation
// of every row, as the prefilter of its exact scan, unless that would pass max_model_bytes.
TEST(CompiledModel, Float32ModelsFromTheThresholdCarryAnInt8Prefilter) {
  const uint32_t rows = 50, dim = 20;
  auto values = RandomMatrix(rows, dim, 17);
  auto compile = [&](const TempDir& dir, uint32_t min_rows, uint64_t max_bytes) {
    ImportOptions options;
    options.prefilter_min_rows = min_rows;
    options.max_model_bytes = max_bytes;
    return Compile(dir, ManifestJson("item_embeddings", "dot", dim, "e.npy"), MakeIds(rows),
                   "e.npy", NpyBytes("<f4", false, {rows, dim}, F32Bytes(values)), 7, options);
  };
  TempDir with_copy, below, never, too_big;
  auto big = compile(with_copy, rows, kDefaultMaxModelBytes);
  auto small = compile(below, rows + 1, kDefaultMaxModelBytes);
  ASSERT_TRUE(big.ok() && small.ok());
  // Two more table entries, the scales, and 64-byte rows.
  EXPECT_EQ(*big, *small + 2 * format::kSectionEntrySize + AlignUpTo64(rows * 4) + rows * 64);
  ASSERT_TRUE(compile(never, 0, kDefaultMaxModelBytes).ok());
  auto limited = compile(too_big, rows, *big - 1);
  ASSERT_TRUE(limited.ok()) << "the copy is dropped, the model still fits";
  EXPECT_EQ(*limited, *small);
  for (const TempDir* d : {&below, &never, &too_big}) {
    auto m = MustMap(d->Sub("model.recdm"));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->i8_stride(), 0u);
    EXPECT_EQ(m->matrix_i8(), nullptr);
    EXPECT_EQ(ReadFile(d->Sub("model.recdm"))[8], 1) << "readable by a version-1 recd";
  }
  EXPECT_EQ(ReadFile(with_copy.Sub("model.recdm"))[8], 2);
  auto m = MustMap(with_copy.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->precision(), Precision::kFloat32);
  EXPECT_EQ(m->i8_stride(), 64u);
  ASSERT_NE(m->matrix_i8(), nullptr);
  EXPECT_TRUE(Aligned64(m->matrix_i8()));
  EXPECT_TRUE(m->VerifyDataChecksum().ok());
  std::vector<int8_t> q(64);
  for (uint32_t r = 0; r < rows; ++r) {
    float scale = 0;
    kernels::QuantizeRowI8(m->Row(r), dim, q.data(), &scale);
    EXPECT_EQ(scale, m->scales_i8()[r]) << r;
    EXPECT_EQ(std::memcmp(q.data(), m->matrix_i8() + r * 64, 64), 0) << r;
  }
  auto view = PrefilterOf(*m);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->approx.data, m->matrix_i8());
}

TEST(CompiledModel, NoInt8CopyWhereItsRowsAreNoNarrower) {
  // Up to dim 16 a float32 row is 64 bytes, as wide as the padded int8 row.
  for (uint32_t dim : {1u, 16u, 17u}) {
    TempDir dir;
    ImportOptions options;
    options.prefilter_min_rows = 1;
    auto values = RandomMatrix(30, dim, 5);
    ASSERT_TRUE(Compile(dir, ManifestJson("item_embeddings", "dot", dim, "e.npy"), MakeIds(30),
                        "e.npy", NpyBytes("<f4", false, {30, dim}, F32Bytes(values)), 7, options)
                    .ok());
    auto m = MustMap(dir.Sub("model.recdm"));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(HasPrefilterCopy(*m), dim > 16) << dim;
  }
}

TEST(CompiledModel, StoresTheIalsGramMatrixAccumulatedInFloat64) {
  TempDir dir;
  const uint32_t rows = 1200, dim = 24;  // more rows than one rank-update block
  auto values = RandomMatrix(rows, dim, 17);
  const double lambda = 0.25;
  ASSERT_TRUE(
      Compile(dir, ManifestJson("ials", "dot", dim, "e.npy", R"("regularization":0.25,"alpha":40)"),
              MakeIds(rows), "e.npy", NpyBytes("<f4", false, {rows, dim}, F32Bytes(values)))
          .ok());
  auto m = MustMap(dir.Sub("model.recdm"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind(), ModelKind::kIals);
  EXPECT_EQ(m->alpha(), 40);
  EXPECT_EQ(m->regularization(), lambda);
  ASSERT_NE(m->gram(), nullptr);
  EXPECT_TRUE(Aligned64(m->gram()));
  for (uint32_t i = 0; i < dim; ++i) {
    for (uint32_t j = 0; j < dim; ++j) {
      double want = i == j ? lambda : 0.0;
      for (uint32_t r = 0; r < rows; ++r) {
        want += double{values[r * dim + i]} * double{values[r * dim + j]};
      }
      ASSERT_NEAR(m->gram()[i * dim + j], want, 1e-9 * std::max(1.0, std::fabs(want)))
          << i << "," << j;
      ASSERT_EQ(m->gram()[i * dim + j], m->gram()[j * dim + i]) << "symmetric";
    }
  }
}

TEST(CompiledModel, MapsWithPopulateAndLock) {
  TempDir dir;
  ASSERT_TRUE(Compile(dir, ManifestJson("item_embeddings", "dot", 4, "e.npy"), MakeIds(3), "e.npy",
                      NpyBytes("<f4", false, {3, 4}, F32Bytes(RandomMatrix(3, 4, 1))))
                  .ok());
  auto populated = MustMap(dir.Sub("model.recdm"), MapOptions{.populate = true, .lock = false});
  ASSERT_NE(populated, nullptr);
  EXPECT_FALSE(populated->locked());
  // mlock may be refused by RLIMIT_MEMLOCK; either way the model serves.
  auto locked = MustMap(dir.Sub("model.recdm"), MapOptions{.populate = true, .lock = true});
  ASSERT_NE(locked, nullptr);
  EXPECT_EQ(locked->FindRow("sku-2"), 2u);
}

TEST(CompiledModel, CompileNeverReplacesAnExistingFile) {
  TempDir dir;
  auto npy = NpyBytes("<f4", false, {3, 4}, F32Bytes(RandomMatrix(3, 4, 1)));
  ASSERT_TRUE(
      Compile(dir, ManifestJson("item_embeddings", "dot", 4, "e.npy"), MakeIds(3), "e.npy", npy)
          .ok());
  auto again =
      Compile(dir, ManifestJson("item_embeddings", "dot", 4, "e.npy"), MakeIds(3), "e.npy", npy);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(CompiledModel, StagedModelIsHiddenUntilCommitAndRemovedIfDropped) {
  TempDir dir;
  const std::string folder = dir.Sub("folder");
  MakeDirs(folder);
  WriteFile(folder + "/manifest.json", ManifestJson("item_embeddings", "dot", 4, "e.npy"));
  WriteFile(folder + "/items.txt", ItemsText(MakeIds(3)));
  WriteFile(folder + "/e.npy", NpyBytes("<f4", false, {3, 4}, F32Bytes(RandomMatrix(3, 4, 1))));
  auto model = LoadModelFolder(folder, {});
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string out = dir.Sub("out");
  MakeDirs(out);
  const std::string dest = out + "/m.recdm";
  {
    auto staged = StagedModel::Write(*model, dest, {});
    ASSERT_TRUE(staged.ok()) << staged.status();
    EXPECT_EQ(staged->mapped().rows(), 3u);
    const auto files = ListTree(out);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_THAT(files[0], StartsWith(".m.recdm.tmp-"));
  }
  EXPECT_TRUE(ListTree(out).empty()) << "dropped uncommitted, the temporary goes";

  auto staged = StagedModel::Write(*model, dest, {});
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE(staged->Commit().ok());
  EXPECT_THAT(ListTree(out), ElementsAre("m.recdm"));
  auto again = StagedModel::Write(*model, dest, {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Commit().code(), absl::StatusCode::kAlreadyExists);
}

TEST(CompiledModel, MapReportsMissingFilesAsNotFound) {
  TempDir dir;
  EXPECT_EQ(CompiledModel::Map(dir.Sub("nope.recdm")).status().code(), absl::StatusCode::kNotFound);
}

// --- Corruption (STYLE 11): flip, truncate and extend a real file. ---

class CompiledModelCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    // An ials int8 model holds every section type.
    const uint32_t rows = 5, dim = 6;
    ASSERT_TRUE(Compile(dir_,
                        ManifestJson("ials", "dot", dim, "e.npy",
                                     R"("precision":"int8","event_weights":{"view":2})"),
                        MakeIds(rows), "e.npy",
                        NpyBytes("<f4", false, {rows, dim}, F32Bytes(RandomMatrix(rows, dim, 2))))
                    .ok());
    good_ = ReadFile(dir_.Sub("model.recdm"));
    table_end_ = 64 + 32 * 8;
    ASSERT_GT(good_.size(), table_end_);
  }

  absl::StatusOr<std::shared_ptr<const CompiledModel>> MapBytes(const std::string& bytes) {
    const std::string path = dir_.Sub("damaged-" + std::to_string(counter_++) + ".recdm");
    WriteFile(path, bytes);
    auto m = CompiledModel::Map(path);
    ::unlink(path.c_str());  // the mapping outlives the name
    return m;
  }

  std::string Flipped(size_t offset) const {
    std::string bytes = good_;
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x10);
    return bytes;
  }

  TempDir dir_;
  std::string good_;
  size_t table_end_ = 0;
  int counter_ = 0;
};

TEST_F(CompiledModelCorruption, TheUndamagedFileMapsAndVerifies) {
  auto m = MapBytes(good_);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE((*m)->VerifyDataChecksum().ok());
  EXPECT_EQ((*m)->EventWeight("view"), 2);
}

TEST_F(CompiledModelCorruption, MapRefusesAnyFlippedHeaderByte) {
  for (size_t i = 0; i < 64; ++i) {
    auto m = MapBytes(Flipped(i));
    ASSERT_FALSE(m.ok()) << "header byte " << i;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_THAT(std::string(MapBytes(Flipped(20)).status().message()),
              HasSubstr("header checksum mismatch"));
}

TEST_F(CompiledModelCorruption, MapRefusesAnyFlippedSectionTableByte) {
  for (size_t i = 64; i < table_end_; ++i) {
    auto m = MapBytes(Flipped(i));
    ASSERT_FALSE(m.ok()) << "table byte " << i;
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("header checksum mismatch"));
  }
}

TEST_F(CompiledModelCorruption, MapRefusesATruncatedFile) {
  for (size_t len :
       {good_.size() - 1, good_.size() - 64, good_.size() / 2, table_end_, size_t{63}, size_t{0}}) {
    auto m = MapBytes(good_.substr(0, len));
    ASSERT_FALSE(m.ok()) << "length " << len;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_THAT(std::string(MapBytes(good_.substr(0, good_.size() - 1)).status().message()),
              HasSubstr("truncated"));
}

TEST_F(CompiledModelCorruption, MapRefusesAnExtendedFile) {
  for (std::string tail : {std::string(1, '\0'), std::string(64, '\0'), std::string("junk")}) {
    auto m = MapBytes(good_ + tail);
    ASSERT_FALSE(m.ok());
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("extended"));
  }
}

TEST_F(CompiledModelCorruption, VerifyDataChecksumCatchesEveryFlippedDataByte) {
  int caught_at_map = 0;
  int caught_by_verify = 0;
  for (size_t i = table_end_; i < good_.size(); ++i) {
    auto m = MapBytes(Flipped(i));
    if (!m.ok()) {
      // The summary, the first/last id offsets and the index header are read at map time.
      EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
      ++caught_at_map;
      continue;
    }
    absl::Status verify = (*m)->VerifyDataChecksum();
    ASSERT_FALSE(verify.ok()) << "byte " << i << " not detected";
    EXPECT_EQ(verify.code(), absl::StatusCode::kDataLoss);
    ++caught_by_verify;
    // Damaged data must never make the accessors read outside the mapping (ASan checks).
    for (uint32_t r = 0; r <= (*m)->rows(); ++r) {
      std::string_view id = (*m)->ItemId(r);
      (void)(*m)->FindRow(id);
    }
    (void)(*m)->FindRow("sku-1");
    (void)(*m)->EventWeight("view");
  }
  EXPECT_GT(caught_at_map, 0);
  EXPECT_GT(caught_by_verify, 0);
}

TEST_F(CompiledModelCorruption, VerifyNamesTheDamagedSection) {
  // The last byte of the file is in the int8 matrix, the last section.
  auto m = MapBytes(Flipped(good_.size() - 1 - 32));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(std::string((*m)->VerifyDataChecksum().message()),
              HasSubstr("section matrix_i8 checksum mismatch"));
}

TEST_F(CompiledModelCorruption, MapRefusesOtherFileTypes) {
  EXPECT_THAT(std::string(MapBytes(std::string(200, 'x')).status().message()),
              HasSubstr("bad magic"));
  std::string v3 = good_;
  v3[8] = 3;
  EXPECT_THAT(std::string(MapBytes(v3).status().message()), HasSubstr("format version 3"));
}

// --- A float32 model's int8 copy (format version 2): files a writer could get wrong, and
// damage that map time does not read. Resealed files carry valid checksums, so each check
// meets exactly the inconsistency it is there for.

// Recomputes every section's CRC and then the header's, as a writer would.
std::string Resealed(std::string bytes) {
  const uint32_t count = format::Load<uint32_t>(bytes.data() + 32);
  const uint64_t table_end = format::kHeaderSize + uint64_t{count} * format::kSectionEntrySize;
  for (uint32_t i = 0; i < count; ++i) {
    char* e = bytes.data() + format::kHeaderSize + i * format::kSectionEntrySize;
    const auto offset = format::Load<uint64_t>(e + 8);
    const auto length = format::Load<uint64_t>(e + 16);
    format::Store<uint32_t>(e + 24, Crc32c(bytes.data() + offset, length));
  }
  uint32_t crc = Crc32c(bytes.data(), format::kHeaderCrcOffset);
  crc = Crc32cExtend(crc, bytes.data() + format::kHeaderSize, table_end - format::kHeaderSize);
  format::Store<uint32_t>(bytes.data() + format::kHeaderCrcOffset, crc);
  return bytes;
}

class PrefilterCopyCorruption : public CompiledModelCorruption {
 protected:
  void SetUp() override {
    ImportOptions options;
    options.prefilter_min_rows = 1;
    ASSERT_TRUE(
        Compile(copy_dir_, ManifestJson("item_embeddings", "dot", kDim, "e.npy"), MakeIds(kRows),
                "e.npy",
                NpyBytes("<f4", false, {kRows, kDim}, F32Bytes(RandomMatrix(kRows, kDim, 4))), 7,
                options)
            .ok());
    good_ = ReadFile(copy_dir_.Sub("model.recdm"));
    ASSERT_EQ(good_[8], 2);
    ASSERT_EQ(Resealed(good_), good_) << "Resealed() computes what the writer does";
    auto m = MustMap(copy_dir_.Sub("model.recdm"));
    ASSERT_NE(m, nullptr);
    ASSERT_TRUE(HasPrefilterCopy(*m));
    // Where the summary and the int8 sections are, from the mapped file.
    summary_ = static_cast<size_t>(FindSection(format::SectionType::kSummary));
    scales_ = static_cast<size_t>(FindSection(format::SectionType::kScalesI8));
    matrix_i8_ = static_cast<size_t>(FindSection(format::SectionType::kMatrixI8));
  }

  uint64_t FindSection(format::SectionType type) const {
    const uint32_t count = format::Load<uint32_t>(good_.data() + 32);
    for (uint32_t i = 0; i < count; ++i) {
      const char* e = good_.data() + format::kHeaderSize + i * format::kSectionEntrySize;
      if (format::Load<uint32_t>(e) == static_cast<uint32_t>(type)) {
        return format::Load<uint64_t>(e + 8);
      }
    }
    ADD_FAILURE() << "no section " << format::SectionName(type);
    return 0;
  }

  std::string MapError(const std::string& bytes) {
    auto m = MapBytes(bytes);
    EXPECT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
    return std::string(m.status().message());
  }

  static constexpr uint32_t kRows = 40, kDim = 20;
  TempDir copy_dir_;
  size_t summary_ = 0, scales_ = 0, matrix_i8_ = 0;
};

TEST_F(PrefilterCopyCorruption, AVersionOneFileWithACopyIsReadAsWritten) {
  // What one earlier build (9aa855c) wrote: same layout, version 1.
  std::string v1 = good_;
  v1[8] = 1;
  auto m = MapBytes(Resealed(v1));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(HasPrefilterCopy(**m));
  EXPECT_TRUE(PrefilterOf(**m).ok());
}

TEST_F(PrefilterCopyCorruption, MapRefusesAWrongInt8Stride) {
  for (uint32_t stride : {32u, 128u}) {
    std::string bytes = good_;
    format::Store<uint32_t>(bytes.data() + summary_ + 20, stride);
    EXPECT_THAT(MapError(Resealed(bytes)), HasSubstr("int8 stride does not match dim")) << stride;
  }
}

TEST_F(PrefilterCopyCorruption, MapRefusesFlagsAndSectionsThatDisagree) {
  std::string no_flag = good_;
  no_flag[12] = static_cast<char>(no_flag[12] & ~format::kFlagInt8);
  EXPECT_THAT(MapError(Resealed(no_flag)), HasSubstr("header flags disagree with the summary"));
  // Flag and summary say "no copy", the sections are still there.
  format::Store<uint32_t>(no_flag.data() + summary_ + 20, 0);
  EXPECT_THAT(MapError(Resealed(no_flag)), HasSubstr("section matrix_i8 is unexpected"));

  // A file without a copy that claims one.
  TempDir plain_dir;
  ASSERT_TRUE(Compile(plain_dir, ManifestJson("item_embeddings", "dot", kDim, "e.npy"),
                      MakeIds(kRows), "e.npy",
                      NpyBytes("<f4", false, {kRows, kDim}, F32Bytes(RandomMatrix(kRows, kDim, 4))))
                  .ok());
  std::string claims = ReadFile(plain_dir.Sub("model.recdm"));
  ASSERT_EQ(claims[8], 1);
  claims[8] = 2;
  claims[12] = static_cast<char>(claims[12] | format::kFlagInt8);
  good_ = claims;  // FindSection reads good_
  format::Store<uint32_t>(claims.data() + FindSection(format::SectionType::kSummary) + 20, 64);
  EXPECT_THAT(MapError(Resealed(claims)), HasSubstr("is missing"));
}

TEST_F(PrefilterCopyCorruption, ThePrefilterRefusesADamagedCopyThatMapTimeDoesNotRead) {
  // A flipped int8 byte: the file maps (O(1) checks), the copy's checksum catches it.
  for (size_t offset : {matrix_i8_, good_.size() - 1, scales_}) {
    auto m = MapBytes(Flipped(offset));
    ASSERT_TRUE(m.ok()) << m.status();
    absl::StatusOr<kernels::F32Prefilter> view = PrefilterOf(**m);
    EXPECT_EQ(view.status().code(), absl::StatusCode::kDataLoss) << offset;
    EXPECT_THAT(std::string(view.status().message()), HasSubstr("checksum mismatch")) << offset;
  }
  // Scales no compiler writes, with valid checksums: the bound would not hold.
  for (float bad : {std::nanf(""), -0.5f, INFINITY}) {
    std::string bytes = good_;
    format::Store<float>(bytes.data() + scales_ + 4 * 7, bad);
    auto m = MapBytes(Resealed(bytes));
    ASSERT_TRUE(m.ok()) << m.status();
    absl::StatusOr<kernels::F32Prefilter> view = PrefilterOf(**m);
    EXPECT_EQ(view.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(std::string(view.status().message()), HasSubstr("row 7 of the int8 copy"));
  }
}

}  // namespace
}  // namespace recd::model
