// Config section `data`: raw input, preprocessing, and the dataset.h5 output
// (`llmsrec prepare`). Every key is documented in visit(); `llmsrec config --docs`
// prints them.
//
//   data:
//     format: tsv
//     path: ../shared/data/amazon2018_scientific
//     k_core: 5
#pragma once

#include <string>

#include "core/config.h"

namespace llmsrec::data {

// `data.synthetic`: the generator behind `format: synthetic` (docs/dataset_h5.md).
// Users walk a Markov chain over topics; inside a topic they read items in the
// topic's series order, so order carries signal and titles (built from the
// topic) carry meaning.
struct SyntheticConfig : core::ConfigSection {
  int64_t users = 1500;             // number of users generated
  int64_t items = 400;              // catalogue size (split evenly over topics)
  int64_t topics = 20;              // number of topics (<= 40 built-in topic names)
  int64_t min_length = 8;           // shortest user sequence
  int64_t max_length = 24;          // longest user sequence
  double stay_prob = 0.75;          // P(next item continues the current topic's series)
  double noise_prob = 0.05;         // P(next item is a random popular item)
  int64_t start_time_s = 1546300800;  // earliest timestamp (unix seconds; 2019-01-01)
  int64_t mean_gap_s = 172800;      // mean time between a user's interactions (seconds)

  void visit(core::ConfigVisitor& v) override {
    v.field("users", users, "number of users generated");
    v.field("items", items, "catalogue size, split evenly over the topics");
    v.field("topics", topics, "number of topics (at most 40)");
    v.field("min_length", min_length, "shortest user sequence (interactions)");
    v.field("max_length", max_length, "longest user sequence (interactions)");
    v.field("stay_prob", stay_prob, "probability that the next item continues the current topic's series");
    v.field("noise_prob", noise_prob, "probability that the next item is a random popular item");
    v.field("start_time_s", start_time_s, "earliest timestamp, unix seconds");
    v.field("mean_gap_s", mean_gap_s, "mean gap between a user's interactions, seconds");
  }
  void validate(const std::string& path) const override;
};

struct DataConfig : core::ConfigSection {
  std::string format = "synthetic";  // tsv | amazon2023_jsonl | amazon2023_csv | movielens | synthetic
  std::string path;                  // input directory (relative to the working directory)
  std::string name;                  // dataset name stored in dataset.h5; "" = last component of path
  std::string interactions_file;     // "" = the format's default file name inside path
  std::string items_file;            // "" = the format's default titles file inside path
  std::string train_file;            // amazon2023_csv: "" = the one *train.csv[.gz] in path
  std::string valid_file;            // amazon2023_csv: "" = the one *valid.csv[.gz] in path
  std::string test_file;             // amazon2023_csv: "" = the one *test.csv[.gz] in path
  std::string timestamps = "auto";   // auto | unix_s | unix_ms | order
  std::string output = "dataset.h5"; // under run.dir
  int64_t k_core = 5;                // iterative k-core threshold; 0 = none
  int64_t eval_negatives = 99;       // sampled negatives per valid/test user
  int64_t seed = -1;                 // seed of negatives and synthetic data; -1 = run.seed
  bool skip_bad_lines = false;       // skip malformed lines (counted) instead of failing
  SyntheticConfig synthetic;

  void visit(core::ConfigVisitor& v) override {
    v.choice("format", format, {"tsv", "amazon2023_jsonl", "amazon2023_csv", "movielens", "synthetic"},
             "raw input format");
    v.field("path", path, "input directory, relative to the working directory");
    v.field("name", name, "dataset name stored in dataset.h5; empty = last component of path (or 'synthetic')");
    v.field("interactions_file", interactions_file,
            "interactions file inside path; empty = format default (interactions.tsv, the one non-meta *.jsonl[.gz], "
            "u.data or ratings.dat)");
    v.field("items_file", items_file,
            "titles file inside path; empty = format default (items.tsv, meta_*.jsonl[.gz], u.item or movies.dat); "
            "optional for tsv and amazon2023_csv");
    v.field("train_file", train_file, "amazon2023_csv: train file; empty = the one *train.csv[.gz] in path");
    v.field("valid_file", valid_file, "amazon2023_csv: valid file; empty = the one *valid.csv[.gz] in path");
    v.field("test_file", test_file, "amazon2023_csv: test file; empty = the one *test.csv[.gz] in path");
    v.choice("timestamps", timestamps, {"auto", "unix_s", "unix_ms", "order"},
             "meaning of the timestamp column: auto detects an order index (0,1,2.. per user) and milliseconds");
    v.field("output", output, "dataset file, relative to run.dir");
    v.field("k_core", k_core, "iterative k-core filter on users and items; 0 = none");
    v.field("eval_negatives", eval_negatives, "negatives sampled per valid/test user, fixed in dataset.h5");
    v.field("seed", seed, "seed of eval negatives and synthetic data; -1 = run.seed");
    v.field("skip_bad_lines", skip_bad_lines, "skip malformed input lines (and report how many) instead of failing");
    v.section("synthetic", synthetic, "generator for format: synthetic");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::data
