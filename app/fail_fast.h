// Runs a multi-rank stage so that an error on any one rank ends the whole job
// within seconds, with that rank's message and exit code (RunContext::fail_job),
// instead of leaving its peers in a collective until cluster.timeout_s.
// Preemption is not a failure: every rank agreed on it and exits 3 together.
//
//   auto ctx = app::create_run_context(cfg);
//   return app::fail_fast(*ctx, common.json, [&] { return trainer::train_llmsrec(...); });
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cluster/run_context.h"
#include "cluster/signals.h"
#include "core/error.h"
#include "core/log.h"

namespace llmsrec::app {

// With peers: logs, prints the --json error line, and ends the job. Alone: returns.
inline void fail_with_peers(cluster::RunContext& ctx, bool json, const std::string& message, int code) {
  if (ctx.size() <= 1) return;
  LOG_ERROR("{}", message);
  if (json) core::write_stdout_line(nlohmann::json{{"error", message}, {"exit_code", code}}.dump());
  ctx.fail_job(message, code);
}

template <typename Body>
nlohmann::json fail_fast(cluster::RunContext& ctx, bool json, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const cluster::Preempted&) {
    throw;
  } catch (const Error& e) {
    fail_with_peers(ctx, json, e.what(), e.exit_code());
    throw;
  } catch (const std::exception& e) {
    fail_with_peers(ctx, json, std::string("internal error: ") + e.what(), kExitFailure);
    throw;
  }
}

}  // namespace llmsrec::app
