#include "core/log.h"

#include <atomic>

#include <spdlog/sinks/stdout_sinks.h>

namespace llmsrec::core {
namespace {
std::atomic<int> g_rank{0};

void apply_pattern() {
  spdlog::set_pattern(fmt::format("[%Y-%m-%d %H:%M:%S.%e] [rank {}] [%^%l%$] %v", g_rank.load()));
}
}  // namespace

void init_logging(const LogOptions& options) {
  g_rank = options.rank;
  auto logger = spdlog::stderr_logger_mt("llmsrec");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.level));
  apply_pattern();
}

void set_log_rank(int rank) {
  g_rank = rank;
  apply_pattern();
}

int log_rank() { return g_rank.load(); }

}  // namespace llmsrec::core
