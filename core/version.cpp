#include "core/version.h"

#include <dlfcn.h>
#include <hdf5.h>
#include <mpi.h>
#include <torch/version.h>

#include <fmt/format.h>

#ifdef LLMSREC_WITH_NCCL
#include <nccl.h>
#endif

namespace llmsrec::core {

std::string allocator_version() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (!mallctl) return "glibc malloc";
  const char* version = nullptr;
  size_t size = sizeof(version);
  std::string v = mallctl("version", &version, &size, nullptr, 0) == 0 && version ? version : "?";
  if (auto cut = v.find("-0-g"); cut != std::string::npos) v.resize(cut);
  long decay = 0;  // ssize_t in jemalloc
  size = sizeof(decay);
  const std::string d = mallctl("opt.dirty_decay_ms", &decay, &size, nullptr, 0) == 0 ? std::to_string(decay) : "?";
  return fmt::format("jemalloc {} (dirty_decay_ms {})", v, d);
}

std::vector<std::pair<std::string, std::string>> version_table() {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("llmsrec", fmt::format("{} ({})", build_info::kProjectVersion, build_info::kBuildType));
  rows.emplace_back("git", build_info::kGitRevision);
  rows.emplace_back("libtorch", TORCH_VERSION);

  char mpi_version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(mpi_version, &len);  // allowed before MPI_Init
  std::string mpi(mpi_version, static_cast<size_t>(len));
  if (auto cut = mpi.find_first_of(",\n"); cut != std::string::npos) mpi.resize(cut);
  rows.emplace_back("mpi", mpi);

  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  rows.emplace_back("hdf5", fmt::format("{}.{}.{}", maj, min, rel));
  rows.emplace_back("yaml-cpp", build_info::kYamlCppVersion);
#ifdef LLMSREC_WITH_NCCL
  int nccl = 0;
  ncclGetVersion(&nccl);
  rows.emplace_back("nccl", fmt::format("{}.{}.{}", nccl / 10000, (nccl / 100) % 100, nccl % 100));
#else
  rows.emplace_back("nccl", "not built");
#endif
  return rows;
}

std::string version_string() {
  return fmt::format("llmsrec {} (git {})", build_info::kProjectVersion, build_info::kGitRevision);
}

}  // namespace llmsrec::core
