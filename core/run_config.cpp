#include "core/run_config.h"

#include <filesystem>

namespace llmsrec::core {

std::string RunConfig::output_path(const std::string& relative) const {
  std::filesystem::path p(relative);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(run.dir) / p).lexically_normal().string();
}

RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides) {
  RunConfig cfg;
  load_config(cfg, file, overrides);
  cfg.source_file = file;
  if (cfg.run.dir.empty()) {
    std::string stem = file.empty() ? "default" : std::filesystem::path(file).stem().string();
    cfg.run.dir = (std::filesystem::path("runs") / stem).string();
  }
  cfg.resolved_yaml = dump_config(cfg, false);
  return cfg;
}

}  // namespace llmsrec::core
