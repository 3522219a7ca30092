#include "launcher/launch_command.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

extern char** environ;

namespace llmsrec::launcher {
namespace {

// Environment a worker needs from the launching shell (mpirun does not export
// the environment to remote hosts by itself). CUDA_VISIBLE_DEVICES is left out
// on purpose: the device is the local rank, and the launch host's mask need
// not fit the other hosts.
bool forwarded(const std::string& name) {
  static const char* const kNames[] = {"PATH", "LD_LIBRARY_PATH", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                       "HDF5_USE_FILE_LOCKING"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  for (const char* prefix : {"LLMSREC_", "NCCL_", "TORCH_"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

int64_t parse_positive(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(fmt::format("{}: expected a positive integer, found '{}'", what, text));
}

const std::string* find(const LaunchEnvironment& env, const char* name) {
  auto it = env.env.find(name);
  return it == env.env.end() ? nullptr : &it->second;
}

// OMP_NUM_THREADS for each worker: the user's value wins; under SLURM the
// allocation's cpus-per-task; else this host's cores shared by its ranks.
std::string omp_threads(const LaunchRequest& req, const LaunchEnvironment& env, int64_t ranks_per_host) {
  if (const auto* v = find(env, "OMP_NUM_THREADS")) return *v;
  if (req.slurm) {
    if (const auto* v = find(env, "SLURM_CPUS_PER_TASK")) return *v;
  }
  return std::to_string(std::max<int64_t>(1, static_cast<int64_t>(env.cores) / std::max<int64_t>(1, ranks_per_host)));
}

}  // namespace

std::vector<HostSlots> parse_hosts(const std::string& text) {
  std::vector<HostSlots> hosts;
  std::stringstream in(text);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) throw ConfigError(fmt::format("--hosts '{}': empty entry", text));
    HostSlots h;
    if (auto colon = entry.rfind(':'); colon != std::string::npos) {
      h.host = entry.substr(0, colon);
      h.slots = parse_positive(entry.substr(colon + 1), fmt::format("--hosts entry '{}'", entry));
    } else {
      h.host = entry;
    }
    if (h.host.empty()) throw ConfigError(fmt::format("--hosts entry '{}': missing host name", entry));
    hosts.push_back(h);
  }
  if (hosts.empty()) throw ConfigError("--hosts: expected host[:slots],host[:slots],...");
  return hosts;
}

LaunchEnvironment current_environment() {
  LaunchEnvironment env;
  env.is_root = ::geteuid() == 0;
  env.cores = std::max(1u, std::thread::hardware_concurrency());
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    if (auto eq = kv.find('='); eq != std::string::npos) env.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::vector<std::string> build_launch_command(const LaunchRequest& req, const LaunchEnvironment& env) {
  if (req.args.empty()) throw ConfigError("llmsrec launch: give the subcommand after --, e.g. -- train -c cfg.yaml");
  if (req.executable.empty()) throw ConfigError("llmsrec launch: the llmsrec executable path is empty");
  int64_t ranks = req.ranks;
  if (ranks == 0 && req.slurm) {
    const auto* n = find(env, "SLURM_NTASKS");
    if (!n) throw ConfigError("llmsrec launch --slurm: give -n N or run inside an allocation that sets SLURM_NTASKS");
    ranks = parse_positive(*n, "SLURM_NTASKS");
  }
  if (ranks < 1) throw ConfigError(fmt::format("llmsrec launch: -n must be >= 1, found {}", ranks));
  int64_t slots = 0, max_slots = 0;
  for (const auto& h : req.hosts) {
    slots += h.slots;
    max_slots = std::max(max_slots, h.slots);
  }
  if (!req.hosts.empty() && slots < ranks && !req.oversubscribe) {
    throw ConfigError(fmt::format("llmsrec launch: -n {} ranks but --hosts offers {} slots (add slots or "
                                  "--oversubscribe)",
                                  ranks, slots));
  }
  const int64_t ranks_per_host = req.hosts.empty() ? ranks : std::min(ranks, max_slots);
  const std::string threads = omp_threads(req, env, ranks_per_host);

  std::vector<std::string> cmd;
  if (req.slurm) {
    cmd = {"srun", "--mpi=" + req.mpi_plugin, fmt::format("--ntasks={}", ranks)};
    if (!req.hosts.empty()) {
      cmd.push_back(fmt::format("--nodes={}", req.hosts.size()));
      const bool uniform = std::all_of(req.hosts.begin(), req.hosts.end(),
                                       [&](const HostSlots& h) { return h.slots == req.hosts[0].slots; });
      if (uniform) cmd.push_back(fmt::format("--ntasks-per-node={}", req.hosts[0].slots));
      std::string list;
      for (const auto& h : req.hosts) list += (list.empty() ? "" : ",") + h.host;
      cmd.push_back("--nodelist=" + list);
    }
    if (req.oversubscribe) cmd.push_back("--overcommit");
    cmd.push_back("--cpu-bind=none");
    cmd.push_back("--kill-on-bad-exit=1");
    // srun exports the whole environment by default; only the thread count is added.
    cmd.push_back(find(env, "OMP_NUM_THREADS") ? "--export=ALL" : "--export=ALL,OMP_NUM_THREADS=" + threads);
  } else {
    cmd = {"mpirun", "-np", std::to_string(ranks), "--bind-to", "none", "--map-by", "slot"};
    if (!req.hosts.empty()) {
      std::string list;
      for (const auto& h : req.hosts) list += fmt::format("{}{}:{}", list.empty() ? "" : ",", h.host, h.slots);
      cmd.push_back("--host");
      cmd.push_back(list);
    }
    if (req.oversubscribe) cmd.push_back("--oversubscribe");
    if (env.is_root) cmd.push_back("--allow-run-as-root");
    cmd.push_back("-x");
    cmd.push_back("OMP_NUM_THREADS=" + threads);
    for (const auto& [name, value] : env.env) {  // std::map: sorted, so the command is deterministic
      if (forwarded(name)) {
        cmd.push_back("-x");
        cmd.push_back(name);
      }
    }
  }
  cmd.push_back(req.executable);
  cmd.insert(cmd.end(), req.args.begin(), req.args.end());
  return cmd;
}

std::string choose_mpi_plugin(const std::string& requested, const std::string& list, std::string* note) {
  std::vector<std::string> words;
  std::stringstream in(list);
  for (std::string w; in >> w;) words.push_back(w);
  auto has = [&](const std::string& name) { return std::find(words.begin(), words.end(), name) != words.end(); };
  if (has(requested)) return requested;
  if (has("pmi2")) {
    if (note) *note = fmt::format("srun has no --mpi={} plugin here; falling back to --mpi=pmi2", requested);
    return "pmi2";
  }
  throw ConfigError(fmt::format("srun offers neither --mpi={} nor --mpi=pmi2 (srun --mpi=list said: {})", requested,
                                list.empty() ? "nothing" : list));
}

std::string srun_mpi_list() {
  std::string out;
  FILE* p = ::popen("srun --mpi=list 2>&1", "r");
  if (!p) return out;
  std::array<char, 512> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789_-+=/.,:@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string self_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw IoError(fmt::format("cannot resolve /proc/self/exe: {}", std::strerror(errno)));
  return std::string(buf, static_cast<size_t>(n));
}

void exec_command(const std::vector<std::string>& argv) {
  LLMSREC_ASSERT(!argv.empty(), "exec_command needs a program");
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  ::execvp(c_argv[0], c_argv.data());
  throw IoError(fmt::format("cannot run '{}': {}", argv[0], std::strerror(errno)));
}

}  // namespace llmsrec::launcher
