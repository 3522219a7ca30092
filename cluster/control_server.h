// Rank 0's control server: one TCP port, one background thread (never the
// training thread), Boost.Asio + Beast behind a pimpl.
//
// Protocol detection on the first line of every connection:
//  - "LLMSREC-HB 1\n" opens a heartbeat stream: then one JSON object per line
//    {"rank","host","pid","step","phase","time","progress_age_s"[,"done":true]}
//    (see heartbeat_client.h). The connection stays open. Until its first valid
//    record it is treated like an HTTP client (counted, cut after
//    http_read_timeout_s); after that each record must follow within
//    heartbeat_timeout_s (the watchdog judges the rank from its table, not from
//    the connection).
//  - anything else is parsed as one HTTP/1.1 request (Beast): GET /metrics
//    (Prometheus text), GET /status (JSON); 404 other paths, 405 other methods,
//    400 malformed, 431 headers over 8 KiB. One request per connection.
//    A client must send its whole request within http_read_timeout_s; at most
//    http_max_connections HTTP connections are open at once (more are closed on
//    accept). Heartbeat streams that delivered a valid record do not count
//    against that limit. So a local client that opens connections and holds
//    them, trickles bytes or sends garbage ties up at most
//    http_max_connections descriptors, each for at most http_read_timeout_s
//    (tests/integration/control_server_abuse.sh).
//
// Failure: a record with "error" (and "exit_code") says the rank failed; the
// server calls on_failed once (the run context logs "rank R failed: ...",
// writes errors/rank-R.json and ends the job with the rank's exit code).
//
// Watchdog: a rank whose last heartbeat is older than heartbeat_timeout_s
// (stopped, dead host, never connected), or whose reported progress is older
// than step_timeout_s (deadlocked training thread) is hung: on_hung is called
// once, on the server thread (the run context logs, writes errors/rank-R.json
// and aborts the job with exit code 4).
//
//   cluster::ControlServer server({.address = "127.0.0.1", .port = 0, .world_size = 2,
//                                  .metrics = &metrics, .on_hung = [&](const cluster::HungRank& h) { ... }});
//   int port = server.port();   // the bound port (port 0 = any free port)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::cluster {

class LiveMetrics;

// What a rank said in its last heartbeat.
struct HeartbeatRecord {
  int rank = -1;
  std::string host;
  int64_t pid = 0;
  int64_t step = 0;
  std::string phase;           // what the training thread was last doing
  double time_unix_s = 0;      // sender's clock when sent
  double progress_age_s = 0;   // seconds since the training thread last reported progress
  bool done = false;           // the rank shut down cleanly: stop watching it
  std::string error;           // non-empty: the rank failed with this message (its last record)
  int exit_code = 0;           // with error: the exit code the rank ends with

  nlohmann::json to_json() const;
  // Throws DataError naming the missing/bad field.
  static HeartbeatRecord from_json(const nlohmann::json& j);
};

struct RankHealth {
  HeartbeatRecord last;        // rank = -1 until its first heartbeat
  bool seen = false;
  double heartbeat_age_s = 0;  // since the last heartbeat arrived (since server start if never)
};

struct HungRank {
  int rank = -1;
  std::string host;            // "" if it never connected
  int64_t pid = 0;
  int64_t step = 0;
  std::string phase;
  double silent_s = 0;         // how long it has been silent (or without progress)
  std::string reason;          // human sentence
  nlohmann::json to_json() const;
};

struct ControlServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;                        // 0 = any free port
  int world_size = 1;                  // ranks expected to heartbeat: 0..world_size-1
  double heartbeat_timeout_s = 60;
  double step_timeout_s = 0;           // 0 = no progress deadline
  int64_t http_max_connections = 32;
  double http_read_timeout_s = 10;
  LiveMetrics* metrics = nullptr;      // rendered by /metrics and /status (may be null)
  std::function<void(const HungRank&)> on_hung;  // called at most once, on the server thread
  // A rank reported that it failed (HeartbeatClient::report_failure): called at
  // most once (and never after on_hung), on the server thread.
  std::function<void(const HeartbeatRecord&)> on_failed;
};

class ControlServer {
 public:
  // Binds and starts the server thread. Throws IoError when the address/port cannot be bound.
  explicit ControlServer(ControlServerOptions options);
  ~ControlServer();  // stops the thread
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int port() const;                      // the bound port
  std::vector<RankHealth> ranks() const; // thread-safe snapshot, index = rank
  std::string metrics_text() const;      // the /metrics body
  nlohmann::json status() const;         // the /status body

  struct Impl;  // defined in control_server.cpp (Asio lives there only)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmsrec::cluster
