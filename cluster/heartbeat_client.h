// Every rank's heartbeat sender: a background thread (Boost.Asio behind a
// pimpl) that connects to rank 0's control server and sends one JSON line every
// interval_s: rank, host, pid, step, phase, time, and how long ago the training
// thread last reported progress (so the watchdog sees a deadlocked training
// thread even though this thread keeps beating). Connection failures are
// retried at the next beat; they never reach the training thread.
//
//   cluster::HeartbeatClient hb({.server_host = "127.0.0.1", .server_port = port, .rank = 1,
//                                .host = "node7", .interval_s = 5});
//   hb.set_phase("forward step 12");   // counts as progress
//   hb.set_step(12);
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace llmsrec::cluster {

struct HeartbeatClientOptions {
  std::string server_host = "127.0.0.1";
  int server_port = 0;
  int rank = 0;
  std::string host;       // this rank's host name, reported to rank 0
  double interval_s = 5;
};

class HeartbeatClient {
 public:
  explicit HeartbeatClient(HeartbeatClientOptions options);  // starts beating at once
  // Sends a last "done" heartbeat (best effort, bounded) so rank 0 stops
  // watching this rank, then stops the thread.
  ~HeartbeatClient();
  HeartbeatClient(const HeartbeatClient&) = delete;
  HeartbeatClient& operator=(const HeartbeatClient&) = delete;

  // Thread-safe; each call counts as progress.
  void set_phase(const std::string& phase);
  void set_step(int64_t step);
  void touch();  // progress without a new phase (long phases call it periodically)

  int64_t sent() const;  // heartbeats written so far (tests, diagnostics)

  // Tells rank 0 that this rank failed with `error` and ends with `exit_code`:
  // one record over a connection of its own (the beating one may be mid-write),
  // sent from the calling thread within `timeout_s`. Returns whether it was sent.
  bool report_failure(const std::string& error, int exit_code, double timeout_s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmsrec::cluster
