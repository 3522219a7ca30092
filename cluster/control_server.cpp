// Control server implementation: everything runs on one io_context thread, so
// the per-rank table is touched by that thread and, under `mutex`, by readers
// from other threads (ranks(), metrics_text(), status()).
#include "cluster/control_server.h"

#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "cluster/live_metrics.h"
#include "core/error.h"
#include "core/log.h"

namespace llmsrec::cluster {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kHeartbeatHello = "LLMSREC-HB 1";
constexpr size_t kMaxLineBytes = 16 * 1024;   // heartbeat lines and the HTTP request line
constexpr uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr uint64_t kMaxBodyBytes = 4 * 1024;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <class T>
T get_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw DataError(fmt::format("heartbeat: missing field '{}'", key));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("heartbeat: field '{}' has the wrong type: {}", key, e.what()));
  }
}

}  // namespace

nlohmann::json HeartbeatRecord::to_json() const {
  nlohmann::json j = {{"rank", rank}, {"host", host}, {"pid", pid}, {"step", step}, {"phase", phase},
                      {"time", time_unix_s}, {"progress_age_s", progress_age_s}};
  if (done) j["done"] = true;
  if (!error.empty()) {
    j["error"] = error;
    j["exit_code"] = exit_code;
  }
  return j;
}

HeartbeatRecord HeartbeatRecord::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw DataError("heartbeat: expected a JSON object");
  HeartbeatRecord r;
  r.rank = get_field<int>(j, "rank");
  r.host = get_field<std::string>(j, "host");
  r.pid = get_field<int64_t>(j, "pid");
  r.step = get_field<int64_t>(j, "step");
  r.phase = get_field<std::string>(j, "phase");
  r.time_unix_s = get_field<double>(j, "time");
  r.progress_age_s = get_field<double>(j, "progress_age_s");
  r.done = j.value("done", false);
  if (j.contains("error")) {
    r.error = get_field<std::string>(j, "error");
    r.exit_code = get_field<int>(j, "exit_code");
  }
  return r;
}

nlohmann::json HungRank::to_json() const {
  return {{"rank", rank}, {"host", host}, {"pid", pid}, {"step", step}, {"phase", phase},
          {"silent_s", silent_s}, {"reason", reason}};
}

struct ControlServer::Impl {
  struct RankState {
    HeartbeatRecord last;
    bool seen = false;
    Clock::time_point received;
  };

  // Declared before `io`: pending connections are destroyed with `io` and still touch these.
  ControlServerOptions opt;
  int open_http = 0;    // io thread only
  bool fired = false;   // io thread only
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer watchdog{io};
  asio::steady_timer accept_retry{io};  // after a failed accept (e.g. EMFILE)
  bool accept_failing = false;           // io thread only: warn once per run of failures
  std::thread thread;
  Clock::time_point started = Clock::now();
  int bound_port = 0;

  mutable std::mutex mutex;  // guards ranks
  std::vector<RankState> ranks;

  explicit Impl(ControlServerOptions o) : opt(std::move(o)), ranks(static_cast<size_t>(opt.world_size)) {}

  void record(const HeartbeatRecord& r) {
    if (r.rank < 0 || r.rank >= opt.world_size) {
      throw DataError(fmt::format("heartbeat from rank {} but the job has {} ranks", r.rank, opt.world_size));
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto& s = ranks[static_cast<size_t>(r.rank)];
      s.last = r;
      s.seen = true;
      s.received = Clock::now();
    }
    // io thread: `fired` needs no lock; one verdict per job (a hang or a failure).
    if (!r.error.empty() && !fired) {
      fired = true;
      if (opt.on_failed) opt.on_failed(r);
    }
  }

  std::vector<RankHealth> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<RankHealth> out;
    for (const auto& s : ranks) {
      RankHealth h;
      h.last = s.last;
      h.seen = s.seen;
      h.heartbeat_age_s = seconds_since(s.seen ? s.received : started);
      out.push_back(h);
    }
    return out;
  }

  void start_watchdog() {
    const double tick_s = std::min(0.5, opt.heartbeat_timeout_s / 4);
    watchdog.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tick_s)));
    watchdog.async_wait([this](const boost::system::error_code& ec) {
      if (ec || fired) return;
      check_ranks();
      if (!fired) start_watchdog();
    });
  }

  void check_ranks() {
    auto health = snapshot();
    for (size_t r = 0; r < health.size(); ++r) {
      const auto& h = health[r];
      if (h.last.done) continue;
      HungRank hung;
      hung.rank = static_cast<int>(r);
      hung.host = h.last.host;
      hung.pid = h.last.pid;
      hung.step = h.last.step;
      hung.phase = h.last.phase;
      const double progress_age = h.last.progress_age_s + h.heartbeat_age_s;
      if (h.heartbeat_age_s > opt.heartbeat_timeout_s) {
        hung.silent_s = h.heartbeat_age_s;
        hung.reason = h.seen ? fmt::format("no heartbeat for {:.1f} s (cluster.heartbeat_timeout_s = {}): the process "
                                           "is stopped, dead, or its host is unreachable",
                                           h.heartbeat_age_s, opt.heartbeat_timeout_s)
                             : fmt::format("never sent a heartbeat in {:.1f} s (cluster.heartbeat_timeout_s = {})",
                                           h.heartbeat_age_s, opt.heartbeat_timeout_s);
      } else if (h.seen && opt.step_timeout_s > 0 && progress_age > opt.step_timeout_s) {
        hung.silent_s = progress_age;
        hung.reason = fmt::format("alive but no progress for {:.1f} s in phase '{}' (cluster.timeout_s = {}): "
                                  "deadlocked or stuck",
                                  progress_age, h.last.phase, opt.step_timeout_s);
      } else {
        continue;
      }
      fired = true;
      if (opt.on_hung) opt.on_hung(hung);
      return;
    }
  }

  std::string metrics_text() const {
    std::string out = opt.metrics ? opt.metrics->prometheus_text() : std::string();
    auto health = snapshot();
    out += "# HELP llmsrec_heartbeat_age_seconds seconds since each rank's last heartbeat reached rank 0\n";
    out += "# TYPE llmsrec_heartbeat_age_seconds gauge\n";
    for (size_t r = 0; r < health.size(); ++r) {
      out += fmt::format("llmsrec_heartbeat_age_seconds{{rank=\"{}\",host=\"{}\"}} {:.3f}\n", r, health[r].last.host,
                         health[r].heartbeat_age_s);
    }
    out += "# TYPE llmsrec_rank_step gauge\n";
    for (size_t r = 0; r < health.size(); ++r) {
      out += fmt::format("llmsrec_rank_step{{rank=\"{}\"}} {}\n", r, health[r].last.step);
    }
    return out;
  }

  nlohmann::json status() const {
    nlohmann::json rows = nlohmann::json::array();
    auto health = snapshot();
    for (size_t r = 0; r < health.size(); ++r) {
      nlohmann::json row = health[r].last.to_json();
      row["rank"] = r;
      row["seen"] = health[r].seen;
      row["heartbeat_age_s"] = health[r].heartbeat_age_s;
      rows.push_back(row);
    }
    return {{"world_size", opt.world_size},
            {"uptime_s", seconds_since(started)},
            {"metrics", opt.metrics ? opt.metrics->to_json() : nlohmann::json::object()},
            {"ranks", rows}};
  }

  void accept();
};

namespace {

// One accepted connection: sniffs the first line, then serves either a
// heartbeat stream or one HTTP request.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ControlServer::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), buffer_(kMaxLineBytes) {
    ++server_.open_http;
  }
  ~Connection() {
    if (counted_) --server_.open_http;
  }

  void start() {
    stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(server_.opt.http_read_timeout_s)));
    asio::async_read_until(stream_, asio::dynamic_buffer(lines_, kMaxLineBytes), "\n",
                           [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                             self->on_first_line(ec, n);
                           });
  }

 private:
  std::string take_line(size_t n) {
    std::string line = lines_.substr(0, n);
    lines_.erase(0, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }

  void on_first_line(boost::system::error_code ec, size_t n) {
    if (ec) {
      // Timeout, disconnect, or a first line over 16 KiB: a request line that long is malformed.
      if (ec == asio::error::not_found) respond(http::status::bad_request, "request line too long\n");
      return;
    }
    if (lines_.rfind(kHeartbeatHello, 0) == 0) {
      // Until its first valid record it stays counted and under start()'s deadline: a client
      // that only says hello, or sends half a record, is cut like a slow HTTP client.
      lines_.erase(0, n);
      read_heartbeat();
      return;
    }
    // HTTP: hand everything read so far to Beast's parser.
    auto room = buffer_.prepare(lines_.size());
    std::memcpy(room.data(), lines_.data(), lines_.size());
    buffer_.commit(lines_.size());
    lines_.clear();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_request(ec);
    });
  }

  void read_heartbeat() {
    asio::async_read_until(stream_, asio::dynamic_buffer(lines_, kMaxLineBytes), "\n",
                           [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return;  // the client reconnects; the watchdog judges silence
      const std::string line = self->take_line(n);
      try {
        self->server_.record(HeartbeatRecord::from_json(nlohmann::json::parse(line)));
      } catch (const std::exception& e) {
        LOG_WARN("control server: dropping a heartbeat connection: {}", e.what());
        return;
      }
      self->identified();
      self->read_heartbeat();
    });
  }

  // After a valid record: a rank's stream. It no longer counts against http_max_connections,
  // and the next record must come within heartbeat_timeout_s (a rank silent that long is hung
  // whatever happens to this connection; the watchdog judges it from the rank table).
  void identified() {
    if (counted_) {
      counted_ = false;
      --server_.open_http;
    }
    stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(server_.opt.heartbeat_timeout_s)));
  }

  void on_request(beast::error_code ec) {
    if (ec == http::error::header_limit) return respond(http::status::request_header_fields_too_large, "headers too large\n");
    if (ec == http::error::body_limit) return respond(http::status::payload_too_large, "body too large\n");
    static const auto& http_category = http::make_error_code(http::error::bad_target).category();
    if (ec && ec.category() == http_category && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return respond(http::status::bad_request, "malformed HTTP request\n");
    }
    if (ec) return;  // timeout or disconnect: nobody to answer
    const auto& req = parser_->get();
    std::string path(req.target());
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    const bool known = path == "/metrics" || path == "/status";
    if (req.method() != http::verb::get) {
      return known ? respond(http::status::method_not_allowed, "only GET is allowed\n")
                   : respond(http::status::not_found, "unknown path; try /metrics or /status\n");
    }
    if (path == "/metrics") return respond(http::status::ok, server_.metrics_text(), "text/plain; version=0.0.4");
    if (path == "/status") return respond(http::status::ok, server_.status().dump(2) + "\n", "application/json");
    respond(http::status::not_found, "unknown path; try /metrics or /status\n");
  }

  void respond(http::status status, std::string body, const char* type = "text/plain") {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "llmsrec");
    res->set(http::field::content_type, type);
    if (status == http::status::method_not_allowed) res->set(http::field::allow, "GET");
    res->keep_alive(false);
    res->body() = std::move(body);
    res->prepare_payload();
    stream_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(server_.opt.http_read_timeout_s)));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  ControlServer::Impl& server_;
  beast::tcp_stream stream_;
  std::string lines_;          // first line / heartbeat lines (Asio dynamic buffer)
  beast::flat_buffer buffer_;  // HTTP bytes for Beast's parser
  std::optional<http::request_parser<http::string_body>> parser_;
  bool counted_ = true;  // counts against http_max_connections
};

}  // namespace

void ControlServer::Impl::accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // The connection stays queued (e.g. EMFILE: out of descriptors), so accepting again at
      // once would fail again at once: a spinning server thread. Retry in 100 ms instead.
      if (!accept_failing) LOG_WARN("control server: accept failed: {} (retrying every 100 ms)", ec.message());
      accept_failing = true;
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](const boost::system::error_code& e) {
        if (!e) accept();
      });
      return;
    }
    accept_failing = false;
    if (open_http >= opt.http_max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);  // over the limit: refuse rather than queue
    } else {
      std::make_shared<Connection>(*this, std::move(socket))->start();
    }
    accept();
  });
}

ControlServer::ControlServer(ControlServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& im = *impl_;
  LLMSREC_ASSERT(im.opt.world_size >= 1, "control server needs world_size >= 1");
  try {
    tcp::endpoint endpoint(asio::ip::make_address(im.opt.address), static_cast<unsigned short>(im.opt.port));
    im.acceptor.open(endpoint.protocol());
    im.acceptor.set_option(tcp::acceptor::reuse_address(true));
    im.acceptor.bind(endpoint);
    im.acceptor.listen(asio::socket_base::max_listen_connections);
    im.bound_port = im.acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    throw IoError(fmt::format("control server: cannot listen on {}:{}: {} (set cluster.control_port to a free port, "
                              "-1 for any, or 0 to turn the control plane off)",
                              im.opt.address, im.opt.port, e.code().message()));
  }
  im.accept();
  im.start_watchdog();
  im.thread = std::thread([&im] { im.io.run(); });
}

ControlServer::~ControlServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int ControlServer::port() const { return impl_->bound_port; }
std::vector<RankHealth> ControlServer::ranks() const { return impl_->snapshot(); }
std::string ControlServer::metrics_text() const { return impl_->metrics_text(); }
nlohmann::json ControlServer::status() const { return impl_->status(); }

}  // namespace llmsrec::cluster
