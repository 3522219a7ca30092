// The root of the YAML config: one section per stage. It lives above the
// stages (every stage's section type lives in the folder that owns the stage;
// a stage takes its own section, the `run` section and the run context, never
// this aggregate), so core/ and the stages never include it.
//
//   app::RunConfig cfg = app::load_run_config("configs/demo.yaml", {"data.k_core=0"});
//   std::string out = cfg.run.output_path(cfg.data.output);   // runs/demo/dataset.h5
//   trainer::train_llmsrec(app::llmsrec_sections(cfg), *ctx, {});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "core/config.h"
#include "core/run_section.h"
#include "data/data_config.h"
#include "models/llama/llm_config.h"
#include "models/prompt/prompt_config.h"
#include "trainer/embed_config.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/teacher_config.h"
#include "trainer/train_config.h"

namespace llmsrec::cluster {
class RunContext;
}

namespace llmsrec::app {

struct RunConfig : core::ConfigSection {
  core::RunSection run;
  data::DataConfig data;
  trainer::TeacherConfig teacher;
  models::llama::LlmConfig llm;
  models::prompt::PromptConfig prompt;
  trainer::TrainConfig train;
  trainer::EmbedConfig embed;
  cluster::ClusterConfig cluster;

  void visit(core::ConfigVisitor& v) override {
    v.section("run", run, "run-wide settings");
    v.section("data", data, "raw input, preprocessing and dataset.h5 (llmsrec prepare)");
    v.section("teacher", teacher, "SASRec teacher: llmsrec teacher train | eval | export");
    v.section("llm", llm, "the frozen LLM (HF directory) and its compute settings");
    v.section("prompt", prompt, "LLM-SRec prompt templates (Table 2 of the paper, as the reference writes them)");
    v.section("train", train, "LLM-SRec training (llmsrec train)");
    v.section("embed", embed, "hidden states of every item and user -> hidden.h5 (llmsrec embed)");
    v.section("cluster", cluster, "devices, communicator, deadlines, heartbeats/watchdog and the /metrics control server");
  }
};

// Loads defaults + file + overrides, resolves run.dir, fills run.source_file
// and run.resolved_yaml.
RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides);

// Collective: the run context of this process (cluster.device, cluster.backend,
// llm.dtype as the compute dtype); see cluster::RunContext::create.
std::unique_ptr<cluster::RunContext> create_run_context(const RunConfig& cfg, int* argc = nullptr,
                                                        char*** argv = nullptr);

// The sections the LLM-SRec stages (train, embed, eval, bench) read.
trainer::LlmSrecSections llmsrec_sections(const RunConfig& cfg);
// The sections the teacher stages read.
trainer::TeacherSections teacher_sections(const RunConfig& cfg);

}  // namespace llmsrec::app
