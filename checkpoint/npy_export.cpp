#include "checkpoint/npy_export.h"

#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "checkpoint/h5_inspect.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace llmsrec::checkpoint {
namespace {

bool host_is_little_endian() {
  const uint16_t probe = 1;
  uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// "/items/hidden (float32 [5, 8])" for every dataset of `file`, one per line.
std::string dataset_list(const std::string& file) {
  std::string out;
  const nlohmann::json tree = describe_h5(file);  // not in the for: a temporary would die before the loop
  for (const auto& o : tree["objects"]) {
    if (o["kind"] != "dataset") continue;
    std::string shape;
    for (const auto& d : o["shape"]) shape += (shape.empty() ? "" : ", ") + std::to_string(d.get<uint64_t>());
    out += fmt::format("\n  {} ({} [{}])", o["path"].get<std::string>(), o["dtype"].get<std::string>(), shape);
  }
  return out.empty() ? "\n  (none)" : out;
}

// Streams the dataset as T in blocks of whole rows (bounded memory for any size).
template <typename T>
uint64_t write_data(const h5::File& f, const std::string& name, const std::vector<uint64_t>& dims, std::ofstream& os) {
  auto put = [&](const std::vector<T>& v) {
    os.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
    return v.size() * sizeof(T);
  };
  if (dims.empty()) return put(f.read<T>(name));  // a scalar
  uint64_t row_elems = 1;
  for (size_t i = 1; i < dims.size(); ++i) row_elems *= dims[i];
  if (row_elems == 0) return 0;
  const uint64_t block = std::max<uint64_t>(1, (8u << 20) / (row_elems * sizeof(T)));
  uint64_t bytes = 0;
  for (uint64_t r = 0; r < dims[0]; r += block) bytes += put(f.read_rows<T>(name, r, std::min(block, dims[0] - r)));
  return bytes;
}

}  // namespace

std::string npy_header(const std::string& descr, const std::vector<uint64_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
  constexpr size_t kPrefix = 10;  // magic (6) + version (2) + header length (2)
  const size_t total = kPrefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  if (dict.size() > 65535) {
    throw IoError(fmt::format(".npy header of {} bytes does not fit format version 1.0 (shape with {} dimensions)",
                              dict.size(), shape.size()));
  }
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict;
}

nlohmann::json export_npy(const std::string& file, const std::string& dataset, const std::string& out_path) {
  std::string name = dataset;
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  while (!name.empty() && name.back() == '/') name.pop_back();
  const h5::File f = h5::File::open(file);
  if (name.empty() || !f.exists(name)) {
    throw IoError(fmt::format("'{}' has no dataset '{}'; its datasets:{}", file, dataset, dataset_list(file)));
  }
  if (f.is_group(name)) {
    throw IoError(fmt::format("'{}': '{}' is a group, not a dataset; the datasets:{}", file, dataset, dataset_list(file)));
  }
  const h5::DatasetInfo info = f.info(name);
  const char order = host_is_little_endian() ? '<' : '>';
  std::string descr, converted;
  switch (info.dtype) {
    case h5::DType::kUInt8: descr = "|u1"; break;
    case h5::DType::kInt8: descr = "|i1"; break;
    case h5::DType::kInt32: descr = fmt::format("{}i4", order); break;
    case h5::DType::kInt64: descr = fmt::format("{}i8", order); break;
    case h5::DType::kUInt64: descr = fmt::format("{}u8", order); break;
    case h5::DType::kFloat16: converted = "float16"; [[fallthrough]];
    case h5::DType::kFloat32: descr = fmt::format("{}f4", order); break;
    case h5::DType::kFloat64: descr = fmt::format("{}f8", order); break;
    case h5::DType::kString:
      throw IoError(fmt::format("'{}': '{}' is a string dataset; .npy export takes numeric datasets (read strings "
                                "with h5py: f['{}'].asstr()[:])", file, dataset, name));
    default:
      throw IoError(fmt::format("'{}': '{}' has an element type .npy export does not handle (supported: uint8, int8, "
                                "int32, int64, uint64, float16, float32, float64)", file, dataset));
  }
  core::AtomicOutput out(out_path);
  std::ofstream os(out.tmp_path(), std::ios::binary | std::ios::trunc);
  if (!os) throw IoError(fmt::format("cannot write '{}': {}", out.tmp_path(), std::strerror(errno)));
  const std::string header = npy_header(descr, info.dims);
  os.write(header.data(), static_cast<std::streamsize>(header.size()));
  uint64_t bytes = header.size();
  switch (info.dtype) {
    case h5::DType::kUInt8: bytes += write_data<uint8_t>(f, name, info.dims, os); break;
    case h5::DType::kInt8: bytes += write_data<int8_t>(f, name, info.dims, os); break;
    case h5::DType::kInt32: bytes += write_data<int32_t>(f, name, info.dims, os); break;
    case h5::DType::kInt64: bytes += write_data<int64_t>(f, name, info.dims, os); break;
    case h5::DType::kUInt64: bytes += write_data<uint64_t>(f, name, info.dims, os); break;
    case h5::DType::kFloat64: bytes += write_data<double>(f, name, info.dims, os); break;
    default: bytes += write_data<float>(f, name, info.dims, os); break;
  }
  os.close();
  if (!os) throw IoError(fmt::format("writing '{}' failed (disk full?)", out.tmp_path()));
  out.commit();
  nlohmann::json s = {{"file", file}, {"dataset", "/" + name}, {"output", out_path}, {"dtype", descr},
                      {"shape", info.dims}, {"bytes", bytes}};
  if (!converted.empty()) s["converted_from"] = converted;
  return s;
}

}  // namespace llmsrec::checkpoint
