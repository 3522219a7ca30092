#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::core {

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("open '{}' for fsync: {}", path, os_error(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw IoError(fmt::format("fsync '{}': {}", path, os_error(err)));
}

AtomicOutput::AtomicOutput(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw IoError(fmt::format("create directory '{}': {}", parent.string(), ec.message()));
  }
  std::remove(tmp_.c_str());  // a stale temp file from a crashed run
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicOutput::commit() {
  fsync_path(tmp_);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    throw IoError(fmt::format("rename '{}' -> '{}': {}", tmp_, path_, os_error(errno)));
  }
  committed_ = true;
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicOutput out(path);
  FILE* f = std::fopen(out.tmp_path().c_str(), "wb");
  if (!f) throw IoError(fmt::format("open '{}' for writing: {}", out.tmp_path(), os_error(errno)));
  size_t n = std::fwrite(content.data(), 1, content.size(), f);
  int close_rc = std::fclose(f);
  if (n != content.size() || close_rc != 0) {
    throw IoError(fmt::format("write '{}': {}", out.tmp_path(), os_error(errno)));
  }
  out.commit();
}

}  // namespace llmsrec::core
