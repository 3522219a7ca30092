// Describes any HDF5 file as JSON: the tree of groups and datasets with shapes,
// dtypes, chunking, compression and attributes, and optionally per-dataset
// statistics. Used by `llmsrec inspect`; works on any llmsrec file.
//
//   nlohmann::json tree = checkpoint::describe_h5("runs/demo/dataset.h5", {.stats = true});
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace llmsrec::checkpoint {

struct DescribeOptions {
  bool stats = false;                      // mean/std/min/max/NaN/Inf of numeric datasets
  uint64_t stats_max_elements = 50000000;  // skip stats on datasets larger than this
  int64_t max_attr_chars = 2000;           // long attributes (configs) are cut in the tree
};

// {"file", "size_bytes", "schema", "attributes": {...}, "objects": [{"path","kind","shape","dtype",
//  "chunk","compression","storage_bytes","attributes","stats"}...]}. Throws IoError
// naming the file when it is not HDF5, truncated or unreadable.
nlohmann::json describe_h5(const std::string& path, const DescribeOptions& options = {});

}  // namespace llmsrec::checkpoint
