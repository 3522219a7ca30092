#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"

namespace llmsrec::core {

void ConfigVisitor::field(const char* key, int& value, const char* doc) {
  int64_t wide = value;
  field(key, wide, doc);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    throw ConfigError(fmt::format("config key '{}': value {} does not fit in a 32-bit integer", path_of(key), wide));
  }
  value = static_cast<int>(wide);
}

void ConfigVisitor::field(const char* key, float& value, const char* doc) {
  double wide = value;
  field(key, wide, doc);
  if (std::isfinite(wide) && std::fabs(wide) > std::numeric_limits<float>::max()) {
    throw ConfigError(fmt::format("config key '{}': value {} does not fit in a float", path_of(key), wide));
  }
  value = static_cast<float>(wide);
}

}  // namespace llmsrec::core
