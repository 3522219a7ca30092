// safetensors: the HuggingFace weight format (8-byte LE header length, JSON
// header, raw little-endian tensor data). The reader mmaps the file and
// validates the whole header before handing out any tensor: dtype (F32, F16,
// BF16), shape, data_offsets inside the data region, size = prod(shape) *
// dtype size, no two tensors overlapping. A model directory may hold one
// `model.safetensors` or shards listed in `model.safetensors.index.json`.
// Every error is a DataError/IoError naming the file (and the tensor).
//
//   auto st = checkpoint::SafetensorsReader::open("models/tiny");  // dir or file
//   const checkpoint::TensorView& w = st.get("model.norm.weight");  // throws naming tensor+file
//   const float* p = reinterpret_cast<const float*>(w.data);        // if w.dtype == kF32
//
//   checkpoint::SafetensorsWriter out;
//   out.add("model.norm.weight", checkpoint::StDtype::kF32, {64}, floats.data());
//   out.write("models/tiny/model.safetensors");  // atomic
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmsrec::checkpoint {

enum class StDtype { kF32, kF16, kBF16 };

const char* st_dtype_name(StDtype dtype);  // "F32", "F16", "BF16"
size_t st_dtype_size(StDtype dtype);       // bytes per element

// One tensor inside a mapped file. `data` stays valid while the reader lives.
struct TensorView {
  std::string name;
  std::string file;  // the file it lives in (for error messages)
  StDtype dtype = StDtype::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // may be unaligned
  size_t nbytes = 0;
  int64_t numel() const;
};

// Header entries before any mapping: byte ranges relative to the data region.
struct TensorEntry {
  StDtype dtype = StDtype::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// Parses and validates the header of a whole safetensors image (`bytes` =
// the file content). `file` names it in errors. Returns the entries and sets
// `data_start` to the byte offset of the data region. Pure function (fuzzed).
std::map<std::string, TensorEntry> parse_safetensors_header(const uint8_t* bytes, size_t size,
                                                            const std::string& file, size_t* data_start);

// A read-only memory map of one file (RAII: fd + mapping, move-only).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws IoError
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class SafetensorsReader {
 public:
  // `path`: a .safetensors file, a model.safetensors.index.json, or a directory
  // holding either (the index wins when both exist).
  static SafetensorsReader open(const std::string& path);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws DataError naming the tensor and the file(s) searched.
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::string& source() const { return source_; }  // what open() was given

  // Copies `name` converted to float32 into `out` (numel floats); checks the
  // shape equals `shape` (ShapeError naming tensor and file otherwise).
  void read_f32(const std::string& name, const std::vector<int64_t>& shape, float* out) const;

 private:
  std::string source_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorView> tensors_;
  void add_file(const std::string& path, const std::vector<std::string>* only);
};

// Collects tensors (copied) and writes one safetensors file atomically.
// Tensors are laid out in insertion order; the header is padded to 8 bytes.
class SafetensorsWriter {
 public:
  void add(const std::string& name, StDtype dtype, const std::vector<int64_t>& shape, const void* data);
  void add_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& values);
  void write(const std::string& path) const;  // throws IoError

 private:
  struct Pending {
    std::string name;
    StDtype dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Pending> tensors_;
};

// float <-> bfloat16 / float16 bit patterns (round to nearest even).
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);
float f16_to_f32(uint16_t bits);

}  // namespace llmsrec::checkpoint
