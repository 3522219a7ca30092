// Per-dataset differences between two HDF5 files (checkpoints, hidden states):
// max absolute and relative difference of every numeric dataset present in
// both, datasets present in only one, shape mismatches, and a diff of the
// resolved configs. Used by `llmsrec inspect diff A.h5 B.h5`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace llmsrec::checkpoint {

// {"a", "b", "datasets": [{"path", "max_abs", "max_rel", "elements"} | {"path", "only_in"} | {"path", "shape_a",
//  "shape_b"}], "max_abs", "max_rel", "identical", "config_diff": ["- line", "+ line", ...]}
nlohmann::json diff_h5(const std::string& a, const std::string& b);

}  // namespace llmsrec::checkpoint
