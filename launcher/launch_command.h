// `llmsrec launch`: builds the mpirun or srun command line that starts N
// llmsrec workers, prints it, and runs it (execvp: exit codes and signals pass
// straight through, which the SLURM templates rely on).
//
// mpirun (Open MPI 4.1): `mpirun -np N --bind-to none --map-by slot
//   [--host h1:4,h2:4] [--oversubscribe] [--allow-run-as-root] -x OMP_NUM_THREADS=T -x VAR... llmsrec ARGS`
//   --bind-to none: libtorch and our I/O threads use several cores per rank;
//   --map-by slot: consecutive ranks fill a host first, so local rank = device.
// srun (inside an allocation): `srun --mpi=pmix --ntasks=N [--nodes=K
//   --ntasks-per-node=S --nodelist=h1,h2] --cpu-bind=none --kill-on-bad-exit=1
//   --export=ALL[,OMP_NUM_THREADS=T] llmsrec ARGS`. No --gpus-per-task: every
//   task must see all GPUs of its node, since the device is the local rank.
//
//   launcher::LaunchRequest req{.ranks = 8, .hosts = launcher::parse_hosts("gpu1:4,gpu2:4"), .slurm = true};
//   auto argv = launcher::build_launch_command(req, launcher::current_environment());
//   std::cout << launcher::shell_join(argv) << "\n";
//   launcher::exec_command(argv);   // does not return
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llmsrec::launcher {

struct HostSlots {
  std::string host;
  int64_t slots = 1;
};

// "h1:4,h2:4" (slots default to 1). Throws ConfigError naming the bad entry.
std::vector<HostSlots> parse_hosts(const std::string& text);

struct LaunchRequest {
  int64_t ranks = 0;                 // -n; 0 under --slurm = SLURM_NTASKS of the allocation
  std::vector<HostSlots> hosts;      // empty = this host (mpirun) / the allocation (srun)
  bool slurm = false;                // srun instead of mpirun
  bool oversubscribe = false;        // mpirun --oversubscribe (more ranks than slots/cores)
  std::string mpi_plugin = "pmix";   // srun --mpi=...
  std::string executable;            // absolute path of the llmsrec binary
  std::vector<std::string> args;     // the subcommand and its arguments
};

// What the command depends on in the launching process, explicit for tests.
struct LaunchEnvironment {
  bool is_root = false;
  unsigned cores = 1;                           // hardware threads of this host
  std::map<std::string, std::string> env;       // the process environment
};
LaunchEnvironment current_environment();

// Throws ConfigError for impossible requests (no ranks, too few slots, ...).
std::vector<std::string> build_launch_command(const LaunchRequest& request, const LaunchEnvironment& env);

// `requested` if `srun --mpi=list` output lists it, else pmi2 when listed
// (with `note` saying so), else throws ConfigError.
std::string choose_mpi_plugin(const std::string& requested, const std::string& srun_mpi_list, std::string* note);
// Runs `srun --mpi=list` and returns its output ("" when srun is missing).
std::string srun_mpi_list();

// Shell-quoted, copy-pasteable command line.
std::string shell_join(const std::vector<std::string>& argv);
// The running executable's absolute path (/proc/self/exe).
std::string self_executable();
// execvp(argv); throws IoError when the program cannot be started.
[[noreturn]] void exec_command(const std::vector<std::string>& argv);

}  // namespace llmsrec::launcher
