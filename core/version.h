// Versions of llmsrec and of the libraries it was compiled against and loaded.
// Printed by `llmsrec --version` and stored in every output file.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace llmsrec::core {

namespace build_info {
extern const char* const kProjectVersion;
extern const char* const kGitRevision;
extern const char* const kYamlCppVersion;
extern const char* const kBuildType;
}  // namespace build_info

// (component, version) pairs: llmsrec, git, libtorch, MPI, HDF5, yaml-cpp, NCCL (when built).
// Safe to call before MPI_Init.
std::vector<std::pair<std::string, std::string>> version_table();

// The process allocator, looked up at run time: "jemalloc 5.3.0 (dirty_decay_ms -1)"
// when the executable links jemalloc (cmake/jemalloc.cmake), else "glibc malloc".
// Not in version_table(): ranks may tune it differently (MALLOC_CONF).
std::string allocator_version();

// One line "llmsrec 0.1.0 (git abc123)" for file attributes and logs.
std::string version_string();

}  // namespace llmsrec::core
