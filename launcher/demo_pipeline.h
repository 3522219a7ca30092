// `llmsrec demo`: the whole chain on data and a model llmsrec makes itself,
// each stage a child `llmsrec` process (training under mpirun with 2 ranks):
//   prepare (synthetic) -> teacher train -> teacher export -> lm make-tiny
//   -> mpirun -np 2 train -> mpirun -np 2 embed (hidden.h5) -> eval (test)
//   -> eval --shuffle-history
// and a table of the metrics. Outputs go to run.dir (default runs/demo).
//
//   nlohmann::json summary = launcher::run_demo({.ranks = 2, .overrides = {"train.epochs=2"}});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::launcher {

struct DemoOptions {
  int64_t ranks = 2;                    // training ranks (mpirun -np)
  std::string run_dir = "runs/demo";
  std::vector<std::string> overrides;   // extra --set KEY=VALUE for every stage
};

// Runs every stage; throws the failing stage's error (with its exit code).
nlohmann::json run_demo(const DemoOptions& options);

// Runs argv as a child process; returns its exit code; stdout goes to *out when given.
int run_child(const std::vector<std::string>& argv, std::string* out);

}  // namespace llmsrec::launcher
