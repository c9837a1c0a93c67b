#include "model/tar_reader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // NOLINT: fixture writers

class TarReaderTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::vector<ExtractedFile>> Extract(const std::string& archive,
                                                     TarLimits limits = {}) {
    // A fresh destination per call, as the repository does.
    const std::string dest = dir_.Sub("x" + std::to_string(calls_++));
    MakeDirs(dest);
    last_ = dest;
    StringByteSource source(archive);
    return ExtractModelArchive(source, dest, limits);
  }
  std::string Error(const std::string& archive, TarLimits limits = {}) {
    auto r = Extract(archive, limits);
    EXPECT_FALSE(r.ok());
    return std::string(r.status().message());
  }
  std::vector<std::string> Files() { return ListTree(last_); }
  std::string Extracted(const std::string& name) { return ReadFile(last_ + "/" + name); }

  TempDir dir_;
  std::string last_;
  int calls_ = 0;
};

TEST_F(TarReaderTest, ExtractsFilesAtTheRoot) {
  auto r =
      Extract(TarBuilder().AddFile("manifest.json", "{}").AddFile("./items.txt", "a\n").Finish());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Files(), ElementsAre("items.txt", "manifest.json"));
  EXPECT_EQ(Extracted("items.txt"), "a\n");
}

TEST_F(TarReaderTest, ExtractsFilesFromOneTopFolder) {
  std::string big(1500, 'z');  // spans several blocks
  auto r = Extract(TarBuilder()
                       .AddDir("v7/")
                       .AddFile("v7/manifest.json", "{}")
                       .AddFile("v7/item_embeddings.npy", big)
                       .Finish());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Files(), ElementsAre("item_embeddings.npy", "manifest.json"));
  EXPECT_EQ(Extracted("item_embeddings.npy"), big);
}

TEST_F(TarReaderTest, HonoursPaxPathOverrides) {
  std::string long_dir(150, 'd');
  auto r =
      Extract(TarBuilder().AddPaxPath(long_dir + "/items.txt").AddFile("short", "a\n").Finish());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Files(), ElementsAre("items.txt"));
}

TEST_F(TarReaderTest, HonoursGnuLongNames) {
  std::string long_name = std::string(120, 'n') + ".npy";
  auto r = Extract(TarBuilder(TarBuilder::Magic::kGnu)
                       .AddGnuLongName(long_name)
                       .AddFile(long_name.substr(0, 100), "data")
                       .Finish());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Files(), ElementsAre(long_name));
}

TEST_F(TarReaderTest, ReadsGzipCompressedArchives) {
  auto r = Extract(Gzip(TarBuilder().AddFile("manifest.json", "{}").Finish()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Files(), ElementsAre("manifest.json"));
}

TEST_F(TarReaderTest, ReadsConcatenatedGzipMembers) {
  std::string tar = TarBuilder().AddFile("a.txt", std::string(3000, 'a')).Finish();
  auto r = Extract(Gzip(tar.substr(0, 1024)) + Gzip(tar.substr(1024)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Extracted("a.txt"), std::string(3000, 'a'));
}

TEST_F(TarReaderTest, RejectsDotDotComponents) {
  EXPECT_THAT(Error(TarBuilder().AddFile("../evil.txt", "x").Finish()),
              HasSubstr("archive: entry \"../evil.txt\": names with \"..\" components are not "
                        "allowed"));
  EXPECT_THAT(Error(TarBuilder().AddFile("v7/../../x", "x").Finish()), HasSubstr("\"..\""));
  EXPECT_THAT(Files(), ElementsAre());
}

TEST_F(TarReaderTest, RejectsDotDotHiddenInAPaxPath) {
  EXPECT_THAT(Error(TarBuilder().AddPaxPath("../x").AddFile("fine", "x").Finish()),
              HasSubstr("\"..\""));
}

TEST_F(TarReaderTest, RejectsAbsoluteNames) {
  EXPECT_THAT(Error(TarBuilder().AddFile("/etc/passwd", "x").Finish()),
              HasSubstr("entry \"/etc/passwd\": absolute names are not allowed"));
}

TEST_F(TarReaderTest, RejectsSymbolicLinks) {
  EXPECT_THAT(Error(TarBuilder().AddFile("items.txt", "", '2', "/etc/passwd").Finish()),
              HasSubstr("entry \"items.txt\": symbolic links are not allowed"));
}

TEST_F(TarReaderTest, RejectsHardLinks) {
  EXPECT_THAT(Error(TarBuilder().AddFile("a", "x").AddFile("b", "", '1', "a").Finish()),
              HasSubstr("entry \"b\": hard links are not allowed"));
}

TEST_F(TarReaderTest, RejectsDevicesAndFifos) {
  EXPECT_THAT(Error(TarBuilder().AddFile("dev", "", '3').Finish()), HasSubstr("device files"));
  EXPECT_THAT(Error(TarBuilder().AddFile("fifo", "", '6').Finish()), HasSubstr("FIFOs"));
}

TEST_F(TarReaderTest, RejectsNestedFolders) {
  EXPECT_THAT(Error(TarBuilder().AddFile("a/b/items.txt", "x").Finish()),
              HasSubstr("nested folders are not allowed"));
}

TEST_F(TarReaderTest, RejectsMoreThanOneTopLevel) {
  EXPECT_THAT(Error(TarBuilder().AddFile("a/x", "1").AddFile("b/y", "2").Finish()),
              HasSubstr("exactly one top folder (found \"a\" and \"b\")"));
  EXPECT_THAT(Error(TarBuilder().AddFile("x", "1").AddFile("b/y", "2").Finish()),
              HasSubstr("found the root and \"b\""));
}

TEST_F(TarReaderTest, RejectsDuplicateEntries) {
  EXPECT_THAT(Error(TarBuilder().AddFile("items.txt", "a").AddFile("./items.txt", "b").Finish()),
              HasSubstr("entry \"./items.txt\": duplicates an earlier entry"));
}

TEST_F(TarReaderTest, RejectsTruncatedArchives) {
  std::string tar = TarBuilder().AddFile("items.txt", std::string(2000, 'a')).Finish();
  EXPECT_THAT(Error(tar.substr(0, 1000)),
              HasSubstr("archive is truncated (inside entry \"items.txt\")"));
  EXPECT_THAT(Error(tar.substr(0, 300)), HasSubstr("not a tar archive"));
  // Cut after the data but before the end-of-archive marker.
  EXPECT_THAT(Error(TarBuilder().AddFile("a", "x").body()),
              HasSubstr("archive is truncated (no end-of-archive marker)"));
}

TEST_F(TarReaderTest, RejectsTruncatedGzip) {
  std::string gz = Gzip(TarBuilder().AddFile("items.txt", std::string(5000, 'q')).Finish());
  EXPECT_THAT(Error(gz.substr(0, gz.size() / 2)), HasSubstr("gzip data is truncated"));
}

// The end-of-archive marker comes before gzip's trailer (CRC-32 and length, the last 8
// bytes): an upload cut or damaged there must still be refused.
TEST_F(TarReaderTest, RejectsGzipCutOrDamagedAfterTheEndOfArchive) {
  const std::string gz = Gzip(TarBuilder().AddFile("items.txt", std::string(5000, 'q')).Finish());
  for (size_t cut : {1u, 4u, 8u}) {
    EXPECT_THAT(Error(gz.substr(0, gz.size() - cut)), HasSubstr("gzip data is truncated"))
        << "cut " << cut;
  }
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  EXPECT_THAT(Error(bad_crc), HasSubstr("gzip data is corrupt"));
  std::string bad_length = gz;
  bad_length[bad_length.size() - 1] ^= 0x01;
  EXPECT_THAT(Error(bad_length), HasSubstr("gzip data is corrupt"));
}

TEST_F(TarReaderTest, AcceptsRecordPaddingButNotAnythingBigAfterTheEnd) {
  const std::string tar = TarBuilder().AddFile("a.txt", "x").Finish();
  auto padded = Extract(tar + std::string(64 * 1024, '\0'));
  ASSERT_TRUE(padded.ok()) << padded.status();
  auto padded_gz = Extract(Gzip(tar + std::string(64 * 1024, '\0')));
  ASSERT_TRUE(padded_gz.ok()) << padded_gz.status();
  EXPECT_THAT(Error(tar + std::string((1 << 20) + 1, '\0')),
              HasSubstr("bytes follow the end-of-archive marker"));
}

TEST_F(TarReaderTest, RejectsCorruptGzip) {
  std::string gz = Gzip(TarBuilder().AddFile("items.txt", std::string(5000, 'q')).Finish());
  gz[gz.size() / 2] ^= 0x5A;
  gz[gz.size() / 2 + 1] ^= 0x5A;
  EXPECT_THAT(Error(gz), HasSubstr("gzip"));
}

TEST_F(TarReaderTest, RejectsDamagedHeaders) {
  std::string tar = TarBuilder().AddFile("a", "x").AddFile("b", "y").Finish();
  tar[1024 + 10] ^= 1;  // second header's name
  EXPECT_THAT(Error(tar), HasSubstr("header at byte 1024 has a bad checksum"));
  EXPECT_THAT(Error(std::string(1024, 'x')), HasSubstr("not a tar archive"));
  EXPECT_THAT(Error(""), HasSubstr("archive is empty"));
}

TEST_F(TarReaderTest, BoundsTheExtractedSize) {
  TarLimits limits;
  limits.max_total_bytes = 1000;
  auto r = Extract(
      TarBuilder().AddFile("a", std::string(600, 'a')).AddFile("b", std::string(600, 'b')).Finish(),
      limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("extracts to more than 1000 bytes"));
}

TEST_F(TarReaderTest, BoundsTheEntryCount) {
  TarBuilder tar;
  for (int i = 0; i < 5; ++i) tar.AddFile("f" + std::to_string(i), "x");
  TarLimits limits;
  limits.max_entries = 4;
  EXPECT_THAT(Error(tar.Finish(), limits), HasSubstr("more than 4 entries"));
}

}  // namespace
}  // namespace recd::model
