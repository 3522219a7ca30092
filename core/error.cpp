#include "core/error.h"

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace llmsrec {

void assert_fail(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "llmsrec: internal error at %s:%d: assertion '%s' failed: %s\n", file, line, expr,
               msg.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string os_error(int err) {
  const char* name = err == ENOSPC ? "ENOSPC" : err == EDQUOT ? "EDQUOT" : err == EIO ? "EIO" : err == EROFS ? "EROFS"
                   : err == EACCES ? "EACCES" : err == ENOENT ? "ENOENT" : nullptr;
  return name ? fmt::format("{} ({})", std::strerror(err), name) : std::string(std::strerror(err));
}

}  // namespace llmsrec
