#include "app/run_config.h"

#include <filesystem>

#include "cluster/run_context.h"
#include "models/llama/llama_model.h"

namespace llmsrec::app {

RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides) {
  RunConfig cfg;
  core::load_config(cfg, file, overrides);
  cfg.run.source_file = file;
  if (cfg.run.dir.empty()) {
    std::string stem = file.empty() ? "default" : std::filesystem::path(file).stem().string();
    cfg.run.dir = (std::filesystem::path("runs") / stem).string();
  }
  cfg.run.resolved_yaml = core::dump_config(cfg, false);
  return cfg;
}

std::unique_ptr<cluster::RunContext> create_run_context(const RunConfig& cfg, int* argc, char*** argv) {
  return cluster::RunContext::create(cfg.cluster, cfg.run, models::llama::parse_compute_dtype(cfg.llm.dtype), argc,
                                     argv);
}

trainer::LlmSrecSections llmsrec_sections(const RunConfig& cfg) {
  return {cfg.run, cfg.llm, cfg.prompt, cfg.train, cfg.embed};
}

trainer::TeacherSections teacher_sections(const RunConfig& cfg) { return {cfg.run, cfg.teacher}; }

}  // namespace llmsrec::app
