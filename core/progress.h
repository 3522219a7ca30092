// Progress reporting. Library code reports through the ProgressReporter
// interface; the CLI supplies a terminal one (a bar with rate and ETA when
// stderr is a terminal, a plain log line every few seconds otherwise).
//
//   core::TerminalProgress progress;
//   progress.start("k-core", users);
//   for (...) progress.advance(1);
//   progress.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace llmsrec::core {

class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  // total <= 0 means unknown.
  virtual void start(const std::string& label, int64_t total, const std::string& unit = "it") = 0;
  virtual void advance(int64_t n = 1) = 0;
  virtual void finish() = 0;
};

// Reports nothing (tests, library defaults).
class NullProgress final : public ProgressReporter {
 public:
  void start(const std::string&, int64_t, const std::string&) override {}
  void advance(int64_t) override {}
  void finish() override {}
};

// Bar with rate and ETA on a terminal; plain periodic log lines otherwise.
class TerminalProgress final : public ProgressReporter {
 public:
  explicit TerminalProgress(double plain_interval_s = 10.0);
  void start(const std::string& label, int64_t total, const std::string& unit = "it") override;
  void advance(int64_t n = 1) override;
  void finish() override;

 private:
  void render(bool final_line);
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  int64_t total_ = 0, done_ = 0;
  Clock::time_point start_, last_draw_;
  double plain_interval_s_;
  bool tty_ = false, active_ = false;
};

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

}  // namespace llmsrec::core
