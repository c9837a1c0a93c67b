#include "bench/harness/model_gen.h"

#include <cstring>
#include <map>

#include "bench/harness/svg_chart.h"
#include "bench/harness/tar_writer.h"
#include "gtest/gtest.h"

namespace recd::bench {
namespace {

// A minimal ustar reader: name -> contents, checking each header's checksum and magic.
std::map<std::string, std::string> ReadTar(const std::string& tar) {
  std::map<std::string, std::string> files;
  size_t at = 0;
  while (at + 512 <= tar.size()) {
    const std::string_view header(tar.data() + at, 512);
    if (header.find_first_not_of('\0') == std::string_view::npos) break;
    EXPECT_EQ(header.substr(257, 6), std::string_view("ustar\0", 6));
    EXPECT_EQ(std::strtoul(std::string(header.substr(148, 7)).c_str(), nullptr, 8),
              TarHeaderChecksum(header));
    const std::string name(header.substr(0, header.find('\0')));
    const size_t size = std::strtoull(std::string(header.substr(124, 11)).c_str(), nullptr, 8);
    files[name] = tar.substr(at + 512, size);
    at += 512 + (size + 511) / 512 * 512;
  }
  return files;
}

TEST(TarWriter, ArchiveHasValidHeadersPaddedBlocksAndTwoZeroBlocksAtTheEnd) {
  TarWriter tar;
  ASSERT_TRUE(tar.AddFile("a.txt", "hello").ok());
  ASSERT_TRUE(tar.AddFile("b.bin", std::string(1024, 'x')).ok());
  const std::string archive = tar.Finish();
  EXPECT_EQ(archive.size() % 512, 0u);
  EXPECT_EQ(archive.size(), 512 + 512 + 512 + 1024 + 1024u);
  EXPECT_EQ(archive.substr(archive.size() - 1024), std::string(1024, '\0'));
  const auto files = ReadTar(archive);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files.at("a.txt"), "hello");
  EXPECT_EQ(files.at("b.bin").size(), 1024u);
}

TEST(TarWriter, RefusesUnsafeNames) {
  TarWriter tar;
  EXPECT_FALSE(tar.AddFile("/etc/passwd", "x").ok());
  EXPECT_FALSE(tar.AddFile("../up", "x").ok());
  EXPECT_FALSE(tar.AddFile(std::string(101, 'n'), "x").ok());
}

TEST(Npy, HeaderDescribesFloat32MatrixAndDataIs64ByteAligned) {
  const std::string npy = NpyFloat32({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, 2, 3);
  ASSERT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len =
      static_cast<unsigned char>(npy[8]) | (static_cast<unsigned char>(npy[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = npy.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(npy.size(), 10 + header_len + 6 * sizeof(float));
  float last = 0;
  std::memcpy(&last, npy.data() + npy.size() - 4, 4);
  EXPECT_EQ(last, 6.0f);
}

TEST(ModelGen, FolderHoldsManifestItemsAndEmbeddingsAndTheTarMatchesIt) {
  ModelShape shape;
  shape.items = 100;
  shape.dim = 8;
  const ModelFiles files = GenerateModel(shape);
  EXPECT_NE(files.manifest_json.find("\"dim\":8"), std::string::npos);
  EXPECT_NE(files.manifest_json.find("\"kind\":\"item_embeddings\""), std::string::npos);
  EXPECT_EQ(files.items_txt.substr(0, 6), "i1\ni2\n");
  absl::StatusOr<std::string> dir = MakeTempDir("model-test");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::string> tar = WriteModelFolderAndPack(files, *dir);
  RemoveTree(*dir);
  ASSERT_TRUE(tar.ok()) << tar.status();
  const auto members = ReadTar(*tar);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members.at("manifest.json"), files.manifest_json);
  EXPECT_EQ(members.at("items.txt"), files.items_txt);
  EXPECT_EQ(members.at("item_embeddings.npy"), files.embeddings_npy);
}

TEST(ModelGen, SameSeedSameModelOtherSeedOtherModel) {
  ModelShape a;
  a.items = 50;
  ModelShape b = a;
  b.seed = 2;
  EXPECT_EQ(GenerateModel(a).embeddings_npy, GenerateModel(a).embeddings_npy);
  EXPECT_NE(GenerateModel(a).embeddings_npy, GenerateModel(b).embeddings_npy);
}

TEST(SvgChart, RendersSeriesLegendAndReferenceLinesWithEscapedText) {
  LineChart chart;
  chart.title = "p99 <tenant & co>";
  chart.log_y = true;
  chart.series.push_back({"a p99", PaletteColor(0), "", {{0, 1.5}, {1, 2.5}, {2, 0}}});
  chart.horizontal.push_back({50, "target 50ms"});
  chart.vertical.push_back({1, "knee"});
  const std::string svg = RenderSvg(chart);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("p99 &lt;tenant &amp; co&gt;"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("target 50ms"), std::string::npos);
  EXPECT_NE(svg.find("knee"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // The zero point cannot sit on a log axis and is skipped: two points in the polyline.
  const size_t points = svg.find("points=\"");
  const std::string list = svg.substr(points + 8, svg.find('"', points + 8) - points - 8);
  EXPECT_EQ(std::count(list.begin(), list.end(), ','), 2);
}

TEST(SvgChart, EmptyChartIsStillAFramedDocument) {
  const std::string svg = RenderSvg(LineChart{});
  EXPECT_NE(svg.find("<rect"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace recd::bench
