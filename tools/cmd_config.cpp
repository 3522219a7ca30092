// `llmsrec config`: print the resolved config (defaults + file + --set), with docs.
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/run_config.h"
#include "tools/command.h"

namespace {

class ConfigCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_flag("--docs", docs_, "annotate every key with its meaning");
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    yaml_ = llmsrec::core::dump_config(cfg, docs_);
    return {{"config", yaml_}, {"run_dir", cfg.run.dir}};
  }
  void print_human(const nlohmann::json&) override { std::cout << yaml_; }

 private:
  bool docs_ = false;
  std::string yaml_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(ConfigCommand, "config", "print the resolved config (defaults + -c file + --set)")
