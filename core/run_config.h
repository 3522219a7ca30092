// The root of the YAML config: one section per stage. A stage's section type
// lives in the folder that owns the stage; this file only assembles them.
//
//   core::RunConfig cfg = core::load_run_config("configs/demo.yaml", {"data.k_core=0"});
//   std::string out = cfg.output_path(cfg.data.output);   // runs/demo/dataset.h5
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "core/config.h"
#include "data/data_config.h"
#include "models/llama/llm_config.h"
#include "models/prompt/prompt_config.h"
#include "trainer/embed_config.h"
#include "trainer/teacher_config.h"
#include "trainer/train_config.h"

namespace llmsrec::core {

struct RunSection : ConfigSection {
  std::string dir;          // where every output goes; "" = runs/<config file stem>
  int64_t seed = 42;        // master seed; every random stream derives from it
  int64_t threads = 0;      // intra-op threads for libtorch and workers; 0 = all cores
  std::string log_level = "info";  // trace|debug|info|warn|error

  void visit(ConfigVisitor& v) override {
    v.field("dir", dir, "output directory of this run; every output path is relative to it (default runs/<config name>)");
    v.field("seed", seed, "master seed: every random stream is derived from it");
    v.field("threads", threads, "intra-op threads (libtorch, samplers); 0 = all cores");
    v.choice("log_level", log_level, {"trace", "debug", "info", "warn", "error"}, "log verbosity on stderr");
  }
};

struct RunConfig : ConfigSection {
  RunSection run;
  data::DataConfig data;
  trainer::TeacherConfig teacher;
  models::llama::LlmConfig llm;
  models::prompt::PromptConfig prompt;
  trainer::TrainConfig train;
  trainer::EmbedConfig embed;
  cluster::ClusterConfig cluster;

  std::string source_file;    // the -c file ("" = built-in defaults)
  std::string resolved_yaml;  // defaults + file + overrides, stored in every output

  void visit(ConfigVisitor& v) override {
    v.section("run", run, "run-wide settings");
    v.section("data", data, "raw input, preprocessing and dataset.h5 (llmsrec prepare)");
    v.section("teacher", teacher, "SASRec teacher: llmsrec teacher train | eval | export");
    v.section("llm", llm, "the frozen LLM (HF directory) and its compute settings");
    v.section("prompt", prompt, "LLM-SRec prompt templates (Table 2 of the paper, as the reference writes them)");
    v.section("train", train, "LLM-SRec training (llmsrec train)");
    v.section("embed", embed, "hidden states of every item and user -> hidden.h5 (llmsrec embed)");
    v.section("cluster", cluster, "communicator, deadlines, heartbeats/watchdog and the /metrics control server");
  }

  // `relative` under run.dir (absolute paths pass through).
  std::string output_path(const std::string& relative) const;
};

// Loads defaults + file + overrides, resolves run.dir, fills resolved_yaml.
RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides);

}  // namespace llmsrec::core
