#include "data/data_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::data {

void DataConfig::validate(const std::string& p) const {
  if (k_core < 0) throw ConfigError(fmt::format("config key '{}.k_core': must be >= 0, found {}", p, k_core));
  if (eval_negatives < 0) {
    throw ConfigError(fmt::format("config key '{}.eval_negatives': must be >= 0, found {}", p, eval_negatives));
  }
  if (format != "synthetic" && path.empty()) {
    throw ConfigError(fmt::format("config key '{}.path': required for format '{}'", p, format));
  }
}

}  // namespace llmsrec::data
