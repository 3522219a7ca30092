#include "cluster/cluster_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::cluster {

namespace {
[[noreturn]] void bad(const std::string& p, const char* key, const std::string& what) {
  throw ConfigError(fmt::format("config key '{}.{}': {}", p, key, what));
}
}  // namespace

void ClusterConfig::validate(const std::string& p) const {
  if (!(timeout_s > 0)) bad(p, "timeout_s", fmt::format("must be > 0, found {}", timeout_s));
  if (!(heartbeat_interval_s > 0)) {
    bad(p, "heartbeat_interval_s", fmt::format("must be > 0, found {}", heartbeat_interval_s));
  }
  if (!(heartbeat_timeout_s > 2 * heartbeat_interval_s)) {
    bad(p, "heartbeat_timeout_s",
        fmt::format("must exceed 2 x heartbeat_interval_s ({}) so one late heartbeat is not a hang, found {}",
                    2 * heartbeat_interval_s, heartbeat_timeout_s));
  }
  if (control_port < -1 || control_port > 65535) {
    bad(p, "control_port", fmt::format("must be -1 (any), 0 (off) or a TCP port 1..65535, found {}", control_port));
  }
  if (control_address.empty()) bad(p, "control_address", "must not be empty");
  if (http_max_connections < 1) bad(p, "http_max_connections", fmt::format("must be >= 1, found {}", http_max_connections));
  if (!(http_read_timeout_s > 0)) bad(p, "http_read_timeout_s", fmt::format("must be > 0, found {}", http_read_timeout_s));
  if (param_check_every < 0) bad(p, "param_check_every", fmt::format("must be >= 0, found {}", param_check_every));
}

}  // namespace llmsrec::cluster
