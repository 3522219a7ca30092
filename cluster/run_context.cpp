#include "cluster/run_context.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include <dlfcn.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cluster/control_server.h"
#include "cluster/heartbeat_client.h"
#include "cluster/mpi_runtime.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "cluster/cluster_config.h"
#include "cluster/device_choice.h"
#include "core/run_section.h"
#include "core/thread_budget.h"
#include "core/version.h"

namespace llmsrec::cluster {
namespace {

nlohmann::json to_json(const RankInfo& r) {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& [name, version] : r.versions) versions.push_back({name, version});
  return {{"rank", r.rank}, {"host", r.host}, {"local_rank", r.local_rank}, {"device", r.device},
          {"threads", r.threads}, {"pid", r.pid}, {"config_hash", r.config_hash}, {"versions", versions}};
}

RankInfo rank_info_from_json(const nlohmann::json& j) {
  RankInfo r;
  r.rank = j.at("rank").get<int>();
  r.host = j.at("host").get<std::string>();
  r.local_rank = j.at("local_rank").get<int>();
  r.device = j.at("device").get<std::string>();
  r.threads = j.at("threads").get<int>();
  r.pid = j.at("pid").get<int64_t>();
  r.config_hash = j.at("config_hash").get<uint64_t>();
  for (const auto& v : j.at("versions")) r.versions.emplace_back(v.at(0).get<std::string>(), v.at(1).get<std::string>());
  return r;
}

// Collective: every rank's string, in rank order (length first, then padded blocks).
std::vector<std::string> allgather_strings(Communicator& comm, const std::string& mine) {
  const int n = comm.size();
  std::vector<int64_t> lengths(static_cast<size_t>(n));
  int64_t my_length = static_cast<int64_t>(mine.size());
  comm.allgather_bytes(&my_length, sizeof(int64_t), lengths.data());
  int64_t block = 0;
  for (auto l : lengths) block = std::max(block, l);
  std::string padded = mine;
  padded.resize(static_cast<size_t>(block), '\0');
  std::string all(static_cast<size_t>(block * n), '\0');
  if (block > 0) comm.allgather_bytes(padded.data(), block, all.data());
  std::vector<std::string> out;
  for (int r = 0; r < n; ++r) out.push_back(all.substr(static_cast<size_t>(r * block), static_cast<size_t>(lengths[r])));
  return out;
}

std::string join_ranks(const std::vector<int>& ranks) {
  return fmt::format("{}", fmt::join(ranks, ", "));
}

bool is_wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

}  // namespace

void check_rank_table(const std::vector<RankInfo>& ranks) {
  if (ranks.empty()) return;
  const RankInfo& ref = ranks[0];
  std::map<std::string, std::string> ref_versions(ref.versions.begin(), ref.versions.end());
  // component -> ranks whose version differs from rank 0's
  std::map<std::string, std::vector<int>> version_mismatch;
  std::map<std::string, std::string> example;
  std::vector<int> config_mismatch;
  for (const auto& r : ranks) {
    std::map<std::string, std::string> mine(r.versions.begin(), r.versions.end());
    for (const auto& [name, version] : ref_versions) {
      auto it = mine.find(name);
      const std::string got = it == mine.end() ? "(missing)" : it->second;
      if (got != version) {
        version_mismatch[name].push_back(r.rank);
        example.emplace(name, fmt::format("rank 0 has '{}', rank {} has '{}'", version, r.rank, got));
      }
    }
    if (r.config_hash != ref.config_hash) config_mismatch.push_back(r.rank);
  }
  if (!version_mismatch.empty()) {
    std::string what;
    for (const auto& [name, bad] : version_mismatch) {
      what += fmt::format("; {} differs on rank(s) {} ({})", name, join_ranks(bad), example[name]);
    }
    throw CommError("ranks loaded different library versions" + what +
                    ": install the same llmsrec build and libraries on every node");
  }
  if (!config_mismatch.empty()) {
    throw ConfigError(fmt::format("the resolved config on rank(s) {} differs from rank 0's (hash {:016x}): every rank "
                                  "must get the same -c file and --set overrides",
                                  join_ranks(config_mismatch), ref.config_hash));
  }
}

std::string format_rank_table(const std::vector<RankInfo>& ranks) {
  // Columns: rank, host, local, device, pid, then one per loaded library (not
  // llmsrec/git: one build, shown once below). Widths fit the widest cell.
  std::vector<std::string> header = {"rank", "host", "local", "device", "threads", "pid"};
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> components;
  if (!ranks.empty()) {
    for (const auto& [name, version] : ranks[0].versions) {
      if (name != "llmsrec" && name != "git") components.push_back(name);
    }
  }
  header.insert(header.end(), components.begin(), components.end());
  for (const auto& r : ranks) {
    std::map<std::string, std::string> v(r.versions.begin(), r.versions.end());
    std::vector<std::string> row = {std::to_string(r.rank), r.host, std::to_string(r.local_rank), r.device,
                                    std::to_string(r.threads), std::to_string(r.pid)};
    for (const auto& c : components) row.push_back(v[c]);
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) out += fmt::format("{:<{}}  ", cells[c], width[c]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  if (!ranks.empty()) {
    std::map<std::string, std::string> v(ranks[0].versions.begin(), ranks[0].versions.end());
    out += fmt::format("build: llmsrec {} (git {})\n", v["llmsrec"], v["git"]);
  }
  return out;
}

std::unique_ptr<RunContext> RunContext::create(const ClusterConfig& cluster, const core::RunSection& run,
                                               c10::ScalarType compute_dtype, int* argc, char*** argv) {
  std::unique_ptr<RunContext> ctx(new RunContext());
  if (cluster.backend != "local") {
    ctx->owned_mpi_ = MpiRuntime::init(argc, argv);
    ctx->mpi_ = ctx->owned_mpi_.get();
  }
  ctx->init(cluster, run, compute_dtype);
  return ctx;
}

std::unique_ptr<RunContext> RunContext::create(const ClusterConfig& cluster, const core::RunSection& run,
                                               c10::ScalarType compute_dtype, MpiRuntime& mpi) {
  if (cluster.backend == "local") throw ConfigError("cluster.backend local cannot use an MPI runtime");
  std::unique_ptr<RunContext> ctx(new RunContext());
  ctx->mpi_ = &mpi;
  ctx->init(cluster, run, compute_dtype);
  return ctx;
}

void RunContext::apply_thread_budget(int64_t configured, int local_ranks) {
  const core::ThreadBudget b = core::thread_budget(core::this_process_thread_inputs(configured, local_ranks));
  threads_ = b.threads;
  threads_source_ = b.source;
  // ATen's intra-op pool and OpenBLAS's pool get the same budget: a rank that
  // keeps the default of either oversubscribes a node shared with other ranks.
  at::set_num_threads(b.threads);
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(b.threads);
}

void RunContext::init(const ClusterConfig& cc, const core::RunSection& run, c10::ScalarType compute_dtype) {
  const bool use_mpi = mpi_ != nullptr;
  run_dir_ = run.dir;
  compute_dtype_ = compute_dtype;
  if (use_mpi) {
    rank_ = mpi_->world_rank();
    size_ = mpi_->world_size();
    local_rank_ = mpi_->local_rank();
    host_ = mpi_->host();
    host_comm_ = make_mpi_communicator(*mpi_, cc.timeout_s);
    core::set_log_rank(rank_);
  } else {
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    host_ = name;
    world_ = make_local_communicator();
  }
  tp_ = make_local_communicator();
  apply_thread_budget(run.threads, use_mpi ? mpi_->local_size() : 1);
  // Every rank decides the same way from the same config before any
  // collective, so a config error ends every rank alike and nobody waits.
  const DeviceChoice device = choose_device(cc.device, cuda_availability(), local_rank_);
  device_ = c10::Device(device.device);
  const std::string backend = use_mpi ? choose_backend(cc.backend, device.is_cuda(), nccl_available()) : "local";
  const bool nccl = backend == "nccl";

  RankInfo me;
  me.rank = rank_;
  me.host = host_;
  me.local_rank = local_rank_;
  me.device = device_.str();
  me.threads = threads_;
  me.pid = static_cast<int64_t>(::getpid());
  me.config_hash = run.config_hash();
  me.versions = core::version_table();
  for (const auto& text : allgather_strings(host_comm(), to_json(me).dump())) {
    ranks_.push_back(rank_info_from_json(nlohmann::json::parse(text)));
  }
  if (rank_ == 0) {
    LOG_INFO("{} rank(s), backend {}, compute dtype {}, threads per rank from {}:\n{}", size_, backend,
             c10::toString(compute_dtype_), threads_source_, format_rank_table(ranks_));
  }
  check_rank_table(ranks_);  // every rank throws the same error

  if (nccl) world_ = make_nccl_communicator(*host_comm_, static_cast<int>(device_.index()), cc.timeout_s);  // Collective
  else if (use_mpi) world_ = make_mpi_communicator(*mpi_, cc.timeout_s);
  start_control_plane(cc, run);
}

RunContext::~RunContext() = default;

void RunContext::start_control_plane(const ClusterConfig& cc, const core::RunSection& run) {
  if (cc.control_port == 0) return;  // off
  if (!is_wildcard(cc.control_address)) {
    // A loopback/specific address must be reachable from every rank's host.
    for (const auto& r : ranks_) {
      if (r.host != ranks_[0].host && (cc.control_address.rfind("127.", 0) == 0 || cc.control_address == "::1")) {
        throw ConfigError(fmt::format("cluster.control_address {} is loopback but rank {} runs on {} (rank 0 on {}): "
                                      "set cluster.control_address to 0.0.0.0 or an address of {}",
                                      cc.control_address, r.rank, r.host, ranks_[0].host, ranks_[0].host));
      }
    }
  }
  int64_t port = 0;
  std::string bind_error;
  if (rank_ == 0) {
    ControlServerOptions o;
    o.address = cc.control_address;
    o.port = cc.control_port < 0 ? 0 : static_cast<int>(cc.control_port);
    o.world_size = size_;
    o.heartbeat_timeout_s = cc.heartbeat_timeout_s;
    o.step_timeout_s = cc.timeout_s;
    o.http_max_connections = cc.http_max_connections;
    o.http_read_timeout_s = cc.http_read_timeout_s;
    o.metrics = &metrics_;
    o.on_hung = [this](const HungRank& h) { on_hung(h); };
    o.on_failed = [this](const HeartbeatRecord& r) { on_failed(r); };
    try {
      server_ = std::make_unique<ControlServer>(std::move(o));
      port = server_->port();
    } catch (const IoError& e) {
      bind_error = e.what();
      port = -1;
    }
  }
  host_comm().broadcast_bytes(&port, sizeof(port), 0);  // Collective: every rank learns the outcome
  if (port < 0) {
    throw IoError(rank_ == 0 ? bind_error : "rank 0 could not start the control server (see rank 0's log)");
  }
  control_port_ = static_cast<int>(port);
  const std::string server_host = is_wildcard(cc.control_address) ? ranks_[0].host : cc.control_address;
  if (rank_ == 0) {
    LOG_INFO("control server on {}:{} (GET /metrics, /status; heartbeats every {} s, hung after {} s)",
             cc.control_address, control_port_, cc.heartbeat_interval_s, cc.heartbeat_timeout_s);
    nlohmann::json info = {{"address", cc.control_address}, {"port", control_port_}, {"host", host_},
                           {"pid", static_cast<int64_t>(::getpid())}, {"world_size", size_}};
    core::write_file_atomic(run.output_path("control.json"), info.dump(2) + "\n");
  }
  HeartbeatClientOptions h;
  h.server_host = server_host;
  h.server_port = control_port_;
  h.rank = rank_;
  h.host = host_;
  h.interval_s = cc.heartbeat_interval_s;
  heartbeat_ = std::make_unique<HeartbeatClient>(h);
}

void RunContext::on_hung(const HungRank& h) const {
  LOG_ERROR("rank {} on host {} (pid {}) is hung: {}; it was last doing '{}' at step {}. Aborting the job (exit {}) "
            "so the scheduler can restart it from the last checkpoint.",
            h.rank, h.host.empty() ? "?" : h.host, h.pid, h.reason, h.phase, h.step, static_cast<int>(kExitCommTimeout));
  nlohmann::json j = h.to_json();
  j["detected_by_rank"] = rank_;
  j["exit_code"] = static_cast<int>(kExitCommTimeout);
  j["time_unix_s"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  write_error_file(h.rank, j);
  abort(kExitCommTimeout);
}

void RunContext::set_phase(const std::string& phase) {
  phase_ = phase;
  if (heartbeat_) heartbeat_->set_phase(phase);
}

void RunContext::set_step(int64_t step) {
  step_ = step;
  if (heartbeat_) heartbeat_->set_step(step);
  metrics_.set("step", static_cast<double>(step));
}

bool RunContext::preemption_agreed() { return cluster::preemption_agreed(host_comm(), signals_); }

void RunContext::check_replicas_identical(uint64_t hash, int64_t step, const std::string& what) {
  std::vector<uint64_t> all(static_cast<size_t>(size_));
  host_comm().allgather_bytes(&hash, sizeof(hash), all.data());
  std::vector<int> bad;
  for (int r = 0; r < size_; ++r) {
    if (all[static_cast<size_t>(r)] != all[0]) bad.push_back(r);
  }
  if (!bad.empty()) {
    throw CommError(fmt::format("step {}: {} differ between ranks: rank(s) {} disagree with rank 0 (hash {:016x} vs "
                                "{:016x}); replicas diverged",
                                step, what, join_ranks(bad), all[static_cast<size_t>(bad[0])], all[0]));
  }
}

void RunContext::write_error_file(int rank, const nlohmann::json& error) const {
  try {
    const auto path = std::filesystem::path(run_dir_) / "errors" / fmt::format("rank-{}.json", rank);
    core::write_file_atomic(path.string(), error.dump(2) + "\n");
    LOG_ERROR("wrote {}", path.string());
  } catch (const std::exception& e) {
    LOG_ERROR("could not write the error file of rank {}: {}", rank, e.what());
  }
}

void RunContext::on_failed(const HeartbeatRecord& r) const {
  LOG_ERROR("rank {} failed on host {} (pid {}) at step {} while '{}': {}. Ending the job (exit {}).", r.rank, r.host,
            r.pid, r.step, r.phase, r.error, r.exit_code);
  nlohmann::json j = r.to_json();
  j["detected_by_rank"] = rank_;
  write_error_file(r.rank, j);
  abort(r.exit_code);
}

void RunContext::fail_job(const std::string& message, int exit_code) {
  if (size_ <= 1) return;
  nlohmann::json j = {{"rank", rank_}, {"host", host_}, {"pid", static_cast<int64_t>(::getpid())},
                      {"step", step_}, {"phase", phase_}, {"error", message}, {"exit_code", exit_code},
                      {"time_unix_s",
                       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()}};
  write_error_file(rank_, j);
  if (rank_ != 0 && heartbeat_ && heartbeat_->report_failure(message, exit_code, 2.0)) {
    // Rank 0 logs the cause and ends the job; give it a moment before ending it ourselves.
    std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  LOG_ERROR("rank {} failed: {}. Ending the job (exit {}).", rank_, message, exit_code);
  abort(exit_code);
}

void RunContext::abort(int code) const {
  if (mpi_) mpi_->abort(code);
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace llmsrec::cluster
