#include "support/model_fixtures.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>

namespace recd::model::testing {
namespace {

void Fail(const std::string& what) {
  std::fprintf(stderr, "fixture failure: %s\n", what.c_str());
  std::abort();
}

void RemoveAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = ::opendir(path.c_str())) {
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
      for (const auto& n : names) RemoveAll(path + "/" + n);
    }
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

void PutLE(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string ShapeTuple(const std::vector<uint64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/recd-model-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() { RemoveAll(path_); }

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f) Fail("write " + path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void MakeDirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    ::mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

std::vector<std::string> ListTree(const std::string& dir) {
  std::vector<std::string> out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& abs,
                                                                         const std::string& rel) {
    DIR* d = ::opendir(abs.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) {
      std::string r = rel.empty() ? n : rel + "/" + n;
      out.push_back(r);
      walk(abs + "/" + n, r);
    }
  };
  walk(dir, "");
  std::sort(out.begin(), out.end());
  return out;
}

uint16_t FloatToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xFFu;
  uint32_t mant = x & 0x7FFFFFu;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00u | (mant != 0 ? 0x200u : 0u));
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(h);
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7FFFu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

double HalfReference(uint16_t h) {
  const int sign = (h & 0x8000) ? -1 : 1;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  if (exp == 0x1F) return mant != 0 ? std::nan("") : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}

double BFloat16Reference(uint16_t b) {
  const int sign = (b & 0x8000) ? -1 : 1;
  const int exp = (b >> 7) & 0xFF;
  const int mant = b & 0x7F;
  if (exp == 0xFF) return mant != 0 ? std::nan("") : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(mant, -133);
  return sign * std::ldexp(128 + mant, exp - 134);
}

std::string F32Bytes(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::string F16Bytes(const std::vector<float>& v) {
  std::string out;
  for (float f : v) PutLE(&out, FloatToHalf(f), 2);
  return out;
}

std::string BF16Bytes(const std::vector<float>& v) {
  std::string out;
  for (float f : v) PutLE(&out, FloatToBFloat16(f), 2);
  return out;
}

std::string NpyBytesWithHeader(std::string_view dict, std::string_view data, int major) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header(dict);
  // numpy pads with spaces and ends with '\n' so that the data starts 64-byte aligned.
  const size_t fixed = 8 + len_bytes;
  while ((fixed + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  PutLE(&out, header.size(), static_cast<int>(len_bytes));
  out += header;
  out += data;
  return out;
}

std::string NpyBytes(std::string_view descr, bool fortran_order, const std::vector<uint64_t>& shape,
                     std::string_view data, int major) {
  std::string dict = "{'descr': '" + std::string(descr) +
                     "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                     ", 'shape': " + ShapeTuple(shape) + ", }";
  return NpyBytesWithHeader(dict, data, major);
}

std::string SafetensorsBytesWithHeader(std::string_view header_json, std::string_view data) {
  std::string header(header_json);
  while (header.size() % 8 != 0) header += ' ';
  std::string out;
  PutLE(&out, header.size(), 8);
  out += header;
  out += data;
  return out;
}

std::string SafetensorsBytes(const std::vector<StTensor>& tensors, std::string_view metadata_json) {
  std::string header = "{";
  std::string data;
  bool first = true;
  if (!metadata_json.empty()) {
    header += "\"__metadata__\":" + std::string(metadata_json);
    first = false;
  }
  for (const StTensor& t : tensors) {
    if (!first) header += ",";
    first = false;
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      shape += (i > 0 ? "," : "") + std::to_string(t.shape[i]);
    }
    header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
              std::to_string(data.size() + t.data.size()) + "]}";
    data += t.data;
  }
  header += "}";
  return SafetensorsBytesWithHeader(header, data);
}

std::vector<float> RandomMatrix(uint32_t rows, uint32_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> m(size_t{rows} * dim);
  for (auto& x : m) x = dist(rng);
  for (uint32_t r = 0; r < rows; ++r) m[size_t{r} * dim] += r % 2 == 0 ? 1.5f : -1.5f;
  return m;
}

std::vector<std::string> MakeIds(uint32_t n, std::string_view prefix) {
  std::vector<std::string> ids;
  for (uint32_t i = 0; i < n; ++i) ids.push_back(std::string(prefix) + std::to_string(i));
  return ids;
}

std::string ItemsText(const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += id + "\n";
  return s;
}

std::string ManifestJson(std::string_view kind, std::string_view metric, uint32_t dim,
                         std::string_view embeddings_file, std::string_view extra) {
  std::string s = "{\"format\":1,\"kind\":\"" + std::string(kind) + "\",\"metric\":\"" +
                  std::string(metric) + "\",\"dim\":" + std::to_string(dim) +
                  ",\"items\":\"items.txt\",\"item_embeddings\":\"" + std::string(embeddings_file) +
                  "\"";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

void WriteGoodFolder(const std::string& dir, const FolderSpec& spec) {
  MakeDirs(dir);
  WriteFile(dir + "/manifest.json",
            ManifestJson(spec.kind, spec.metric, spec.dim, "item_embeddings.npy", spec.extra));
  WriteFile(dir + "/items.txt", ItemsText(MakeIds(spec.rows)));
  WriteFile(dir + "/item_embeddings.npy",
            NpyBytes("<f4", false, {spec.rows, spec.dim},
                     F32Bytes(RandomMatrix(spec.rows, spec.dim, spec.seed))));
}

void TarBuilder::Header(std::string_view name, uint64_t size, char type,
                        std::string_view linkname) {
  char h[512] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 1000);
  std::snprintf(h + 116, 8, "%07o", 1000);
  std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(h + 136, 12, "%011o", 1700000000);
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 157, linkname.data(), std::min<size_t>(linkname.size(), 100));
  if (magic_ == Magic::kUstar) {
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
  } else {
    std::memcpy(h + 257, "ustar  \0", 8);
  }
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  out_.append(h, 512);
}

void TarBuilder::Data(std::string_view content) {
  out_ += content;
  out_.append((512 - content.size() % 512) % 512, '\0');
}

TarBuilder& TarBuilder::AddFile(std::string_view name, std::string_view content, char type,
                                std::string_view linkname) {
  Header(name, type == '0' ? content.size() : 0, type, linkname);
  if (type == '0') Data(content);
  return *this;
}

TarBuilder& TarBuilder::AddDir(std::string_view name) {
  Header(name, 0, '5', "");
  return *this;
}

TarBuilder& TarBuilder::AddPaxPath(std::string_view path) {
  std::string body = " path=" + std::string(path) + "\n";
  // The length prefix counts itself.
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  std::string record = std::to_string(len) + body;
  Header("PaxHeaders.0/entry", record.size(), 'x', "");
  Data(record);
  return *this;
}

TarBuilder& TarBuilder::AddGnuLongName(std::string_view name) {
  std::string data = std::string(name) + '\0';
  Header("././@LongLink", data.size(), 'L', "");
  Data(data);
  return *this;
}

std::string TarBuilder::Finish() const { return out_ + std::string(1024, '\0'); }

TarBuilder TarOfFolder(const std::string& dir, std::string_view prefix) {
  TarBuilder tar;
  if (!prefix.empty()) tar.AddDir(prefix);
  for (const std::string& name : ListTree(dir)) {
    tar.AddFile(std::string(prefix) + name, ReadFile(dir + "/" + name));
  }
  return tar;
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    Fail("deflateInit2");
  }
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) Fail("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace recd::model::testing
