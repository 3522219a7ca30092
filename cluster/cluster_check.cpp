#include "cluster/cluster_check.h"

#include <ATen/ATen.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cluster/cluster_config.h"
#include "cluster/run_context.h"
#include "core/error.h"
#include "core/log.h"

namespace llmsrec::cluster {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t fnv1a(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < bytes; ++i) { h ^= p[i]; h *= 1099511628211ull; }
  return h;
}

}  // namespace

nlohmann::json run_cluster_check(RunContext& ctx, const ClusterConfig& config, const ClusterCheckOptions& opt) {
  if (opt.steps < 1) throw ConfigError(fmt::format("cluster check: --steps must be >= 1, found {}", opt.steps));
  if (opt.bytes < 4) throw ConfigError(fmt::format("cluster check: --bytes must be >= 4, found {}", opt.bytes));
  const int n = ctx.size();
  const int64_t count = opt.bytes / 4;
  const double bytes = static_cast<double>(count) * 4;
  auto& m = ctx.metrics();
  m.describe("step", "last completed step");
  m.describe("algbw_gbps", "allreduce algorithm bandwidth of the last step, GB/s (nccl-tests definition)");
  m.describe("busbw_gbps", "allreduce bus bandwidth of the last step, GB/s: algbw * 2(n-1)/n");
  m.set("world_size", n);
  m.set("steps_total", static_cast<double>(opt.steps));

  // Each rank contributes rank+1 in every element: the sum is n(n+1)/2 everywhere.
  // On the run's device: the check measures the path gradients take (NCCL on GPUs).
  at::Tensor buffer = at::empty({count}, at::TensorOptions().dtype(at::kFloat).device(ctx.device()));
  const float expected = static_cast<float>(n) * static_cast<float>(n + 1) / 2.0f;
  double total_s = 0, best_busbw = 0;
  const auto started = Clock::now();
  int64_t step = 0;
  for (; step < opt.steps; ++step) {
    const auto step_start = Clock::now();
    ctx.set_phase(fmt::format("cluster check step {}: allreduce {} bytes", step, static_cast<int64_t>(bytes)));
    buffer.fill_(static_cast<float>(ctx.rank() + 1));
    const auto t0 = Clock::now();
    ctx.world().allreduce(buffer, ReduceOp::kSum);  // Collective
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const float got = buffer[count - 1].item<float>();
    if (got != expected) {
      throw CommError(fmt::format("cluster check step {}: allreduce gave {} at the last element, expected {}", step, got,
                                  expected));
    }
    if (config.param_check_every > 0 && (step + 1) % config.param_check_every == 0) {
      ctx.set_phase(fmt::format("cluster check step {}: replica hash", step));
      const at::Tensor host = buffer.cpu();
      ctx.check_replicas_identical(fnv1a(host.data_ptr(), static_cast<size_t>(bytes)), step, "allreduced buffers");
    }
    const double algbw = bytes / secs / 1e9;
    const double busbw = algbw * (n > 1 ? 2.0 * (n - 1) / n : 1.0);
    total_s += secs;
    best_busbw = std::max(best_busbw, busbw);
    ctx.set_phase(fmt::format("cluster check step {}: simulated compute", step));
    const auto pad = std::chrono::milliseconds(opt.step_ms) - (Clock::now() - step_start);
    if (pad.count() > 0) std::this_thread::sleep_for(pad);

    ctx.set_step(step + 1);
    m.set("algbw_gbps", algbw);
    m.set("busbw_gbps", busbw);
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    m.set("eta_seconds", elapsed / static_cast<double>(step + 1) * static_cast<double>(opt.steps - step - 1));
    if (ctx.rank() == 0) {
      LOG_INFO("step {}/{}: allreduce {:.1f} MB in {:.3f} ms, algbw {:.3f} GB/s, busbw {:.3f} GB/s", step + 1,
               opt.steps, bytes / 1e6, secs * 1e3, algbw, busbw);
    }
    ctx.set_phase(fmt::format("cluster check step {}: step boundary (preemption check)", step));
    if (ctx.preemption_agreed()) {  // Collective
      LOG_WARN("preemption signal agreed at step {}: stopping (a trainer writes its checkpoint here)", step + 1);
      throw Preempted(step + 1);
    }
  }
  nlohmann::json table = nlohmann::json::array();
  for (const auto& r : ctx.ranks()) {
    table.push_back({{"rank", r.rank}, {"host", r.host}, {"local_rank", r.local_rank}, {"device", r.device}});
  }
  const double algbw = bytes * static_cast<double>(step) / total_s / 1e9;
  return {{"ranks", table},
          {"backend", ctx.world().backend()},
          {"device", ctx.device_name()},
          {"steps", step},
          {"bytes", static_cast<int64_t>(bytes)},
          {"mean_algbw_gbps", algbw},
          {"mean_busbw_gbps", algbw * (n > 1 ? 2.0 * (n - 1) / n : 1.0)},
          {"best_busbw_gbps", best_busbw},
          {"control_port", ctx.control_port()}};
}

}  // namespace llmsrec::cluster
