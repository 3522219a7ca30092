// NumPy .npy output (format version 1.0, C order) and `llmsrec inspect export`:
// any numeric dataset of an HDF5 file -> OUT.npy, streamed in row blocks and
// written atomically (OUT.npy.tmp, fsync, rename).
//
//   std::string h = checkpoint::npy_header("<f4", {3, 4});  // magic, version, padded dict
//   nlohmann::json s = checkpoint::export_npy("runs/demo/hidden.h5", "items/vector", "items.npy");
//   // python: np.load("items.npy")
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::checkpoint {

// The complete .npy v1.0 header for `descr` ("<f4", "|u1", ...) and `shape` ([] =
// a 0-d array): magic "\x93NUMPY", version 1.0, little-endian uint16 length, the
// dict padded with spaces and ended by '\n' so the data starts at a multiple of 64.
// Throws IoError when the header would not fit version 1.0 (more than 65535 bytes).
std::string npy_header(const std::string& descr, const std::vector<uint64_t>& shape);

// Writes dataset `dataset` of the HDF5 file `file` to `out` as .npy with the
// stored element type (float16 is widened to float32, see "converted_from").
// Throws IoError naming the file and listing the datasets that exist when
// `dataset` is missing or a group, and naming the type for string or other
// non-numeric datasets. Returns {file, dataset, output, dtype, shape, bytes}.
nlohmann::json export_npy(const std::string& file, const std::string& dataset, const std::string& out);

}  // namespace llmsrec::checkpoint
