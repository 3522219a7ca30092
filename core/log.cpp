#include "core/log.h"

#include <unistd.h>

#include <cerrno>
#include <iostream>

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

void write_stdout_line(const std::string& text) {
  std::cout.flush();
  const std::string line = text + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

}  // namespace llmsrec::core
