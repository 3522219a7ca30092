// Subcommand registry of the `llmsrec` executable. Each tools/cmd_*.cpp file
// defines one Command and registers it with LLMSREC_REGISTER_COMMAND; a name
// with a space ("teacher train") becomes a nested subcommand.
//
//   class PrepareCommand : public tools::Command { ... };
//   LLMSREC_REGISTER_COMMAND(PrepareCommand, "prepare", "raw interactions -> dataset.h5");
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace llmsrec::app {
struct RunConfig;
}

namespace llmsrec::tools {

// Options every config-driven command takes: -c FILE, --set k=v (repeatable), --json.
struct CommonOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  bool json = false;
};

class Command {
 public:
  virtual ~Command() = default;
  // Declare options on `app`; `common` is filled before run().
  virtual void add_options(CLI::App& app) = 0;
  // Does the work. Returns the summary: printed as one JSON object on stdout
  // with --json, or by print_human() otherwise. Throws llmsrec::Error on failure.
  virtual nlohmann::json run() = 0;
  // Human summary on stdout (default: "key: value" lines).
  virtual void print_human(const nlohmann::json& summary);

  CommonOptions common;

 protected:
  // Adds -c/--config and --set to `app` (every config-driven command calls it).
  void add_config_options(CLI::App& app, bool config_required = false);
  // Loads defaults + -c file + --set overrides; sets log level and threads.
  app::RunConfig load_config() const;
};

struct CommandInfo {
  std::string name;  // "prepare", "teacher train"
  std::string help;
  std::function<std::unique_ptr<Command>()> make;
};

std::vector<CommandInfo>& command_registry();
bool register_command(CommandInfo info);

}  // namespace llmsrec::tools

#define LLMSREC_REGISTER_COMMAND(Type, name, help)                                                           \
  namespace {                                                                                                \
  [[maybe_unused]] const bool registered_##Type =                                                            \
      ::llmsrec::tools::register_command({name, help, [] { return std::unique_ptr<::llmsrec::tools::Command>(new Type()); }}); \
  }
