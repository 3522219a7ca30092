// `llmsrec`: parses the command line, runs one subcommand, maps errors to exit codes.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/omp_env.h"
#include "core/version.h"
#include "tools/command.h"

namespace {

void print_version() {
  for (const auto& [name, version] : llmsrec::core::version_table()) {
    std::cout << fmt::format("{:<10} {}\n", name, version);
  }
  std::cout << fmt::format("{:<10} {}\n", "allocator", llmsrec::core::allocator_version());
  std::cout << fmt::format("{:<10} {}\n", "threads", llmsrec::core::thread_pool_env());
}

void print_json_line(const nlohmann::json& j) { llmsrec::core::write_stdout_line(j.dump()); }

}  // namespace

int main(int argc, char** argv) {
  using namespace llmsrec;
  core::reexec_with_quiet_thread_pools(argv);  // before any work: see core/omp_env.h
  core::init_logging({});

  CLI::App app{"llmsrec: distributed training for LLM-based sequential recommendation (LLM-SRec)", "llmsrec"};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit codes: 0 ok, 2 usage/config error, 3 preempted (requeue), 4 communication timeout, 5 data/I-O error.\n"
      "Run 'llmsrec COMMAND --help' for the options of a command.");
  app.add_flag_callback("--version", [] { print_version(); throw CLI::Success(); }, "print versions and exit");

  // Parent apps of nested names ("teacher train"). A command may also be the parent of
  // nested ones ("inspect FILE" and "inspect export ..."): top-level commands go first.
  std::map<std::string, CLI::App*> groups;
  std::vector<tools::CommandInfo> infos = tools::command_registry();
  std::stable_partition(infos.begin(), infos.end(),
                        [](const tools::CommandInfo& i) { return i.name.find(' ') == std::string::npos; });
  std::unique_ptr<tools::Command> selected;
  std::vector<std::pair<CLI::App*, std::unique_ptr<tools::Command>>> commands;
  for (const auto& info : infos) {
    CLI::App* parent = &app;
    std::string leaf = info.name;
    if (auto space = info.name.find(' '); space != std::string::npos) {
      std::string group = info.name.substr(0, space);
      leaf = info.name.substr(space + 1);
      auto& g = groups[group];
      if (!g) {
        g = app.add_subcommand(group, fmt::format("{} commands (see 'llmsrec {} --help')", group, group));
        g->require_subcommand(1);
      }
      parent = g;
    }
    CLI::App* sub = parent->add_subcommand(leaf, info.help);
    if (parent == &app) groups[info.name] = sub;
    auto cmd = info.make();
    cmd->add_options(*sub);
    sub->add_flag("--json", cmd->common.json, "print exactly one JSON object with the summary on stdout");
    commands.emplace_back(sub, std::move(cmd));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  for (auto& [sub, cmd] : commands) {
    // The innermost parsed command: "inspect export" parses "inspect" too.
    if (sub->parsed() && sub->get_subcommands().empty()) selected = std::move(cmd);
  }
  if (!selected) {
    std::cerr << app.help();
    return kExitUsage;
  }

  const bool json = selected->common.json;
  try {
    nlohmann::json summary = selected->run();
    if (json) print_json_line(summary);
    else selected->print_human(summary);
    return kExitOk;
  } catch (const Error& e) {
    LOG_ERROR("{}", e.what());
    if (json) print_json_line({{"error", e.what()}, {"exit_code", e.exit_code()}});
    return e.exit_code();
  } catch (const std::exception& e) {
    LOG_ERROR("internal error: {}", e.what());
    if (json) print_json_line({{"error", e.what()}, {"exit_code", kExitFailure}});
    return kExitFailure;
  }
}
