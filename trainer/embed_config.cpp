#include "trainer/embed_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::trainer {

void EmbedConfig::validate(const std::string& p) const {
  if (output.empty()) throw ConfigError(fmt::format("config key '{}.output': must not be empty", p));
  if (batch < 1) throw ConfigError(fmt::format("config key '{}.batch': must be >= 1, found {}", p, batch));
  if (chunk_rows < 0) throw ConfigError(fmt::format("config key '{}.chunk_rows': must be >= 0, found {}", p, chunk_rows));
  if (queue_blocks < 1) {
    throw ConfigError(fmt::format("config key '{}.queue_blocks': must be >= 1, found {}", p, queue_blocks));
  }
}

}  // namespace llmsrec::trainer
