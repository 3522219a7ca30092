#include "core/run_section.h"

#include <filesystem>

namespace llmsrec::core {

std::string RunSection::output_path(const std::string& relative) const {
  std::filesystem::path p(relative);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(dir) / p).lexically_normal().string();
}

uint64_t RunSection::config_hash() const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, as core::config_hash
  for (unsigned char c : resolved_yaml) { h ^= c; h *= 1099511628211ull; }
  return h;
}

}  // namespace llmsrec::core
