#include "checkpoint/safetensors.h"

#include "checkpoint/hf_model_dir.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace llmsrec::checkpoint {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A header larger than this is certainly not a weights file (real ones are < 10 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

StDtype parse_dtype(const std::string& s, const std::string& name, const std::string& file) {
  if (s == "F32") return StDtype::kF32;
  if (s == "F16") return StDtype::kF16;
  if (s == "BF16") return StDtype::kBF16;
  throw DataError(fmt::format("safetensors '{}': tensor '{}' has dtype '{}'; supported dtypes are F32, F16, BF16",
                              file, name, s));
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string shape_str(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace

const char* st_dtype_name(StDtype dtype) {
  switch (dtype) {
    case StDtype::kF32: return "F32";
    case StDtype::kF16: return "F16";
    case StDtype::kBF16: return "BF16";
  }
  return "?";
}

size_t st_dtype_size(StDtype dtype) { return dtype == StDtype::kF32 ? 4 : 2; }

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float bf16_to_f32(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_bf16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | mant << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::map<std::string, TensorEntry> parse_safetensors_header(const uint8_t* bytes, size_t size,
                                                            const std::string& file, size_t* data_start) {
  if (size < 8) {
    throw DataError(fmt::format("safetensors '{}': file is {} bytes, too short for the 8-byte header length "
                                "(truncated?)", file, size));
  }
  const uint64_t header_len = read_le64(bytes);
  if (header_len > kMaxHeaderBytes || header_len > size - 8) {
    throw DataError(fmt::format("safetensors '{}': header length {} exceeds the file ({} bytes; truncated or "
                                "not a safetensors file?)", file, header_len, size));
  }
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const json::exception& e) {
    throw DataError(fmt::format("safetensors '{}': header is not valid JSON: {}", file, e.what()));
  }
  if (!header.is_object()) throw DataError(fmt::format("safetensors '{}': header is not a JSON object", file));

  const uint64_t data_size = size - 8 - header_len;
  std::map<std::string, TensorEntry> out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const json& t = it.value();
    auto bad = [&](const std::string& what) {
      return DataError(fmt::format("safetensors '{}': tensor '{}': {}", file, name, what));
    };
    if (!t.is_object()) throw bad("header entry is not an object");
    if (!t.contains("dtype") || !t["dtype"].is_string()) throw bad("missing string 'dtype'");
    if (!t.contains("shape") || !t["shape"].is_array()) throw bad("missing array 'shape'");
    if (!t.contains("data_offsets") || !t["data_offsets"].is_array() || t["data_offsets"].size() != 2) {
      throw bad("missing 'data_offsets' [begin, end]");
    }
    TensorEntry e;
    e.dtype = parse_dtype(t["dtype"].get<std::string>(), name, file);
    unsigned __int128 numel = 1;
    for (const json& d : t["shape"]) {
      if (!d.is_number_unsigned()) throw bad(fmt::format("shape entry {} is not a non-negative integer", d.dump()));
      e.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
      numel *= d.get<uint64_t>();
      if (numel > (static_cast<unsigned __int128>(1) << 62)) throw bad("shape has too many elements");
    }
    for (const json& o : t["data_offsets"]) {
      if (!o.is_number_unsigned()) throw bad(fmt::format("data offset {} is not a non-negative integer", o.dump()));
    }
    e.begin = t["data_offsets"][0].get<uint64_t>();
    e.end = t["data_offsets"][1].get<uint64_t>();
    if (e.begin > e.end) throw bad(fmt::format("data_offsets [{}, {}] are reversed", e.begin, e.end));
    if (e.end > data_size) {
      throw bad(fmt::format("data_offsets [{}, {}] run past the end of the data region ({} bytes; truncated file?)",
                            e.begin, e.end, data_size));
    }
    const unsigned __int128 expect = numel * st_dtype_size(e.dtype);
    if (expect != e.end - e.begin) {
      throw bad(fmt::format("shape {} x {} needs {} bytes but data_offsets [{}, {}] hold {}", shape_str(e.shape),
                            st_dtype_name(e.dtype), static_cast<uint64_t>(expect), e.begin, e.end,
                            e.end - e.begin));
    }
    out.emplace(name, std::move(e));
  }
  // No two non-empty tensors may share bytes.
  std::vector<std::pair<const std::string*, const TensorEntry*>> order;
  for (const auto& [name, e] : out) {
    if (e.end > e.begin) order.emplace_back(&name, &e);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i].second->begin < order[i - 1].second->end) {
      throw DataError(fmt::format("safetensors '{}': tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", file,
                                  *order[i - 1].first, order[i - 1].second->begin, order[i - 1].second->end,
                                  *order[i].first, order[i].second->begin, order[i].second->end));
    }
  }
  if (data_start) *data_start = 8 + header_len;
  return out;
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError(fmt::format("open '{}': {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    ::close(fd_);
    throw IoError(fmt::format("stat '{}': {}", path, std::strerror(err)));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd_);
      throw IoError(fmt::format("mmap '{}': {}", path, std::strerror(err)));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void SafetensorsReader::add_file(const std::string& path, const std::vector<std::string>* only) {
  auto mapped = std::make_unique<MappedFile>(path);
  size_t data_start = 0;
  auto entries = parse_safetensors_header(mapped->data(), mapped->size(), path, &data_start);
  if (only) {
    for (const auto& name : *only) {
      if (!entries.count(name)) {
        throw DataError(fmt::format("safetensors '{}': tensor '{}' is listed in the index but absent from the file",
                                    path, name));
      }
    }
  }
  for (auto& [name, e] : entries) {
    if (only && std::find(only->begin(), only->end(), name) == only->end()) continue;
    if (tensors_.count(name)) {
      throw DataError(fmt::format("safetensors: tensor '{}' appears in both '{}' and '{}'", name,
                                  tensors_[name].file, path));
    }
    TensorView v;
    v.name = name;
    v.file = path;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.data = mapped->data() + data_start + e.begin;
    v.nbytes = e.end - e.begin;
    tensors_.emplace(name, std::move(v));
  }
  files_.push_back(std::move(mapped));
}

SafetensorsReader SafetensorsReader::open(const std::string& path) {
  SafetensorsReader r;
  r.source_ = path;
  const std::string file = hf_model_file(path, "weights");
  if (file.size() >= 5 && file.compare(file.size() - 5, 5, ".json") == 0) {
    std::ifstream in(file);
    if (!in) throw IoError(fmt::format("open '{}': {}", file, std::strerror(errno)));
    json index;
    try {
      index = json::parse(in);
    } catch (const json::exception& e) {
      throw DataError(fmt::format("safetensors index '{}': not valid JSON: {}", file, e.what()));
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw DataError(fmt::format("safetensors index '{}': missing object 'weight_map'", file));
    }
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) {
        throw DataError(fmt::format("safetensors index '{}': weight_map['{}'] is not a file name", file, it.key()));
      }
      by_shard[it.value().get<std::string>()].push_back(it.key());
    }
    const fs::path dir = fs::path(file).parent_path();
    for (const auto& [shard, names] : by_shard) r.add_file((dir / shard).string(), &names);
  } else {
    r.add_file(file, nullptr);
  }
  return r;
}

const TensorView& SafetensorsReader::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    std::set<std::string> files;
    for (const auto& f : files_) files.insert(f->path());
    throw DataError(fmt::format("safetensors '{}': missing tensor '{}' (searched {})", source_, name,
                                fmt::join(files, ", ")));
  }
  return it->second;
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  for (const auto& kv : tensors_) out.push_back(kv.first);
  return out;
}

void SafetensorsReader::read_f32(const std::string& name, const std::vector<int64_t>& shape, float* out) const {
  const TensorView& v = get(name);
  if (v.shape != shape) {
    throw ShapeError(fmt::format("safetensors '{}': tensor '{}' has shape {}, expected {}", v.file, name,
                                 shape_str(v.shape), shape_str(shape)));
  }
  const int64_t n = v.numel();
  switch (v.dtype) {
    case StDtype::kF32: std::memcpy(out, v.data, static_cast<size_t>(n) * 4); break;
    case StDtype::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, v.data + 2 * i, 2);
        out[i] = bf16_to_f32(b);
      }
      break;
    case StDtype::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, v.data + 2 * i, 2);
        out[i] = f16_to_f32(b);
      }
      break;
  }
}

void SafetensorsWriter::add(const std::string& name, StDtype dtype, const std::vector<int64_t>& shape,
                            const void* data) {
  for (const auto& t : tensors_) {
    LLMSREC_ASSERT(t.name != name, "duplicate tensor name " + name);
  }
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  Pending p{name, dtype, shape, {}};
  const auto* b = static_cast<const uint8_t*>(data);
  p.bytes.assign(b, b + n * st_dtype_size(dtype));
  tensors_.push_back(std::move(p));
}

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<int64_t>& shape,
                                const std::vector<float>& values) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  LLMSREC_ASSERT(static_cast<int64_t>(values.size()) == n, "tensor " + name + ": value count != prod(shape)");
  add(name, StDtype::kF32, shape, values.data());
}

void SafetensorsWriter::write(const std::string& path) const {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    header[t.name] = {{"dtype", st_dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  core::AtomicOutput out(path);
  FILE* f = std::fopen(out.tmp_path().c_str(), "wb");
  if (!f) throw IoError(fmt::format("open '{}' for writing: {}", out.tmp_path(), std::strerror(errno)));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& t : tensors_) {
    ok = ok && std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
  }
  if (std::fclose(f) != 0 || !ok) throw IoError(fmt::format("write '{}': {}", out.tmp_path(), std::strerror(errno)));
  out.commit();
}

}  // namespace llmsrec::checkpoint
