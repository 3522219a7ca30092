// Config section `run`: what every stage knows of the run besides its own
// section: where outputs go, the master seed, threads, log level, and the
// resolved config that every output file stores. The aggregate of all
// sections lives above the stages (app/run_config.h); a stage takes its own
// section plus this one.
//
//   const core::RunSection& run = cfg.run;
//   std::string out = run.output_path("dataset.h5");   // runs/demo/dataset.h5
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"

namespace llmsrec::core {

struct RunSection : ConfigSection {
  std::string dir;          // where every output goes; "" = runs/<config file stem>
  int64_t seed = 42;        // master seed; every random stream derives from it
  int64_t threads = 0;      // intra-op threads for libtorch and workers; 0 = all cores
  std::string log_level = "info";  // trace|debug|info|warn|error

  // Not config keys: filled by the loader.
  std::string source_file;    // the -c file ("" = built-in defaults)
  std::string resolved_yaml;  // defaults + file + overrides, stored in every output

  void visit(ConfigVisitor& v) override {
    v.field("dir", dir, "output directory of this run; every output path is relative to it (default runs/<config name>)");
    v.field("seed", seed, "master seed: every random stream is derived from it");
    v.field("threads", threads, "intra-op threads (libtorch, samplers); 0 = all cores");
    v.choice("log_level", log_level, {"trace", "debug", "info", "warn", "error"}, "log verbosity on stderr");
  }

  // `relative` under dir (absolute paths pass through).
  std::string output_path(const std::string& relative) const;
  // Stable 64-bit hash of resolved_yaml (ranks compare it at start-up).
  uint64_t config_hash() const;
};

}  // namespace llmsrec::core
