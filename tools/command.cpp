#include "tools/command.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "core/log.h"
#include "app/run_config.h"

namespace llmsrec::tools {

std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

bool register_command(CommandInfo info) {
  command_registry().push_back(std::move(info));
  return true;
}

void Command::add_config_options(CLI::App& app, bool config_required) {
  auto* opt = app.add_option("-c,--config", common.config_file, "YAML config file (default: built-in defaults)");
  if (config_required) opt->required();
  app.add_option("--set", common.overrides, "override a config key, e.g. --set data.k_core=10 (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
}

app::RunConfig Command::load_config() const {
  app::RunConfig cfg = app::load_run_config(common.config_file, common.overrides);
  spdlog::set_level(spdlog::level::from_str(cfg.run.log_level));
  return cfg;
}

void Command::print_human(const nlohmann::json& summary) {
  for (auto it = summary.begin(); it != summary.end(); ++it) {
    std::cout << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
  }
}

}  // namespace llmsrec::tools
