// ModelRepository end to end: imports from folders and archives, listing, mapping, removal,
// and the rejection table: every bad model is refused with a message naming the problem and
// leaves the repository exactly as it was.
#include "model/repository.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/model_fixtures.h"
#include "util/clock.h"

namespace recd::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // NOLINT: fixture writers

constexpr uint32_t kTenant = 0x2a;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = ModelRepository::Open(root_.path(), &clock_);
    ASSERT_TRUE(repo.ok()) << repo.status();
    repo_ = std::move(*repo);
  }

  // The repository holds nothing but its empty scratch folder.
  void ExpectNothingWritten() { EXPECT_THAT(ListTree(root_.path()), ElementsAre(".tmp")); }

  std::string GoodFolder(const FolderSpec& spec = {}) {
    std::string folder = inputs_.Sub("folder" + std::to_string(folders_++));
    WriteGoodFolder(folder, spec);
    return folder;
  }

  TempDir root_;
  TempDir inputs_;
  util::ManualClock clock_{1763884800000};
  std::unique_ptr<ModelRepository> repo_;
  int folders_ = 0;
};

TEST_F(RepositoryTest, ImportsListsOpensAndRemovesVersions) {
  auto v1 = repo_->ImportFolder(kTenant, "v1", GoodFolder(), {});
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version, "v1");
  EXPECT_EQ(v1->items, 20u);
  EXPECT_EQ(v1->dim, 8u);
  EXPECT_EQ(v1->created_unix_ms, 1763884800000);
  clock_.AdvanceMs(1000);
  FolderSpec ials;
  ials.kind = "ials";
  ials.extra = R"("precision":"int8")";
  ials.rows = 30;
  auto v2 = repo_->ImportFolder(kTenant, "2026-11.b_1", GoodFolder(ials), {});
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->kind, ModelKind::kIals);
  EXPECT_EQ(v2->precision, Precision::kInt8);

  EXPECT_TRUE(PathExists(root_.Sub("0000002a/v1.recdm")));
  auto list = repo_->List(kTenant);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].version, "v1");
  EXPECT_EQ((*list)[1].version, "2026-11.b_1");
  EXPECT_EQ((*list)[1].created_unix_ms, 1763884801000);
  EXPECT_EQ((*list)[1].items, 30u);
  EXPECT_GT((*list)[1].bytes, 0u);
  EXPECT_TRUE((*list)[0].problem.empty());

  auto model = repo_->Open(kTenant, "v1", MapOptions{.populate = true});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->FindRow("sku-19"), 19u);
  EXPECT_TRUE((*model)->VerifyDataChecksum().ok());

  ASSERT_TRUE(repo_->Remove(kTenant, "v1").ok());
  EXPECT_TRUE(repo_->Remove(kTenant, "v1").ok()) << "removal is idempotent";
  EXPECT_EQ(repo_->Open(kTenant, "v1", {}).status().code(), absl::StatusCode::kNotFound);
  // A mapping taken before the removal stays valid.
  EXPECT_EQ((*model)->ItemId(3), "sku-3");
  ASSERT_EQ(repo_->List(kTenant)->size(), 1u);
  EXPECT_TRUE(repo_->List(999)->empty());
}

TEST_F(RepositoryTest, RefusesAnExistingVersionAndKeepsIt) {
  ASSERT_TRUE(repo_->ImportFolder(kTenant, "v1", GoodFolder(), {}).ok());
  const std::string before = ReadFile(root_.Sub("0000002a/v1.recdm"));
  FolderSpec other;
  other.seed = 99;
  auto again = repo_->ImportFolder(kTenant, "v1", GoodFolder(other), {});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("\"v1\" already exists"));
  EXPECT_EQ(ReadFile(root_.Sub("0000002a/v1.recdm")), before);
  // The same version of another tenant is independent.
  EXPECT_TRUE(repo_->ImportFolder(kTenant + 1, "v1", GoodFolder(), {}).ok());
}

TEST_F(RepositoryTest, RefusesInvalidVersionNames) {
  const std::string folder = GoodFolder();
  for (std::string v :
       {std::string(), std::string(".hidden"), std::string("a/b"), std::string("../x"),
        std::string("v 1"), std::string(65, 'v'), std::string("-v"), std::string("v1\n")}) {
    auto r = repo_->ImportFolder(kTenant, v, folder, {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << v;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("is invalid")) << v;
  }
  EXPECT_TRUE(IsValidModelVersion(std::string(64, 'v')));
  ExpectNothingWritten();
}

TEST_F(RepositoryTest, ImportsTarArchivesFromTheRootOrOneTopFolderGzippedOrNot) {
  const std::string folder = GoodFolder();
  std::vector<std::string> archives = {TarOfFolder(folder, "").Finish(),
                                       TarOfFolder(folder, "v7/").Finish(),
                                       Gzip(TarOfFolder(folder, "model/").Finish())};
  for (size_t i = 0; i < archives.size(); ++i) {
    StringByteSource source(archives[i]);
    auto r = repo_->ImportTarStream(kTenant, "t" + std::to_string(i), source, {});
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    EXPECT_EQ(r->items, 20u);
  }
  WriteFile(inputs_.Sub("upload.tar.gz"), archives[2]);
  auto from_file = repo_->ImportTar(kTenant, "file", inputs_.Sub("upload.tar.gz"), {});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(repo_->List(kTenant)->size(), 4u);
  // Extraction folders are cleaned up.
  EXPECT_TRUE(ListTree(root_.Sub(".tmp")).empty());
}

TEST_F(RepositoryTest, RemoveTenantDeletesOnlyThatTenant) {
  ASSERT_TRUE(repo_->ImportFolder(kTenant, "v1", GoodFolder(), {}).ok());
  ASSERT_TRUE(repo_->ImportFolder(kTenant, "v2", GoodFolder(), {}).ok());
  ASSERT_TRUE(repo_->ImportFolder(7, "v1", GoodFolder(), {}).ok());
  ASSERT_TRUE(repo_->RemoveTenant(kTenant).ok());
  EXPECT_TRUE(repo_->List(kTenant)->empty());
  EXPECT_EQ(repo_->List(7)->size(), 1u);
  EXPECT_THAT(ListTree(root_.path()), ElementsAre(".tmp", "00000007", "00000007/v1.recdm"));
  EXPECT_TRUE(repo_->RemoveTenant(kTenant).ok()) << "idempotent";
  // The tenant can import again afterwards.
  EXPECT_TRUE(repo_->ImportFolder(kTenant, "v1", GoodFolder(), {}).ok());
}

TEST_F(RepositoryTest, OpenSweepsLeftoversOfInterruptedImports) {
  ASSERT_TRUE(repo_->ImportFolder(kTenant, "v1", GoodFolder(), {}).ok());
  MakeDirs(root_.Sub(".tmp/import-abc123"));
  WriteFile(root_.Sub(".tmp/import-abc123/items.txt"), "x");
  WriteFile(root_.Sub("0000002a/.v2.recdm.tmp-0123"), "partial");
  MakeDirs(root_.Sub(".trash-0000002b-1"));
  WriteFile(root_.Sub(".trash-0000002b-1/v1.recdm"), "old");
  repo_.reset();
  auto reopened = ModelRepository::Open(root_.path(), &clock_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_THAT(ListTree(root_.path()), ElementsAre(".tmp", "0000002a", "0000002a/v1.recdm"));
}

TEST_F(RepositoryTest, ConcurrentImportsOfOneVersionPublishItOnce) {
  FolderSpec spec;
  spec.rows = 2000;
  spec.dim = 32;
  const std::string folder = GoodFolder(spec);
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = repo_->ImportFolder(kTenant, "v1", folder, {});
      if (r.ok()) {
        ++ok;
      } else if (absl::IsAlreadyExists(r.status())) {
        ++exists;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 3);
  EXPECT_EQ(other, 0);
  EXPECT_THAT(ListTree(root_.Sub("0000002a")), ElementsAre("v1.recdm"));
}

TEST_F(RepositoryTest, ListReportsADamagedFileInsteadOfHidingIt) {
  ASSERT_TRUE(repo_->ImportFolder(kTenant, "v1", GoodFolder(), {}).ok());
  std::string bytes = ReadFile(root_.Sub("0000002a/v1.recdm"));
  bytes[70] ^= 1;
  WriteFile(root_.Sub("0000002a/v1.recdm"), bytes);
  auto list = repo_->List(kTenant);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_THAT((*list)[0].problem, HasSubstr("checksum"));
  EXPECT_EQ(repo_->Open(kTenant, "v1", {}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RepositoryTest, CheckModelFolderReportsWhatImportWouldStore) {
  CheckResult result;
  ASSERT_TRUE(CheckModelFolder(GoodFolder(), ImportOptions{}, &result).ok());
  EXPECT_EQ(result.items, 20u);
  EXPECT_EQ(result.dim, 8u);
  auto imported = repo_->ImportFolder(kTenant, "v1", GoodFolder(), {});
  ASSERT_TRUE(imported.ok());
  EXPECT_EQ(result.compiled_bytes, imported->bytes);
}

// --- The rejection table. ---

struct BadModel {
  std::string name;
  // Turns a good folder (20 rows x dim 8, float32 .npy, ids sku-0..sku-19) into a bad one.
  std::function<void(const std::string& folder)> damage;
  std::string message;
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  uint64_t max_model_bytes = kDefaultMaxModelBytes;
};

void SetManifest(const std::string& folder, const std::string& json) {
  WriteFile(folder + "/manifest.json", json);
}

void SetNpy(const std::string& folder, const std::string& bytes) {
  WriteFile(folder + "/item_embeddings.npy", bytes);
}

std::string GoodNpy(uint32_t rows = 20, uint32_t dim = 8) {
  return NpyBytes("<f4", false, {rows, dim}, F32Bytes(RandomMatrix(rows, dim, 1)));
}

std::vector<BadModel> BadModels() {
  std::vector<BadModel> v;
  v.push_back(
      {"ShapeMismatch",
       [](const std::string& f) { SetManifest(f, ManifestJson("item_embeddings", "dot", 64)); },
       "item_embeddings.npy: shape [20, 8] but manifest dim is 64"});
  v.push_back({"DuplicateIds",
               [](const std::string& f) {
                 auto ids = MakeIds(20);
                 ids[4] = "sku-1";
                 WriteFile(f + "/items.txt", ItemsText(ids));
               },
               "items.txt line 5: duplicate item id \"sku-1\" (first on line 2)"});
  v.push_back({"NaNValue",
               [](const std::string& f) {
                 auto m = RandomMatrix(20, 8, 1);
                 m[3 * 8 + 2] = std::nanf("");
                 SetNpy(f, NpyBytes("<f4", false, {20, 8}, F32Bytes(m)));
               },
               "item_embeddings.npy: row 3 (item \"sku-3\") column 2 is NaN"});
  v.push_back({"InfiniteFloat16Value",
               [](const std::string& f) {
                 auto m = RandomMatrix(20, 8, 1);
                 m[19 * 8 + 7] = -INFINITY;
                 SetNpy(f, NpyBytes("<f2", false, {20, 8}, F16Bytes(m)));
               },
               "row 19 (item \"sku-19\") column 7 is infinite"});
  v.push_back({"Float16Overflow",
               [](const std::string& f) {
                 auto m = RandomMatrix(20, 8, 1);
                 m[0] = 70000;  // beyond float16's range: saved as inf
                 SetNpy(f, NpyBytes("<f2", false, {20, 8}, F16Bytes(m)));
               },
               "row 0 (item \"sku-0\") column 0 is infinite"});
  v.push_back(
      {"DimZero",
       [](const std::string& f) { SetManifest(f, ManifestJson("item_embeddings", "dot", 0)); },
       "manifest.json: field \"dim\" must be an integer from 1 to 4096, got 0"});
  v.push_back(
      {"DimAbove4096",
       [](const std::string& f) { SetManifest(f, ManifestJson("item_embeddings", "dot", 4097)); },
       "must be an integer from 1 to 4096, got 4097"});
  v.push_back({"IalsAbove512Dims",
               [](const std::string& f) { SetManifest(f, ManifestJson("ials", "dot", 600)); },
               "kind \"ials\" allows dim up to 512 (got 600)"});
  v.push_back({"IalsWithCosine",
               [](const std::string& f) { SetManifest(f, ManifestJson("ials", "cosine", 8)); },
               "kind \"ials\" requires metric \"dot\""});
  v.push_back({"TruncatedNpy",
               [](const std::string& f) {
                 std::string b = GoodNpy();
                 SetNpy(f, b.substr(0, b.size() - 3));
               },
               "item_embeddings.npy: file is"});
  v.push_back({"ExtendedNpy", [](const std::string& f) { SetNpy(f, GoodNpy() + "tail"); },
               "unexpected extra data"});
  v.push_back({"BigEndianNpy",
               [](const std::string& f) {
                 SetNpy(f, NpyBytes(">f4", false, {20, 8}, std::string(640, '\0')));
               },
               "dtype '>f4' is big-endian"});
  v.push_back({"Float64Npy",
               [](const std::string& f) {
                 SetNpy(f, NpyBytes("<f8", false, {20, 8}, std::string(1280, '\0')));
               },
               "dtype '<f8' is not supported"});
  v.push_back({"FortranOrderNpy",
               [](const std::string& f) {
                 SetNpy(f, NpyBytes("<f4", true, {20, 8}, F32Bytes(RandomMatrix(20, 8, 1))));
               },
               "Fortran order"});
  v.push_back({"UnknownManifestField",
               [](const std::string& f) {
                 SetManifest(f, ManifestJson("item_embeddings", "dot", 8, "item_embeddings.npy",
                                             R"("epochs":10)"));
               },
               "manifest.json: unknown field \"epochs\""});
  v.push_back({"UnknownKind",
               [](const std::string& f) { SetManifest(f, ManifestJson("bpr", "dot", 8)); },
               "field \"kind\" must be \"item_embeddings\" or \"ials\", got \"bpr\""});
  v.push_back({"BadEventWeight",
               [](const std::string& f) {
                 SetManifest(f, ManifestJson("item_embeddings", "dot", 8, "item_embeddings.npy",
                                             R"("event_weights":{"purchase":0})"));
               },
               "field \"event_weights.purchase\" must be a finite number > 0, got 0"});
  v.push_back({"InvalidIdLine",
               [](const std::string& f) {
                 auto ids = MakeIds(20);
                 ids[6] = "bad\x7fid";
                 WriteFile(f + "/items.txt", ItemsText(ids));
               },
               "items.txt line 7: item id \"bad\\x7fid\" is not valid UTF-8 or contains "
               "control characters"});
  v.push_back({"WindowsLineEndings",
               [](const std::string& f) { WriteFile(f + "/items.txt", "sku-0\r\nsku-1\r\n"); },
               "items.txt line 1: ends with CR"});
  v.push_back({"CountMismatch",
               [](const std::string& f) { WriteFile(f + "/items.txt", ItemsText(MakeIds(19))); },
               "items.txt has 19 ids but item_embeddings.npy has 20 rows"});
  v.push_back({"NoRows",
               [](const std::string& f) {
                 SetNpy(f, NpyBytes("<f4", false, {0, 8}, ""));
               },
               "matrix has 0 rows"});
  v.push_back({"MissingManifest",
               [](const std::string& f) { ::unlink((f + "/manifest.json").c_str()); },
               "manifest.json: file not found in the model folder"});
  v.push_back({"MissingEmbeddings",
               [](const std::string& f) { ::unlink((f + "/item_embeddings.npy").c_str()); },
               "item_embeddings.npy: file not found in the model folder"});
  v.push_back({"ManifestNotJson", [](const std::string& f) { SetManifest(f, "format: 1\n"); },
               "manifest.json: not valid JSON"});
  v.push_back({"AmbiguousSafetensors",
               [](const std::string& f) {
                 SetManifest(f, ManifestJson("item_embeddings", "dot", 8, "m.safetensors"));
                 WriteFile(
                     f + "/m.safetensors",
                     SafetensorsBytes({{"a", "F32", {20, 8}, F32Bytes(RandomMatrix(20, 8, 1))},
                                       {"b", "F32", {1, 1}, F32Bytes({1})}}));
               },
               "m.safetensors: file holds 2 tensors"});
  v.push_back({"AboveMaxModelBytes", [](const std::string&) {},
               "above the limit of 2048 bytes (max_model_bytes)",
               absl::StatusCode::kResourceExhausted, 2048});
  return v;
}

class RejectionTest : public RepositoryTest, public ::testing::WithParamInterface<BadModel> {};

TEST_P(RejectionTest, ImportRefusesWithANamedProblemAndWritesNothing) {
  const BadModel& bad = GetParam();
  const std::string folder = GoodFolder();
  bad.damage(folder);
  ImportOptions options;
  options.max_model_bytes = bad.max_model_bytes;
  auto r = repo_->ImportFolder(kTenant, "v1", folder, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), bad.code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(bad.message));
  ExpectNothingWritten();
  EXPECT_TRUE(repo_->List(kTenant)->empty());
}

TEST_P(RejectionTest, CheckModelFolderGivesTheSameMessage) {
  const BadModel& bad = GetParam();
  const std::string folder = GoodFolder();
  bad.damage(folder);
  ImportOptions options;
  options.max_model_bytes = bad.max_model_bytes;
  absl::Status s = CheckModelFolder(folder, options);
  EXPECT_EQ(s.code(), bad.code);
  EXPECT_THAT(std::string(s.message()), HasSubstr(bad.message));
}

TEST_P(RejectionTest, TarImportRefusesTheSameWayAndWritesNothing) {
  const BadModel& bad = GetParam();
  const std::string folder = GoodFolder();
  bad.damage(folder);
  ImportOptions options;
  options.max_model_bytes = bad.max_model_bytes;
  options.max_archive_bytes = 1 << 20;
  std::string archive = Gzip(TarOfFolder(folder, "model/").Finish());
  StringByteSource source(archive);
  auto r = repo_->ImportTarStream(kTenant, "v1", source, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(bad.message));
  ExpectNothingWritten();
}

INSTANTIATE_TEST_SUITE_P(BadModels, RejectionTest, ::testing::ValuesIn(BadModels()),
                         [](const auto& info) { return info.param.name; });

struct BadArchive {
  std::string name;
  std::function<std::string(const std::string& folder)> make;
  std::string message;
};

std::vector<BadArchive> BadArchives() {
  return {
      {"DotDotName",
       [](const std::string& f) {
         return TarOfFolder(f, "").AddFile("../escape.txt", "x").Finish();
       },
       "names with \"..\" components are not allowed"},
      {"AbsoluteName",
       [](const std::string& f) { return TarOfFolder(f, "").AddFile("/tmp/evil", "x").Finish(); },
       "absolute names are not allowed"},
      {"Symlink",
       [](const std::string& f) {
         return TarBuilder().AddFile("items.txt", "", '2', "/etc/passwd").Finish();
       },
       "symbolic links are not allowed"},
      {"TruncatedTar",
       [](const std::string& f) {
         std::string t = TarOfFolder(f, "").Finish();
         return t.substr(0, t.size() - 1500);
       },
       "archive is truncated"},
      {"TruncatedGzip",
       [](const std::string& f) {
         std::string g = Gzip(TarOfFolder(f, "").Finish());
         return g.substr(0, g.size() - 40);
       },
       "gzip data is truncated"},
      {"NotAnArchive", [](const std::string& f) { return std::string("{\"path\":\"/x\"}"); },
       "not a tar archive"},
      {"TwoTopFolders",
       [](const std::string& f) { return TarOfFolder(f, "a/").AddFile("b/x", "1").Finish(); },
       "exactly one top folder"},
  };
}

class ArchiveRejectionTest : public RepositoryTest,
                             public ::testing::WithParamInterface<BadArchive> {};

TEST_P(ArchiveRejectionTest, ImportRefusesWithANamedProblemAndWritesNothing) {
  std::string archive = GetParam().make(GoodFolder());
  StringByteSource source(archive);
  auto r = repo_->ImportTarStream(kTenant, "v1", source, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(GetParam().message));
  ExpectNothingWritten();
}

INSTANTIATE_TEST_SUITE_P(BadArchives, ArchiveRejectionTest, ::testing::ValuesIn(BadArchives()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace recd::model
