// `llmsrec launch -n N [--hosts h1:4,h2:4] [--slurm] [--dry-run] -- SUBCOMMAND ARGS`:
// prints the mpirun/srun command, then replaces this process with it.
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/log.h"
#include "launcher/launch_command.h"
#include "tools/command.h"

namespace {

class LaunchCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("-n,--ranks", request_.ranks, "number of ranks (under --slurm, default: SLURM_NTASKS)");
    app.add_option("--hosts", hosts_, "hosts and slots, e.g. node1:4,node2:4 (default: this host / the allocation)");
    app.add_flag("--slurm", request_.slurm, "use srun inside a SLURM allocation instead of mpirun");
    app.add_option("--mpi", request_.mpi_plugin, "srun --mpi plugin (pmix; pmi2 is used when pmix is missing)")
        ->capture_default_str();
    app.add_flag("--oversubscribe", request_.oversubscribe, "allow more ranks than slots/cores");
    app.add_flag("--dry-run", dry_run_, "print the command only");
    app.add_option("args", request_.args, "the llmsrec subcommand and its arguments (after --)")->required();
  }
  nlohmann::json run() override {
    using namespace llmsrec;
    if (!hosts_.empty()) request_.hosts = launcher::parse_hosts(hosts_);
    request_.executable = launcher::self_executable();
    const auto env = launcher::current_environment();
    if (request_.slurm && !dry_run_) {
      if (!env.env.count("SLURM_JOB_ID")) {
        throw ConfigError("llmsrec launch --slurm runs srun inside an allocation, but SLURM_JOB_ID is not set "
                          "(use sbatch/salloc, or --dry-run to only print the command)");
      }
      std::string note;
      request_.mpi_plugin = launcher::choose_mpi_plugin(request_.mpi_plugin, launcher::srun_mpi_list(), &note);
      if (!note.empty()) LOG_WARN("{}", note);
    }
    const auto argv = launcher::build_launch_command(request_, env);
    const std::string line = launcher::shell_join(argv);
    if (dry_run_) return {{"command", line}, {"argv", argv}};
    std::cout << line << std::endl;
    launcher::exec_command(argv);
  }
  void print_human(const nlohmann::json& summary) override { std::cout << summary["command"].get<std::string>() << "\n"; }

 private:
  llmsrec::launcher::LaunchRequest request_;
  std::string hosts_;
  bool dry_run_ = false;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LaunchCommand, "launch", "start N llmsrec workers with mpirun (or srun under SLURM)")
