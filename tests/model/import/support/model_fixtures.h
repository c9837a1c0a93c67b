// Test fixtures for model import: writers for .npy, safetensors, manifest.json, items.txt,
// tar and gzip, so every test builds its inputs from scratch in a temporary directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recd::model::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view content);
std::string ReadFile(const std::string& path);
void MakeDirs(const std::string& path);
// Every file and directory below `dir`, relative, sorted ("a", "a/b").
std::vector<std::string> ListTree(const std::string& dir);

// Element encodings.
std::string F32Bytes(const std::vector<float>& v);
std::string F16Bytes(const std::vector<float>& v);   // round to nearest even
std::string BF16Bytes(const std::vector<float>& v);  // round to nearest even
uint16_t FloatToHalf(float f);
uint16_t FloatToBFloat16(float f);
// Independent decoders (ldexp based) used as references.
double HalfReference(uint16_t h);
double BFloat16Reference(uint16_t b);

// A .npy file: magic, version major.0, header dict, padding to 64 bytes, data.
std::string NpyBytes(std::string_view descr, bool fortran_order, const std::vector<uint64_t>& shape,
                     std::string_view data, int major = 1);
// Same with a verbatim header dict text.
std::string NpyBytesWithHeader(std::string_view dict, std::string_view data, int major = 1);

struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::string data;
};
// A safetensors file; tensors laid out back to back in the given order. `metadata_json`, if
// non-empty, is inserted as "__metadata__".
std::string SafetensorsBytes(const std::vector<StTensor>& tensors,
                             std::string_view metadata_json = "");
std::string SafetensorsBytesWithHeader(std::string_view header_json, std::string_view data);

// Deterministic values in [-1, 1], never exactly zero rows.
std::vector<float> RandomMatrix(uint32_t rows, uint32_t dim, uint32_t seed);
std::vector<std::string> MakeIds(uint32_t n, std::string_view prefix = "sku-");
std::string ItemsText(const std::vector<std::string>& ids);

// A manifest with the required fields; `extra` is spliced in verbatim, e.g.
// R"("alpha":2.0,"precision":"int8")".
std::string ManifestJson(std::string_view kind, std::string_view metric, uint32_t dim,
                         std::string_view embeddings_file = "item_embeddings.npy",
                         std::string_view extra = "");

// Writes a complete, valid folder: float32 .npy, rows x dim.
struct FolderSpec {
  std::string kind = "item_embeddings";
  std::string metric = "dot";
  uint32_t rows = 20;
  uint32_t dim = 8;
  std::string extra;  // extra manifest fields
  uint32_t seed = 1;
};
void WriteGoodFolder(const std::string& dir, const FolderSpec& spec);

// tar archives.
class TarBuilder {
 public:
  enum class Magic { kUstar, kGnu };
  explicit TarBuilder(Magic magic = Magic::kUstar) : magic_(magic) {}
  TarBuilder& AddFile(std::string_view name, std::string_view content, char type = '0',
                      std::string_view linkname = "");
  TarBuilder& AddDir(std::string_view name);
  // A pax 'x' header whose path record overrides the next entry's name.
  TarBuilder& AddPaxPath(std::string_view path);
  // A GNU 'L' long-name entry for the next entry.
  TarBuilder& AddGnuLongName(std::string_view name);
  // The archive with its end marker (two zero blocks).
  std::string Finish() const;
  // The archive without any end marker.
  const std::string& body() const { return out_; }

 private:
  void Header(std::string_view name, uint64_t size, char type, std::string_view linkname);
  void Data(std::string_view content);
  Magic magic_;
  std::string out_;
};

// Adds the files of a folder (as written by WriteGoodFolder) under `prefix` ("" or "v7/").
TarBuilder TarOfFolder(const std::string& dir, std::string_view prefix);

std::string Gzip(std::string_view data);

}  // namespace recd::model::testing
