// Prepare throughput (interactions/s) on the largest shared dataset
// (sasrec_video, 287k interactions), beside a raw baseline measured in the
// same run: std::getline + splitting each line on tabs (no parsing, no ids).
//   build/bench/prepare_bench            (Release builds only)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/progress.h"
#include "data/prepare.h"
#include "data/readers.h"
#include "data/text.h"

namespace {

const std::string kDir = std::string(LLMSREC_SHARED_DIR) + "/data/sasrec_video";

llmsrec::data::DataConfig video_config() {
  llmsrec::data::DataConfig cfg;
  cfg.format = "tsv";
  cfg.path = kDir;
  cfg.k_core = 0;
  return cfg;
}

// Baseline: the least any reader must do (read and split every line).
void BM_RawReadAndSplit(benchmark::State& state) {
  int64_t lines = 0;
  for (auto _ : state) {
    std::ifstream in(kDir + "/interactions.tsv");
    std::string line;
    std::vector<std::string_view> cols;
    lines = 0;
    while (std::getline(in, line)) {
      llmsrec::data::split(line, '\t', cols);
      benchmark::DoNotOptimize(cols.data());
      ++lines;
    }
  }
  state.SetItemsProcessed(state.iterations() * (lines - 1));
}

// Reader only: parsing, validation, id interning.
void BM_ReadTsv(benchmark::State& state) {
  auto cfg = video_config();
  int64_t n = 0;
  for (auto _ : state) n = static_cast<int64_t>(llmsrec::data::read_tsv(cfg).rows.size());
  state.SetItemsProcessed(state.iterations() * n);
}

// The whole prepare minus the file write: read, sort, dedupe, split, 2 x 99 negatives per user.
void BM_PrepareInMemory(benchmark::State& state) {
  auto cfg = video_config();
  llmsrec::core::NullProgress progress;
  int64_t n = 0;
  for (auto _ : state) {
    auto ds = llmsrec::data::build_dataset(llmsrec::data::read_tsv(cfg), cfg, 42, progress);
    n = ds.num_interactions();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Everything, including the atomic dataset.h5 write.
void BM_PrepareToFile(benchmark::State& state) {
  auto cfg = video_config();
  llmsrec::core::NullProgress progress;
  std::string out = (std::filesystem::temp_directory_path() / "llmsrec_prepare_bench.h5").string();
  int64_t n = 0;
  for (auto _ : state) {
    auto ds = llmsrec::data::build_dataset(llmsrec::data::read_tsv(cfg), cfg, 42, progress);
    llmsrec::data::save_dataset(ds, out);
    n = ds.num_interactions();
  }
  std::filesystem::remove(out);
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_RawReadAndSplit)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadTsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrepareInMemory)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrepareToFile)->Unit(benchmark::kMillisecond);

// Console output plus a record of items/s per benchmark, for the ratio lines.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rate;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate[r.benchmark_name()] = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
#ifdef LLMSREC_DEBUG_BUILD
  std::fprintf(stderr, "prepare_bench: refusing to time a Debug build (configure with -DCMAKE_BUILD_TYPE=Release)\n");
  return 1;
#endif
  if (!std::filesystem::exists(kDir + "/interactions.tsv")) {
    std::printf("prepare_bench: skipped: %s/interactions.tsv not found (shared data absent)\n", kDir.c_str());
    return 0;
  }
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double base = reporter.rate["BM_RawReadAndSplit"];
  if (base > 0) {
    std::printf("\nsasrec_video (287,107 interactions), interactions/s vs raw getline+split baseline (%.3g/s):\n", base);
    for (const char* name : {"BM_ReadTsv", "BM_PrepareInMemory", "BM_PrepareToFile"}) {
      double r = reporter.rate[name];
      std::printf("  %-20s %10.3g interactions/s  = %.2fx baseline\n", name, r, r / base);
    }
  }
  benchmark::Shutdown();
  return 0;
}
