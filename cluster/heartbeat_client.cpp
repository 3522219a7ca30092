#include "cluster/heartbeat_client.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "cluster/control_server.h"

namespace llmsrec::cluster {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
Clock::duration to_duration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

struct HeartbeatClient::Impl {
  HeartbeatClientOptions opt;
  asio::io_context io;
  boost::beast::tcp_stream stream{io};
  asio::steady_timer timer{io};
  std::thread thread;
  bool connected = false;   // io thread only
  bool busy = false;        // a connect or write is in flight (io thread only)
  std::string out;          // the line being written (io thread only)
  std::atomic<int64_t> sent{0};

  std::mutex mutex;  // guards the fields the training thread sets
  std::string phase = "starting";
  int64_t step = 0;
  Clock::time_point progress = Clock::now();

  explicit Impl(HeartbeatClientOptions o) : opt(std::move(o)) {}

  std::string line(bool done, const std::string& error = "", int exit_code = 0) {
    HeartbeatRecord r;
    r.rank = opt.rank;
    r.host = opt.host;
    r.pid = static_cast<int64_t>(::getpid());
    {
      std::lock_guard<std::mutex> lock(mutex);
      r.step = step;
      r.phase = phase;
      r.progress_age_s = std::chrono::duration<double>(Clock::now() - progress).count();
    }
    r.time_unix_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    r.done = done;
    r.error = error;
    r.exit_code = exit_code;
    return r.to_json().dump() + "\n";
  }

  void schedule() {
    timer.expires_after(to_duration(opt.interval_s));
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      beat();
      schedule();
    });
  }

  void reset() {
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    connected = false;
    busy = false;
  }

  void write_line(std::string text) {
    out = std::move(text);
    busy = true;
    stream.expires_after(to_duration(opt.interval_s));
    asio::async_write(stream, asio::buffer(out), [this](boost::system::error_code ec, size_t) {
      if (ec) return reset();
      busy = false;
      ++sent;
    });
  }

  // One beat: connect if needed (the hello line goes first), else write.
  void beat() {
    if (busy) return;  // the previous connect/write has not finished: skip, never queue
    if (connected) return write_line(line(false));
    busy = true;
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(opt.server_host, std::to_string(opt.server_port), ec);
    if (ec) { busy = false; return; }
    stream.expires_after(to_duration(opt.interval_s));
    stream.async_connect(endpoints, [this](boost::system::error_code ec, const tcp::endpoint&) {
      if (ec) return reset();
      connected = true;
      write_line("LLMSREC-HB 1\n" + line(false));
    });
  }
};

HeartbeatClient::HeartbeatClient(HeartbeatClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& im = *impl_;
  asio::post(im.io, [&im] { im.beat(); im.schedule(); });
  im.thread = std::thread([&im] { im.io.run(); });
}

HeartbeatClient::~HeartbeatClient() {
  auto& im = *impl_;
  // Last words: a "done" record, bounded by one interval, then stop.
  asio::post(im.io, [&im] {
    im.timer.cancel();
    if (!im.connected || im.busy) return im.io.stop();
    im.out = im.line(true);
    im.stream.expires_after(to_duration(std::min(im.opt.interval_s, 2.0)));
    asio::async_write(im.stream, asio::buffer(im.out), [&im](boost::system::error_code, size_t) { im.io.stop(); });
  });
  if (im.thread.joinable()) im.thread.join();
}

void HeartbeatClient::set_phase(const std::string& phase) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->phase = phase;
  impl_->progress = Clock::now();
}

void HeartbeatClient::set_step(int64_t step) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->step = step;
  impl_->progress = Clock::now();
}

void HeartbeatClient::touch() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->progress = Clock::now();
}

int64_t HeartbeatClient::sent() const { return impl_->sent.load(); }

bool HeartbeatClient::report_failure(const std::string& error, int exit_code, double timeout_s) {
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(impl_->opt.server_host, std::to_string(impl_->opt.server_port), ec);
  if (ec) return false;
  const std::string text = "LLMSREC-HB 1\n" + impl_->line(false, error, exit_code);
  bool written = false;
  stream.expires_after(to_duration(timeout_s));
  stream.async_connect(endpoints, [&](boost::system::error_code cec, const tcp::endpoint&) {
    if (cec) return;
    asio::async_write(stream, asio::buffer(text), [&](boost::system::error_code wec, size_t) { written = !wec; });
  });
  io.run_for(to_duration(timeout_s));
  return written;
}

}  // namespace llmsrec::cluster
