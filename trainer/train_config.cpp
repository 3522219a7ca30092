#include "trainer/train_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::trainer {

void TrainConfig::validate(const std::string& p) const {
  auto positive = [&](const char* key, double v) {
    if (!(v > 0)) throw ConfigError(fmt::format("config key '{}.{}': must be > 0, found {}", p, key, v));
  };
  positive("batch", static_cast<double>(batch));
  positive("lr", lr);
  positive("epochs", static_cast<double>(epochs));
  positive("validations_per_epoch", static_cast<double>(validations_per_epoch));
  positive("lr_decay", lr_decay);
  positive("patience", static_cast<double>(patience));
  positive("valid_users", static_cast<double>(valid_users));
  positive("negatives", static_cast<double>(negatives));
  positive("keep_checkpoints", static_cast<double>(keep_checkpoints));
  if (max_steps < 0) throw ConfigError(fmt::format("config key '{}.max_steps': must be >= 0", p));
}

}  // namespace llmsrec::trainer
