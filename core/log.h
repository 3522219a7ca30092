// Logging: spdlog to stderr with the rank on every line. The log sink is the
// only global in llmsrec (STYLE.md). stdout is reserved for --json output.
//
//   core::init_logging({.rank = 0, .level = "info"});
//   LOG_INFO("read {} interactions from {}", n, path);
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace llmsrec::core {

struct LogOptions {
  int rank = 0;                // printed on every line
  std::string level = "info";  // trace|debug|info|warn|error
};

void init_logging(const LogOptions& options);
// Change the rank shown on each line (once MPI has told us).
void set_log_rank(int rank);
int log_rank();

// Writes `line` + "\n" to stdout in ONE write(2): under mpirun every rank's
// stdout is forwarded in the chunks it was written in, and a line split by the
// stream buffer interleaves with other ranks' lines (seen with 1 KiB chunks).
void write_stdout_line(const std::string& line);

}  // namespace llmsrec::core

#define LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
