#include "data/data_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::data {

namespace {
[[noreturn]] void bad(const std::string& p, const char* key, const std::string& what) {
  throw ConfigError(fmt::format("config key '{}.{}': {}", p, key, what));
}
}  // namespace

void SyntheticConfig::validate(const std::string& p) const {
  if (users < 1) bad(p, "users", fmt::format("must be >= 1, found {}", users));
  if (topics < 1 || topics > 40) bad(p, "topics", fmt::format("must be in [1, 40], found {}", topics));
  if (items < topics * 3) bad(p, "items", fmt::format("must be >= 3 * topics = {}, found {}", topics * 3, items));
  if (min_length < 1) bad(p, "min_length", fmt::format("must be >= 1, found {}", min_length));
  if (max_length < min_length) {
    bad(p, "max_length", fmt::format("must be >= min_length ({}), found {}", min_length, max_length));
  }
  if (max_length > items) bad(p, "max_length", fmt::format("must be <= items ({}), found {}", items, max_length));
  if (!(stay_prob >= 0 && stay_prob <= 1)) bad(p, "stay_prob", fmt::format("must be in [0, 1], found {}", stay_prob));
  if (!(noise_prob >= 0 && noise_prob <= 1)) {
    bad(p, "noise_prob", fmt::format("must be in [0, 1], found {}", noise_prob));
  }
  if (mean_gap_s < 1) bad(p, "mean_gap_s", fmt::format("must be >= 1, found {}", mean_gap_s));
}

void DataConfig::validate(const std::string& p) const {
  if (k_core < 0) bad(p, "k_core", fmt::format("must be >= 0, found {}", k_core));
  if (eval_negatives < 0) bad(p, "eval_negatives", fmt::format("must be >= 0, found {}", eval_negatives));
  if (seed < -1) bad(p, "seed", fmt::format("must be >= 0 (or -1 = run.seed), found {}", seed));
  if (format != "synthetic" && path.empty()) bad(p, "path", fmt::format("required for format '{}'", format));
}

}  // namespace llmsrec::data
