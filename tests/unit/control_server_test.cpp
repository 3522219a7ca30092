// The control server in-process: heartbeats from real HeartbeatClients over
// TCP, the watchdog's decisions, and HTTP answers to a raw-socket client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "cluster/control_server.h"
#include "cluster/heartbeat_client.h"
#include "cluster/live_metrics.h"

using namespace llmsrec::cluster;
using Clock = std::chrono::steady_clock;

namespace {

// A connected TCP socket to 127.0.0.1:port (closed on destruction).
struct Socket {
  int fd = -1;
  explicit Socket(int port, double recv_timeout_s = 5) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) ADD_FAILURE() << "connect failed";
    timeval tv{static_cast<time_t>(recv_timeout_s), static_cast<suseconds_t>((recv_timeout_s - (int)recv_timeout_s) * 1e6)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Socket() { ::close(fd); }
  void send(const std::string& s) const { ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size()); }
  std::string read_all() const {  // until EOF or the receive timeout
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

std::string request(int port, const std::string& raw) {
  Socket s(port);
  s.send(raw);
  return s.read_all();
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

template <class Pred>
bool wait_for(Pred pred, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

ControlServerOptions options(int world, LiveMetrics* metrics = nullptr) {
  ControlServerOptions o;
  o.world_size = world;
  o.heartbeat_timeout_s = 30;
  o.metrics = metrics;
  o.http_read_timeout_s = 5;
  return o;
}

HeartbeatClientOptions client(int port, int rank) {
  HeartbeatClientOptions c;
  c.server_port = port;
  c.rank = rank;
  c.host = "host" + std::to_string(rank);
  c.interval_s = 0.05;
  return c;
}

}  // namespace

TEST(ControlServer, ReceivesHeartbeatsFromEveryRank) {
  ControlServer server(options(2));
  ASSERT_GT(server.port(), 0);
  HeartbeatClient r0(client(server.port(), 0)), r1(client(server.port(), 1));
  r1.set_phase("forward step 7");
  r1.set_step(7);
  ASSERT_TRUE(wait_for([&] { auto h = server.ranks(); return h[0].seen && h[1].last.step == 7; }, 5));
  auto h = server.ranks();
  EXPECT_EQ(h[1].last.host, "host1");
  EXPECT_EQ(h[1].last.phase, "forward step 7");
  EXPECT_EQ(h[1].last.pid, static_cast<int64_t>(::getpid()));
  EXPECT_LT(h[1].heartbeat_age_s, 1.0);
  EXPECT_GT(r1.sent(), 0);
}

TEST(ControlServer, WatchdogNamesARankThatNeverHeartbeats) {
  std::promise<HungRank> hung;
  auto o = options(2);
  o.heartbeat_timeout_s = 0.6;
  o.on_hung = [&](const HungRank& h) { hung.set_value(h); };
  const auto start = Clock::now();
  ControlServer server(o);
  HeartbeatClient r0(client(server.port(), 0));
  auto f = hung.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  HungRank h = f.get();
  EXPECT_EQ(h.rank, 1);
  EXPECT_NE(h.reason.find("never sent a heartbeat"), std::string::npos) << h.reason;
  EXPECT_GE(took, 0.6);
  EXPECT_LT(took, 2.0);
}

TEST(ControlServer, WatchdogNamesARankWithoutProgressAndItsPhase) {
  std::promise<HungRank> hung;
  auto o = options(1);
  o.step_timeout_s = 0.5;  // alive (heartbeats flow) but the training thread is stuck
  o.on_hung = [&](const HungRank& h) { hung.set_value(h); };
  ControlServer server(o);
  HeartbeatClient r0(client(server.port(), 0));
  r0.set_phase("allreduce step 3");
  auto f = hung.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  HungRank h = f.get();
  EXPECT_EQ(h.rank, 0);
  EXPECT_EQ(h.phase, "allreduce step 3");
  EXPECT_EQ(h.host, "host0");
  EXPECT_NE(h.reason.find("no progress"), std::string::npos) << h.reason;
}

TEST(ControlServer, AFailedRankIsReportedOnceWithItsCauseAndNeverAsHung) {
  std::promise<HeartbeatRecord> failed;
  std::atomic<int> failures{0}, hangs{0};
  auto o = options(2);
  o.heartbeat_timeout_s = 1.0;
  o.on_failed = [&](const HeartbeatRecord& r) {
    if (failures++ == 0) failed.set_value(r);
  };
  o.on_hung = [&](const HungRank&) { ++hangs; };
  ControlServer server(o);
  HeartbeatClient r0(client(server.port(), 0));
  auto r1 = std::make_unique<HeartbeatClient>(client(server.port(), 1));
  r1->set_phase("epoch 0 step 3: train");
  r1->set_step(3);
  const auto start = Clock::now();
  ASSERT_TRUE(r1->report_failure("bad row in shard 1", 5, 2.0));
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 1.0) << "a failure is reported at once";
  HeartbeatRecord r = f.get();
  EXPECT_EQ(r.rank, 1);
  EXPECT_EQ(r.error, "bad row in shard 1");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.step, 3);
  EXPECT_EQ(r.phase, "epoch 0 step 3: train");
  r1.reset();  // the failed rank goes silent: that is no hang on top of the failure
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(hangs.load(), 0);
}

TEST(ControlServer, ReportFailureWithoutAServerGivesUpInTime) {
  HeartbeatClientOptions c = client(1, 1);  // port 1: nothing listens
  HeartbeatClient lone(c);
  const auto start = Clock::now();
  EXPECT_FALSE(lone.report_failure("x", 5, 0.5));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
}

TEST(ControlServer, ACleanShutdownIsNotAHang) {
  std::atomic<bool> fired{false};
  auto o = options(1);
  // Long enough that a loaded machine's scheduling gaps between 50 ms
  // heartbeats never reach it; the wait after "done" is longer still.
  o.heartbeat_timeout_s = 1.0;
  o.on_hung = [&](const HungRank&) { fired = true; };
  ControlServer server(o);
  {
    HeartbeatClient r0(client(server.port(), 0));
    ASSERT_TRUE(wait_for([&] { return server.ranks()[0].seen; }, 5));
  }  // sends "done"
  ASSERT_TRUE(wait_for([&] { return server.ranks()[0].last.done; }, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_FALSE(fired);
}

TEST(ControlServer, HttpMetricsStatusAndErrors) {
  LiveMetrics metrics;
  metrics.set("step", 42);
  metrics.set("loss", 0.75, {{"part", "mse"}});
  ControlServer server(options(1, &metrics));
  HeartbeatClient r0(client(server.port(), 0));
  ASSERT_TRUE(wait_for([&] { return server.ranks()[0].seen; }, 5));
  const int port = server.port();

  std::string res = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(res), "HTTP/1.1 200 OK");
  EXPECT_NE(res.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(res.find("\nllmsrec_step 42\n"), std::string::npos) << res;
  EXPECT_NE(res.find("llmsrec_loss{part=\"mse\"} 0.75"), std::string::npos);
  EXPECT_NE(res.find("llmsrec_heartbeat_age_seconds{rank=\"0\",host=\"host0\"}"), std::string::npos);

  res = request(port, "GET /status?pretty HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_line(res), "HTTP/1.1 200 OK");
  auto body = nlohmann::json::parse(res.substr(res.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["metrics"]["step"].get<double>(), 42);
  EXPECT_EQ(body["ranks"][0]["host"], "host0");

  EXPECT_EQ(status_line(request(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 404 Not Found");
  res = request(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(status_line(res), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(res.find("Allow: GET"), std::string::npos);
  EXPECT_EQ(status_line(request(port, "garbage garbage\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line(request(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n")),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(status_line(request(port, "LLMSREC-HB 1\nnot json\n")), "");  // dropped, no HTTP answer
}

TEST(ControlServer, SilentClientsNeitherBlockRequestsNorHeartbeats) {
  auto o = options(1);
  o.http_read_timeout_s = 1.0;
  o.http_max_connections = 3;
  ControlServer server(o);
  HeartbeatClient r0(client(server.port(), 0));
  // Established heartbeat streams do not count against the HTTP limit.
  ASSERT_TRUE(wait_for([&] { return server.ranks()[0].seen; }, 5));
  Socket idle1(server.port()), idle2(server.port());  // connect, send nothing
  const auto t0 = Clock::now();
  EXPECT_EQ(status_line(request(server.port(), "GET /status HTTP/1.1\r\n\r\n")), "HTTP/1.1 200 OK");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 0.5);
  // Over the connection limit: refused at once (EOF, no answer).
  Socket idle3(server.port());
  Socket refused(server.port(), 2);
  EXPECT_EQ(refused.read_all(), "");
  // The idle ones are cut at the read deadline, after which requests go through again.
  EXPECT_EQ(idle1.read_all(), "");
  EXPECT_EQ(status_line(request(server.port(), "GET /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 200 OK");
  const double age = server.ranks()[0].heartbeat_age_s;
  EXPECT_LT(age, 0.5) << "heartbeats kept flowing while HTTP clients stalled";
}

TEST(ControlServer, AHelloWithoutARecordIsCountedAndCutLikeAnHttpClient) {
  auto o = options(1);
  o.http_read_timeout_s = 1.0;
  o.http_max_connections = 2;
  ControlServer server(o);
  HeartbeatClient r0(client(server.port(), 0));
  ASSERT_TRUE(wait_for([&] { return server.ranks()[0].seen; }, 5));
  Socket hello(server.port()), half(server.port());
  hello.send("LLMSREC-HB 1\n");                    // the protocol line, then nothing
  half.send("LLMSREC-HB 1\n{\"rank\": 0, \"ho");  // half a record
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Both hold a slot: the next connection is refused at once, not cut at the deadline.
  auto t0 = Clock::now();
  Socket refused(server.port(), 2);
  EXPECT_EQ(refused.read_all(), "");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 0.5);
  // Both are cut at http_read_timeout_s (EOF long before the sockets' 5 s receive timeout).
  t0 = Clock::now();
  EXPECT_EQ(hello.read_all(), "");
  EXPECT_EQ(half.read_all(), "");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 3.0);
  EXPECT_EQ(status_line(request(server.port(), "GET /status HTTP/1.1\r\n\r\n")), "HTTP/1.1 200 OK");
  EXPECT_LT(server.ranks()[0].heartbeat_age_s, 0.5) << "the real rank's stream was not affected";
}

TEST(ControlServer, ASilentHeartbeatStreamIsCutAfterTheHeartbeatTimeout) {
  auto o = options(2);
  o.heartbeat_timeout_s = 1.0;
  ControlServer server(o);  // no on_hung: the watchdog's verdict on rank 0 does nothing here
  Socket s(server.port());
  s.send("LLMSREC-HB 1\n{\"rank\": 1, \"host\": \"h\", \"pid\": 1, \"step\": 3, \"phase\": \"p\", \"time\": 0, "
         "\"progress_age_s\": 0}\n");
  ASSERT_TRUE(wait_for([&] { return server.ranks()[1].last.step == 3; }, 5));
  const auto t0 = Clock::now();
  EXPECT_EQ(s.read_all(), "");  // EOF from the server, not the socket's 5 s receive timeout
  const double cut_after = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GT(cut_after, 0.7);
  EXPECT_LT(cut_after, 3.0);
}

TEST(ControlServer, OutOfDescriptorsTheServerThreadWaitsInsteadOfSpinning) {
  ControlServer server(options(1));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const auto open_now = std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {});
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(open_now + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  // Take every descriptor left, then connect on the last one: the kernel queues the
  // connection, and the server's accept fails with EMFILE for as long as this lasts.
  std::vector<int> taken;
  for (int fd; (fd = ::socket(AF_INET, SOCK_STREAM, 0)) >= 0;) taken.push_back(fd);
  ASSERT_FALSE(taken.empty());
  const int client = taken.back();
  taken.pop_back();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto cpu_s = [] {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  };
  const double cpu0 = cpu_s();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double busy = cpu_s() - cpu0;
  for (int fd : taken) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_LT(busy, 0.2) << "the process used " << busy << " s of CPU in 1 s while accept failed";
  // Descriptors back: the queued connection is accepted and answered.
  const std::string req = "GET /status HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(client, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  timeval tv{3, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64] = {};
  ASSERT_GT(::recv(client, buf, sizeof(buf) - 1, 0), 0);
  EXPECT_EQ(status_line(buf), "HTTP/1.1 200 OK");
  ::close(client);
}
