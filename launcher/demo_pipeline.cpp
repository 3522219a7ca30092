#include "launcher/demo_pipeline.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "launcher/launch_command.h"

namespace llmsrec::launcher {

int run_child(const std::vector<std::string>& argv, std::string* out) {
  int pipefd[2] = {-1, -1};
  if (out && ::pipe(pipefd) != 0) throw IoError("pipe() failed");
  pid_t pid = ::fork();
  if (pid < 0) throw IoError("fork() failed");
  if (pid == 0) {
    if (out) {
      ::dup2(pipefd[1], STDOUT_FILENO);
      ::close(pipefd[0]);
      ::close(pipefd[1]);
    }
    std::vector<char*> c_argv;
    for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    ::execvp(c_argv[0], c_argv.data());
    std::fprintf(stderr, "llmsrec demo: cannot run %s\n", c_argv[0]);
    ::_exit(127);
  }
  if (out) {
    ::close(pipefd[1]);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) out->append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

namespace {

class ChildError : public Error {
 public:
  ChildError(const std::string& what, int code) : Error(what), code_(code) {}
  int exit_code() const override { return code_; }

 private:
  int code_;
};

// Runs one stage with --json and returns its summary.
nlohmann::json stage(const std::string& label, std::vector<std::string> argv) {
  argv.push_back("--json");
  LOG_INFO("demo: {} ...", label);
  LOG_INFO("  $ {}", shell_join(argv));
  const auto start = std::chrono::steady_clock::now();
  std::string out;
  const int rc = run_child(argv, &out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The JSON summary is the last line (mpirun prints one per rank: rank 0's comes first).
  nlohmann::json summary;
  for (size_t pos = 0; pos < out.size();) {
    size_t end = out.find('\n', pos);
    std::string line = out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!line.empty() && line.front() == '{' && summary.is_null()) summary = nlohmann::json::parse(line, nullptr, false);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  if (rc != 0) {
    std::string why = summary.is_object() && summary.contains("error") ? summary["error"].get<std::string>() : out;
    throw ChildError(fmt::format("demo stage '{}' failed (exit {}): {}", label, rc, why), rc);
  }
  LOG_INFO("demo: {} done in {:.1f}s", label, secs);
  if (summary.is_object()) summary["stage_seconds"] = secs;
  return summary;
}

}  // namespace

nlohmann::json run_demo(const DemoOptions& opt) {
  const std::string self = self_executable();
  const std::string llm_dir = opt.run_dir + "/llm";
  // Demo-sized settings; any --set given to `llmsrec demo` comes later and wins.
  std::vector<std::string> sets = {
      "run.dir=" + opt.run_dir,       "data.format=synthetic",  "teacher.epochs=20",  "teacher.maxlen=32",
      "llm.path=" + llm_dir,          "train.epochs=1",         "train.validations_per_epoch=2",
      "train.valid_users=500",        "cluster.control_port=-1"};
  sets.insert(sets.end(), opt.overrides.begin(), opt.overrides.end());
  auto cmd = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {self};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const auto& s : sets) {
      argv.push_back("--set");
      argv.push_back(s);
    }
    return argv;
  };
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json out;
  out["prepare"] = stage("prepare synthetic data", cmd({"prepare"}));
  out["teacher"] = stage("train the SASRec teacher", cmd({"teacher", "train"}));
  out["export"] = stage("export teacher targets", cmd({"teacher", "export"}));
  out["llm"] = stage("make a tiny LLaMA", {self, "lm", "make-tiny", llm_dir, "--seed", "1", "--vocab", "1024",
                                           "--max-pos", "1024", "--corpus-from", opt.run_dir + "/dataset.h5"});

  // Training and evaluation run data parallel under mpirun.
  auto mpi = [&](std::vector<std::string> args) {
    LaunchRequest req;
    req.ranks = opt.ranks;
    req.executable = self;
    req.oversubscribe = true;  // 2 ranks on a 2-core machine share cores with libtorch threads
    req.args = cmd(std::move(args));
    req.args.erase(req.args.begin());  // build_launch_command adds the executable
    return build_launch_command(req, current_environment());
  };
  out["train"] = stage(fmt::format("train LLM-SRec on {} ranks", opt.ranks), mpi({"train"}));
  out["embed"] = stage(fmt::format("embed every item and user on {} ranks -> hidden.h5", opt.ranks), mpi({"embed"}));
  out["eval"] = stage("evaluate on test", mpi({"eval", "--split", "test"}));
  out["eval_shuffled"] = stage("evaluate on test, shuffled histories", mpi({"eval", "--split", "test", "--shuffle-history"}));
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out["run_dir"] = opt.run_dir;
  return out;
}

}  // namespace llmsrec::launcher
