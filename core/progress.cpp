#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "core/log.h"

namespace llmsrec::core {

std::string format_duration(double s) {
  if (s < 0 || s != s) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  auto total = static_cast<int64_t>(s + 0.5);
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, static_cast<int>(total % 60));
  return fmt::format("{}h{:02d}m", total / 3600, static_cast<int>((total % 3600) / 60));
}

TerminalProgress::TerminalProgress(double plain_interval_s) : plain_interval_s_(plain_interval_s) {
  tty_ = isatty(STDERR_FILENO) == 1;
}

void TerminalProgress::start(const std::string& label, int64_t total, const std::string& unit) {
  label_ = label;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  start_ = last_draw_ = Clock::now();
  active_ = true;
}

void TerminalProgress::advance(int64_t n) {
  done_ += n;
  auto now = Clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if ((tty_ && since >= 0.1) || (!tty_ && since >= plain_interval_s_)) {
    last_draw_ = now;
    render(false);
  }
}

void TerminalProgress::finish() {
  if (!active_) return;
  render(true);
  active_ = false;
}

void TerminalProgress::render(bool final_line) {
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  std::string eta = (total_ > 0 && rate > 0) ? format_duration((total_ - done_) / rate) : "?";
  std::string count = total_ > 0 ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  if (tty_) {
    constexpr int kWidth = 30;
    int filled = total_ > 0 ? static_cast<int>(kWidth * std::min<double>(1.0, double(done_) / total_)) : 0;
    std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    std::fprintf(stderr, "\r[rank %d] %s [%s] %s %s, %.3g %s/s, %s %s\033[K", log_rank(), label_.c_str(),
                 bar.c_str(), count.c_str(), unit_.c_str(), rate, unit_.c_str(),
                 final_line ? "took" : "ETA", final_line ? format_duration(elapsed).c_str() : eta.c_str());
    if (final_line) std::fputc('\n', stderr);
    std::fflush(stderr);
  } else if (final_line) {
    LOG_INFO("{}: {} {} in {} ({:.3g} {}/s)", label_, count, unit_, format_duration(elapsed), rate, unit_);
  } else {
    LOG_INFO("{}: {} {}, {:.3g} {}/s, ETA {}", label_, count, unit_, rate, unit_, eta);
  }
}

}  // namespace llmsrec::core
