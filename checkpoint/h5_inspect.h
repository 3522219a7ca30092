// Describes any HDF5 file as JSON: the tree of groups and datasets with shapes,
// dtypes, chunking, compression and attributes, and optionally per-dataset
// statistics. Used by `llmsrec inspect`; works on any llmsrec file, says when a
// file is not an llmsrec file, and says when it is incomplete (a NAME.tmp an
// AtomicOutput writer has not committed, or a file another process is writing).
//
//   nlohmann::json tree = checkpoint::describe_h5("runs/demo/dataset.h5", {.stats = true});
//   if (!tree["complete"]) std::cerr << tree["warning"] << "\n";
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

// {"file", "size_bytes", "schema", "llmsrec": bool, "complete": bool, ["warning"], ["note"],
//  "attributes": {...}, "objects": [{"path","kind","shape","dtype","chunk","compression",
//  "storage_bytes","attributes","stats"}...]}.
// "llmsrec" is false (with a "note") for a foreign HDF5 file without the llmsrec_schema
// attribute; "complete" is false (with a "warning") for a temp file (NAME.tmp) that a
// writer has not committed yet. Throws IoError naming the file when it is not HDF5 or
// truncated ("truncated or not an HDF5 file"), or when another process holds it open for
// writing or it is an unreadable temp file ("incomplete: ...").
nlohmann::json describe_h5(const std::string& path, const DescribeOptions& options = {});

// True for the temp name of an unfinished atomic write (core::AtomicOutput: NAME.tmp).
bool is_temp_file_name(const std::string& path);

}  // namespace llmsrec::checkpoint
