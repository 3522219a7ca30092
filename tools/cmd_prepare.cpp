// `llmsrec prepare`: raw interactions (or generated data) -> dataset.h5.
#include <CLI/CLI.hpp>

#include "core/progress.h"
#include "app/run_config.h"
#include "data/prepare.h"
#include "tools/command.h"

namespace {

class PrepareCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override { add_config_options(app); }
  nlohmann::json run() override {
    auto cfg = load_config();
    llmsrec::core::TerminalProgress progress;
    return llmsrec::data::prepare_summary(llmsrec::data::prepare(cfg.data, cfg.run, progress));
  }
};

}  // namespace

LLMSREC_REGISTER_COMMAND(PrepareCommand, "prepare", "raw interactions (or generated data) -> dataset.h5")
