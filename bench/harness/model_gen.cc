#include "bench/harness/model_gen.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bench/harness/tar_writer.h"
#include "bench/harness/workload.h"
#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::bench {

std::string NpyFloat32(const std::vector<float>& values, int64_t rows, int64_t cols) {
  std::string header =
      util::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", rows, ", ", cols, "), }");
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and ending in a
  // newline so that the data starts at a multiple of 64 bytes, as NumPy writes it.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const size_t data_start = out.size();
  out.resize(data_start + values.size() * sizeof(float));
  // x86-64 is little-endian, which is what '<f4' says.
  std::memcpy(out.data() + data_start, values.data(), values.size() * sizeof(float));
  return out;
}

ModelFiles GenerateModel(const ModelShape& shape) {
  ModelFiles files;
  std::string manifest;
  util::JsonWriter json(&manifest);
  json.BeginObject().Key("format").Int(1).Key("kind").String(shape.kind);
  json.Key("metric").String(shape.metric).Key("dim").Int(shape.dim);
  json.Key("items").String("items.txt").Key("item_embeddings").String("item_embeddings.npy");
  if (shape.kind == "ials") json.Key("regularization").Double(0.05).Key("alpha").Double(1.0);
  json.Key("event_weights").BeginObject().Key("view").Int(1).Key("click").Int(2);
  json.Key("add_to_cart").Int(3).Key("purchase").Int(5).EndObject();
  json.Key("precision").String(shape.precision).EndObject();
  files.manifest_json = manifest + "\n";

  files.items_txt.reserve(static_cast<size_t>(shape.items) * 8);
  for (int64_t i = 1; i <= shape.items; ++i) {
    util::StrAppend(&files.items_txt, SyntheticItemId(i), "\n");
  }

  // Items belong to one of ~sqrt(N) clusters: a shared centre plus noise, scaled to about unit
  // length, so nearest neighbours are meaningful and dot products stay well conditioned.
  std::mt19937_64 rng(shape.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t clusters = std::max<int64_t>(1, static_cast<int64_t>(std::sqrt(shape.items)));
  const size_t dim = static_cast<size_t>(shape.dim);
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& v : centres) v = normal(rng);
  std::vector<float> values(static_cast<size_t>(shape.items) * dim);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dim) * 1.25f);
  std::uniform_int_distribution<int64_t> pick(0, clusters - 1);
  for (int64_t i = 0; i < shape.items; ++i) {
    const float* centre = &centres[static_cast<size_t>(pick(rng)) * dim];
    float* row = &values[static_cast<size_t>(i) * dim];
    for (size_t d = 0; d < dim; ++d) row[d] = (centre[d] + 0.5f * normal(rng)) * scale;
  }
  files.embeddings_npy = NpyFloat32(values, shape.items, shape.dim);
  return files;
}

namespace {

absl::Status WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::InternalError(util::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(util::StrCat("cannot read ", path));
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

}  // namespace

absl::StatusOr<std::string> WriteModelFolderAndPack(const ModelFiles& files,
                                                    const std::string& dir) {
  const std::pair<const char*, const std::string*> members[] = {
      {"manifest.json", &files.manifest_json},
      {"items.txt", &files.items_txt},
      {"item_embeddings.npy", &files.embeddings_npy}};
  TarWriter tar;
  for (const auto& [name, data] : members) {
    const std::string path = util::StrCat(dir, "/", name);
    if (absl::Status s = WriteFile(path, *data); !s.ok()) return s;
    absl::StatusOr<std::string> back = ReadFile(path);
    if (!back.ok()) return back.status();
    if (absl::Status s = tar.AddFile(name, *back); !s.ok()) return s;
  }
  return tar.Finish();
}

absl::StatusOr<std::string> MakeTempDir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      util::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(util::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return pattern;
}

void RemoveTree(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace recd::bench
