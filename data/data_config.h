// Config section `data`: raw input, preprocessing, and the dataset.h5 output.
#pragma once

#include <string>

#include "core/config.h"

namespace llmsrec::data {

struct DataConfig : core::ConfigSection {
  std::string format = "synthetic";  // tsv | amazon2023_jsonl | amazon2023_csv | movielens | synthetic
  std::string path;                  // input directory or file (relative to the working directory)
  std::string output = "dataset.h5"; // under run.dir
  int64_t k_core = 5;                // iterative k-core threshold; 0 = none
  int64_t eval_negatives = 99;       // sampled negatives per valid/test user
  bool skip_bad_lines = false;       // skip malformed lines (counted) instead of failing

  void visit(core::ConfigVisitor& v) override {
    v.choice("format", format, {"tsv", "amazon2023_jsonl", "amazon2023_csv", "movielens", "synthetic"},
             "raw input format");
    v.field("path", path, "input directory or file, relative to the working directory");
    v.field("output", output, "dataset file, relative to run.dir");
    v.field("k_core", k_core, "iterative k-core filter on users and items; 0 = none");
    v.field("eval_negatives", eval_negatives, "negatives sampled per valid/test user, fixed in dataset.h5");
    v.field("skip_bad_lines", skip_bad_lines, "skip malformed input lines (and report how many) instead of failing");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::data
