// Locating raw input files inside data.path.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "data/readers.h"

namespace llmsrec::data {

namespace fs = std::filesystem;

std::string input_file(const DataConfig& cfg, const std::string& configured, const std::string& default_name,
                       const char* key, bool optional) {
  const std::string name = configured.empty() ? default_name : configured;
  std::string path = (fs::path(cfg.path) / name).string();
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path;
  if (optional && configured.empty()) return "";
  throw ConfigError(fmt::format("config key 'data.{}': file '{}' not found (data.path = '{}', format {})",
                                configured.empty() ? "path" : key, path, cfg.path, cfg.format));
}

std::string find_input_file(const DataConfig& cfg, bool (*pred)(const std::string& name), const char* what,
                            bool optional) {
  std::error_code ec;
  if (!fs::is_directory(cfg.path, ec)) {
    throw ConfigError(fmt::format("config key 'data.path': '{}' is not a directory", cfg.path));
  }
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(cfg.path)) {
    if (e.is_regular_file() && pred(e.path().filename().string())) found.push_back(e.path().string());
  }
  std::sort(found.begin(), found.end());
  if (found.empty()) {
    if (optional) return "";
    throw ConfigError(fmt::format("config key 'data.path': no {} in '{}'", what, cfg.path));
  }
  if (found.size() > 1) {
    throw ConfigError(fmt::format("config key 'data.path': several {} in '{}' ({}, {}, ...): name one explicitly",
                                  what, cfg.path, found[0], found[1]));
  }
  return found[0];
}

}  // namespace llmsrec::data
