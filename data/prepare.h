// `llmsrec prepare` as a library call: read the raw input (or generate it),
// dedupe, sort, k-core, split, fix eval negatives, write dataset.h5.
//
//   core::TerminalProgress progress;
//   data::PrepareResult r = data::prepare(cfg, progress);
//   nlohmann::json summary = data::prepare_summary(r);
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "data/data_config.h"
#include "data/dataset.h"
#include "data/raw_interactions.h"

namespace llmsrec::core {
struct RunSection;
}

namespace llmsrec::data {

struct PrepareStats {
  int64_t raw_interactions = 0;   // rows read
  int64_t duplicates = 0;         // (user, item) repeats dropped
  int64_t k_core_rounds = 0;
  int64_t k_core_removed_users = 0;
  int64_t k_core_removed_items = 0;
  int64_t k_core_removed_interactions = 0;
  std::string time_reason;        // why this TimeKind
};

// The processing half (no files): raw -> Dataset. `seed` drives the negatives.
Dataset build_dataset(const RawInteractions& raw, const DataConfig& cfg, uint64_t seed,
                      core::ProgressReporter& progress, PrepareStats* stats = nullptr);

// Reads (or generates, format: synthetic) the raw interactions of cfg.
RawInteractions read_raw(const DataConfig& cfg, uint64_t seed, core::ProgressReporter* progress = nullptr);

// data.seed, or run.seed when data.seed = -1.
uint64_t data_seed(const DataConfig& data, const core::RunSection& run);

struct PrepareResult {
  Dataset dataset;
  PrepareStats stats;
  std::string output;     // path of dataset.h5
  double seconds = 0;     // wall time of the whole prepare
};

// Everything: read, build, save (atomically) to run.output_path(data.output).
PrepareResult prepare(const DataConfig& data, const core::RunSection& run, core::ProgressReporter& progress);

// The --json summary: users, items, interactions, train_interactions,
// valid_users, test_users, skipped_lines, empty_titles, time_kind, output, seconds, ...
nlohmann::json prepare_summary(const PrepareResult& r);

}  // namespace llmsrec::data
