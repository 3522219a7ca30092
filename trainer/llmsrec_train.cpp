#include "trainer/llmsrec_train.h"

#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint/checkpoint_store.h"
#include "cluster/run_context.h"
#include "cluster/device_choice.h"
#include "cluster/gradient_fusion.h"
#include "core/error.h"
#include "core/fault_injection.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/run_section.h"
#include "models/llama/llm_config.h"
#include "models/prompt/prompt_config.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/train_config.h"
#include "models/prompt/prompt_builder.h"
#include "sharding/epoch_plan.h"
#include "trainer/llmsrec_eval.h"
#include "trainer/llmsrec_loss.h"
#include "trainer/llmsrec_model.h"
#include "trainer/llmsrec_setup.h"
#include "trainer/adam.h"
#include "trainer/model_flops.h"
#include "trainer/step_profile.h"
#include "models/llama/llama_model.h"

namespace llmsrec::trainer {
namespace {

using Clock = std::chrono::steady_clock;
using models::prompt::BuiltPrompt;

// Where training stands; everything needed to resume exactly.
struct Position {
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;  // next step to run in `epoch`
  int64_t global_step = 0;    // optimizer steps done
  double lr = 0;
  double best_hr10 = -1;
  int64_t bad_validations = 0;
  bool done = false;
  nlohmann::json best_valid = nlohmann::json::object();
};

nlohmann::json to_json(const Position& p) {
  return {{"epoch", p.epoch}, {"step_in_epoch", p.step_in_epoch}, {"global_step", p.global_step}, {"lr", p.lr},
          {"best_hr10", p.best_hr10}, {"bad_validations", p.bad_validations}, {"done", p.done},
          {"best_valid", p.best_valid}};
}

Position position_from(const nlohmann::json& j) {
  Position p;
  p.epoch = j.at("epoch");
  p.step_in_epoch = j.at("step_in_epoch");
  p.global_step = j.at("global_step");
  p.lr = j.at("lr");
  p.best_hr10 = j.at("best_hr10");
  p.bad_validations = j.at("bad_validations");
  p.done = j.at("done");
  p.best_valid = j.at("best_valid");
  return p;
}

// `count` distinct items in 1..num_items, none in `exclude`, keyed by (seed, epoch, user).
std::vector<int32_t> sample_negatives(int64_t num_items, const std::unordered_set<int32_t>& exclude, int64_t count,
                                      uint64_t seed, int64_t epoch, int64_t user) {
  if (num_items - static_cast<int64_t>(exclude.size()) < count) {
    throw DataError(fmt::format("user {} has interacted with too many items to sample {} negatives", user, count));
  }
  core::Rng rng(core::stream_seed(seed, core::Stream::kTrainNegatives, static_cast<uint64_t>(epoch),
                                  static_cast<uint64_t>(user)));
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < count) {
    auto item = static_cast<int32_t>(1 + rng.uniform(static_cast<uint64_t>(num_items)));
    if (exclude.count(item) || std::find(out.begin(), out.end(), item) != out.end()) continue;
    out.push_back(item);
  }
  return out;
}

struct StepOutput {
  LossParts loss;
  int64_t tokens = 0;
  double model_flops = 0;  // the frozen LLM's forward + backward to its inputs (model_flops.h)
};

class Trainer {
 public:
  Trainer(const LlmSrecSections& cfg, cluster::RunContext& ctx, const TrainOptions& opt)
      : cfg_(cfg), tc_(cfg.train), ctx_(ctx), opt_(opt), seed_(static_cast<uint64_t>(cfg.run.seed)),
        setup_(load_llmsrec(cfg, ctx)), named_(setup_.model->named_parameters()), params_(setup_.model->parameters()),
        fusion_(params_), adam_(params_, {.lr = tc_.lr, .beta1 = tc_.beta1, .beta2 = tc_.beta2, .eps = 1e-8,
                        .generic = cfg.llm.kernels == "generic"}),
        store_(cfg.run.dir, static_cast<int>(tc_.keep_checkpoints)) {
    pos_.lr = tc_.lr;
    if (opt_.bench && ctx_.on_cuda()) {
      const c10::Device device = ctx_.device();
      profile_.set_sync([device] { cluster::synchronize_device(device); });
    }
    const data::Dataset& ds = setup_.dataset;
    for (int64_t u = 0; u < ds.num_users(); ++u) {
      if (ds.train_items(u).size() >= 2) train_users_.push_back(u);
    }
    // Validation users: a fixed, seeded subset of the valid candidates' rows.
    std::vector<int64_t> rows(ds.valid.users.size());
    for (size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<int64_t>(r);
    rows = sharding::shuffled(rows, core::stream_seed(seed_, core::Stream::kValidUsers), 0);
    if (static_cast<int64_t>(rows.size()) > tc_.valid_users) rows.resize(static_cast<size_t>(tc_.valid_users));
    std::sort(rows.begin(), rows.end());
    valid_rows_ = rows;
    if (train_users_.empty()) throw DataError("no user has 2 or more training items: nothing to train on");
    // Start-up check: every rank built the same trainables from the same seed.
    ctx_.check_replicas_identical(cluster::parameter_hash(params_), 0, "initial trainable parameters");
  }

  nlohmann::json run() {
    const auto start = Clock::now();
    if (opt_.resume) resume();
    const bool root = ctx_.rank() == 0;
    std::ofstream metrics;
    if (root) {
      std::filesystem::create_directories(cfg_.run.dir);
      metrics.open(std::filesystem::path(cfg_.run.dir) / "metrics.jsonl", std::ios::app);
    }
    int64_t tokens_since = 0, steps_this_run = 0;
    auto last_log = Clock::now();
    // train.max_steps reached: not persisted, so a resume with a higher cap
    // continues, and a resume of a run already at its cap runs no step.
    bool capped = tc_.max_steps > 0 && pos_.global_step >= tc_.max_steps;
    while (!pos_.done && !capped && pos_.epoch < tc_.epochs) {
      sharding::EpochPlan plan(train_users_, seed_, pos_.epoch, ctx_.size(), ctx_.rank(), tc_.batch);
      const int64_t validate_every = std::max<int64_t>(1, plan.steps() / tc_.validations_per_epoch);
      if (root && opt_.progress) opt_.progress->start(fmt::format("epoch {}", pos_.epoch + 1), plan.steps(), "step");
      if (root && opt_.progress && pos_.step_in_epoch > 0) opt_.progress->advance(pos_.step_in_epoch);
      for (; pos_.step_in_epoch < plan.steps(); ++pos_.step_in_epoch) {
        if (ctx_.preemption_agreed()) {
          if (root) save();
          // Collective: no rank exits before the checkpoint is on disk (srun --kill-on-bad-exit
          // would otherwise kill rank 0 mid-write once another rank has exited 3).
          ctx_.host_comm().barrier();
          throw cluster::Preempted(pos_.global_step);
        }
        ctx_.set_step(pos_.global_step);
        core::fail_here_if_injected(ctx_.rank(), pos_.global_step);
        ctx_.set_phase(fmt::format("epoch {} step {}: train", pos_.epoch, pos_.step_in_epoch));
        const auto step_start = Clock::now();
        StepOutput out = step(plan.step(pos_.step_in_epoch));
        // This step alone (forward, backward, all-reduce, optimizer): no validation or checkpoint.
        const double step_ms = 1e3 * std::chrono::duration<double>(Clock::now() - step_start).count();
        profile_.finish_step(out.tokens, out.model_flops);
        ++pos_.global_step;
        if (opt_.bench && pos_.global_step == opt_.bench_warmup_steps) profile_.reset();
        tokens_since += out.tokens;
        if (tc_.param_check_every > 0 && pos_.global_step % tc_.param_check_every == 0) {
          ctx_.check_replicas_identical(cluster::parameter_hash(params_), pos_.global_step, "trainable parameters");
        }
        const double secs = std::chrono::duration<double>(Clock::now() - last_log).count();
        nlohmann::json line = {{"step", pos_.global_step}, {"epoch", pos_.epoch}, {"loss", out.loss.rec + out.loss.distill + out.loss.uniformity},
                               {"rec", out.loss.rec}, {"distill", out.loss.distill}, {"uniformity", out.loss.uniformity},
                               {"lr", pos_.lr}, {"tokens_per_s_rank", secs > 0 ? tokens_since / secs : 0.0},
                               {"step_ms", step_ms}};
        tokens_since = 0;
        last_log = Clock::now();
        publish(line, plan.steps(), ++steps_this_run, start);
        std::optional<PhaseTimer> io(std::in_place, profile_, StepPhase::kCheckpointIo);
        if (root) metrics << line.dump() << "\n" << std::flush;
        io.reset();
        if (root && opt_.progress) opt_.progress->advance(1);

        const bool last_step = pos_.step_in_epoch + 1 == plan.steps();
        capped = tc_.max_steps > 0 && pos_.global_step >= tc_.max_steps;
        if (!opt_.bench && ((pos_.step_in_epoch + 1) % validate_every == 0 || last_step)) {
          nlohmann::json v = validate();
          if (root) metrics << v.dump() << "\n" << std::flush;
          if (pos_.done) { ++pos_.step_in_epoch; break; }
        }
        if (capped) {
          ++pos_.step_in_epoch;
          break;
        }
        if (!opt_.bench && tc_.checkpoint_every > 0 && pos_.global_step % tc_.checkpoint_every == 0 && root) {
          PhaseTimer t(profile_, StepPhase::kCheckpointIo);
          save_next();
        }
      }
      if (root && opt_.progress) opt_.progress->finish();
      if (pos_.step_in_epoch >= plan.steps()) {
        ++pos_.epoch;
        pos_.step_in_epoch = 0;
      }
    }
    if (!capped) pos_.done = true;  // every epoch ran, or early stop
    std::string final_ckpt;
    if (root && !opt_.bench) final_ckpt = save();
    ctx_.host_comm().barrier();
    return {{"steps", pos_.global_step}, {"epochs", pos_.epoch}, {"best_valid", pos_.best_valid},
            {"lr", pos_.lr}, {"checkpoint", final_ckpt}, {"ranks", ctx_.size()},
            {"global_batch", tc_.batch * ctx_.size()},
            {"parameter_hash", fmt::format("{:016x}", cluster::parameter_hash(params_))},
            {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
            {"step_profile", profile_.to_json()},
            {"device", ctx_.device_name()},
            {"llm_hidden_size", setup_.llm->config().hidden_size},
            {"llm_intermediate_size", setup_.llm->config().intermediate_size}};
  }

 private:
  StepOutput step(const sharding::StepSlice& slice) {
    std::optional<PhaseTimer> timer(std::in_place, profile_, StepPhase::kData);
    const data::Dataset& ds = setup_.dataset;
    const int64_t b = static_cast<int64_t>(slice.users.size());
    const int64_t candidates = 1 + tc_.negatives;
    std::vector<BuiltPrompt> user_prompts;
    std::vector<const BuiltPrompt*> item_prompts;
    std::vector<int64_t> users(slice.users.begin(), slice.users.end());
    for (int64_t u : users) {
      data::Span<int32_t> train = ds.train_items(u);
      data::Span<int64_t> ts = {ds.timestamps.data() + ds.offsets[u], train.size()};
      data::Span<int32_t> hist = {train.ptr, train.size() - 1};
      data::Span<int64_t> hist_ts = {ts.ptr, ts.size() - 1};
      user_prompts.push_back(setup_.prompts->user(hist, hist_ts));
      const int32_t target = train.back();
      std::unordered_set<int32_t> exclude(hist.begin(), hist.end());
      exclude.insert(target);
      item_prompts.push_back(&setup_.prompts->item(target));
      for (int32_t n : sample_negatives(ds.num_items(), exclude, tc_.negatives, seed_, pos_.epoch, u)) {
        item_prompts.push_back(&setup_.prompts->item(n));
      }
    }
    const int64_t k = tc_.out_dim;
    StepOutput out;
    LossInputs in;
    at::Tensor user_hidden, item_hidden;
    if (b > 0) {
      std::vector<const BuiltPrompt*> up;
      for (auto& p : user_prompts) {
        up.push_back(&p);
        out.tokens += static_cast<int64_t>(p.ids.size());
      }
      for (auto* p : item_prompts) out.tokens += static_cast<int64_t>(p->ids.size());
      std::vector<SequenceShape> shapes;
      for (const auto& group : {up, item_prompts}) {
        for (const BuiltPrompt* p : group) shapes.push_back({static_cast<int64_t>(p->ids.size()), constant_prefix(*p)});
      }
      out.model_flops = llm_step_flops(setup_.llm->config(), shapes, /*backward=*/true);
      timer.emplace(profile_, StepPhase::kLlmForward);
      user_hidden = setup_.model->encode(up, true);
      item_hidden = setup_.model->encode(item_prompts, false);
      timer.emplace(profile_, StepPhase::kHeads);
      in.user = setup_.model->f_user().forward(user_hidden);
      in.items = setup_.model->f_item().forward(item_hidden).view({b, candidates, k});
      in.cf = setup_.model->cf_vectors(
          setup_.teacher_train_user.index_select(0, at::tensor(users, at::kLong).to(setup_.device)));
    } else {
      timer.emplace(profile_, StepPhase::kHeads);
      const auto on_device = at::TensorOptions().device(setup_.device);
      in.user = at::zeros({0, k}, on_device);
      in.items = at::zeros({0, candidates, k}, on_device);
      in.cf = at::zeros({0, k}, on_device);
    }
    LossNorm norm{slice.global_count, slice.global_offset, ctx_.size()};
    out.loss = llmsrec_loss(in, tc_.loss, norm, &ctx_.dp());
    timer.reset();
    if (out.loss.total.requires_grad()) backward(out.loss.total, user_hidden, item_hidden);
    timer.emplace(profile_, StepPhase::kAllreduce);
    fusion_.allreduce(ctx_.dp(), cluster::ReduceOp::kSum);
    timer.emplace(profile_, StepPhase::kOptimizer);
    if (tc_.optimizer == "sgd") {
      at::NoGradGuard no_grad;
      for (auto& p : params_) {
        if (p.grad().defined()) p.add_(p.grad(), -pos_.lr);
        p.mutable_grad() = at::Tensor();
      }
    } else {
      adam_.set_lr(pos_.lr);
      adam_.step();
    }
    return out;
  }

  // loss.backward(), timed in two parts: the heads (until the first gradient
  // reaches an LLM output) and the frozen LLM (the rest).
  void backward(const at::Tensor& loss, at::Tensor& user_hidden, at::Tensor& item_hidden) {
    profile_.sync();
    const auto start = StepProfile::Clock::now();
    std::optional<StepProfile::Clock::time_point> reached_llm;
    auto mark = [&reached_llm](const at::Tensor&) {
      if (!reached_llm) reached_llm = StepProfile::Clock::now();
    };
    for (at::Tensor* h : {&user_hidden, &item_hidden}) {
      if (h->defined() && h->requires_grad()) h->register_hook(mark);
    }
    loss.backward();
    profile_.sync();
    const auto end = StepProfile::Clock::now();
    const auto split = reached_llm.value_or(end);
    profile_.add(StepPhase::kBackwardHeads, std::chrono::duration<double>(split - start).count());
    profile_.add(StepPhase::kBackwardLlm, std::chrono::duration<double>(end - split).count());
  }

  nlohmann::json validate() {
    ctx_.set_phase(fmt::format("epoch {} step {}: validation", pos_.epoch, pos_.step_in_epoch));
    // Scores and metrics are host work: the item and user vectors come to the
    // host and travel over the host communicator, whatever the backend.
    at::Tensor items = item_table(setup_, ctx_.host_comm(), 32);
    EvalOptions eo;
    eo.split = "valid";
    eo.rows = valid_rows_;
    eo.full_ranking = false;
    EvalResult r = evaluate(setup_, ctx_.host_comm(), items, eo);
    const double hr10 = r.sampled.hr(10);
    if (hr10 > pos_.best_hr10) {
      pos_.best_hr10 = hr10;
      pos_.bad_validations = 0;
      pos_.best_valid = r.sampled.to_json();
      best_params_.clear();
      for (auto& [name, t] : named_) best_params_.emplace_back("best/" + name, t.detach().to(at::kCPU, false, true));
    } else if (++pos_.bad_validations >= tc_.patience) {
      LOG_INFO("early stop: no HR@10 improvement in {} validations (best {:.4f})", pos_.bad_validations, pos_.best_hr10);
      pos_.done = true;
    }
    pos_.lr *= tc_.lr_decay;
    nlohmann::json line = {{"validation", r.sampled.to_json()}, {"step", pos_.global_step}, {"epoch", pos_.epoch},
                           {"best_hr10", pos_.best_hr10}, {"lr_next", pos_.lr}};
    if (ctx_.rank() == 0) {
      LOG_INFO("validation at step {}: HR@10 {:.4f} NDCG@10 {:.4f} ({} users), best HR@10 {:.4f}", pos_.global_step,
               hr10, r.sampled.ndcg(10), r.sampled.users(), pos_.best_hr10);
      if (tc_.checkpoint_every == 0) save_next();
    }
    return line;
  }

  // Live metrics for /metrics (LiveMetrics adds the llmsrec_ prefix): llmsrec_train_loss, ...,
  // llmsrec_epoch and llmsrec_eta_seconds (remaining steps at this run's mean step time).
  void publish(const nlohmann::json& line, int64_t steps_per_epoch, int64_t steps_this_run, Clock::time_point start) {
    auto& m = ctx_.metrics();
    for (const char* key : {"loss", "rec", "distill", "uniformity", "lr", "tokens_per_s_rank", "step_ms"}) {
      m.set(std::string("train_") + key, line.at(key).get<double>());
    }
    m.set("epoch", static_cast<double>(pos_.epoch));
    int64_t total = tc_.epochs * steps_per_epoch;
    if (tc_.max_steps > 0) total = std::min(total, tc_.max_steps);
    const double per_step = std::chrono::duration<double>(Clock::now() - start).count() /
                            static_cast<double>(std::max<int64_t>(1, steps_this_run));
    m.set("eta_seconds", per_step * static_cast<double>(std::max<int64_t>(0, total - pos_.global_step)));
  }

  // Checkpoint of the state AFTER the current step (resume starts at the next one).
  std::string save_next() {
    Position next = pos_;
    ++next.step_in_epoch;
    return save_position(next);
  }
  std::string save() { return save_position(pos_); }

  std::string save_position(const Position& p) {
    checkpoint::TrainingState state;
    for (auto& [name, t] : named_) state.tensors.emplace_back("params/" + name, t);
    for (size_t i = 0; i < named_.size(); ++i) {
      state.tensors.emplace_back("adam/exp_avg/" + named_[i].first, adam_.exp_avg()[i]);
      state.tensors.emplace_back("adam/exp_avg_sq/" + named_[i].first, adam_.exp_avg_sq()[i]);
    }
    for (auto& bp : best_params_) state.tensors.push_back(bp);
    state.meta = to_json(p);
    state.meta["adam_steps"] = adam_.steps();
    state.meta["world"] = ctx_.size();
    state.meta["device"] = ctx_.device_name();
    state.meta["compute_dtype"] = c10::toString(setup_.llm_dtype());
    const std::string path = store_.save(p.global_step, state, cfg_.run.resolved_yaml);
    ctx_.metrics().set("last_checkpoint_step", static_cast<double>(p.global_step));
    return path;
  }

  // The newest checkpoint, or (train.on_corrupt_checkpoint: previous) the newest
  // readable older one when it is damaged; every rank decides alike (same files).
  std::pair<std::string, checkpoint::TrainingState> load_for_resume(const std::string& latest) {
    try {
      return {latest, checkpoint::CheckpointStore::load(latest)};
    } catch (const Error& e) {
      std::vector<std::string> skipped;
      auto previous = store_.newest_readable_before(latest, &skipped);
      for (const auto& why : skipped) LOG_WARN("--resume: also unreadable: {}", why);
      if (!previous) {
        throw IoError(fmt::format("--resume: the newest checkpoint is unreadable and no older one is readable in {}: {}",
                                  cfg_.run.dir, e.what()));
      }
      if (tc_.on_corrupt_checkpoint != "previous") {
        throw IoError(fmt::format("--resume: the newest checkpoint is unreadable: {}. The previous checkpoint '{}' is "
                                  "readable: resume from it with --set train.on_corrupt_checkpoint=previous (the steps "
                                  "after it are trained again), or move the damaged file away",
                                  e.what(), previous->first));
      }
      LOG_WARN("--resume: the newest checkpoint is unreadable ({}); resuming from the previous one, '{}' "
               "(train.on_corrupt_checkpoint: previous)", e.what(), previous->first);
      return std::move(*previous);
    }
  }

  void resume() {
    auto latest = store_.latest_path();
    if (!latest && !store_.list().empty()) {
      // Checkpoints but no usable `latest`: never start fresh over them silently.
      latest = (std::filesystem::path(cfg_.run.dir) / "latest").string();
    } else if (!latest) {
      LOG_INFO("--resume: no checkpoint in {}; starting fresh", cfg_.run.dir);
      return;
    }
    auto [path, state] = load_for_resume(*latest);
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < named_.size(); ++i) {
      const std::string& name = named_[i].first;
      const at::Tensor& saved = state.tensor("params/" + name);
      if (saved.sizes() != named_[i].second.sizes()) {
        throw ShapeError(fmt::format("checkpoint '{}': tensor params/{} has shape [{}] but the model needs [{}]",
                                     path, name, fmt::join(saved.sizes(), ", "),
                                     fmt::join(named_[i].second.sizes(), ", ")));
      }
      named_[i].second.copy_(saved);
      adam_.exp_avg()[i].copy_(state.tensor("adam/exp_avg/" + name));
      adam_.exp_avg_sq()[i].copy_(state.tensor("adam/exp_avg_sq/" + name));
    }
    for (auto& [name, t] : state.tensors) {
      if (name.rfind("best/", 0) == 0) best_params_.emplace_back(name, t.clone());
    }
    adam_.set_steps(state.meta.at("adam_steps"));
    pos_ = position_from(state.meta);
    LOG_INFO("resumed from {} at epoch {} step {} (global step {})", path, pos_.epoch, pos_.step_in_epoch,
             pos_.global_step);
    ctx_.check_replicas_identical(cluster::parameter_hash(params_), pos_.global_step, "resumed parameters");
  }

  const LlmSrecSections& cfg_;
  const TrainConfig& tc_;
  cluster::RunContext& ctx_;
  TrainOptions opt_;
  uint64_t seed_;
  LlmSrecSetup setup_;
  std::vector<std::pair<std::string, at::Tensor>> named_;
  std::vector<at::Tensor> params_;
  cluster::GradientFusion fusion_;
  Adam adam_;
  checkpoint::CheckpointStore store_;
  Position pos_;
  std::vector<int64_t> train_users_, valid_rows_;
  std::vector<std::pair<std::string, at::Tensor>> best_params_;
  StepProfile profile_;
};

}  // namespace

nlohmann::json train_llmsrec(const LlmSrecSections& cfg, cluster::RunContext& ctx, const TrainOptions& options) {
  Trainer trainer(cfg, ctx, options);
  return trainer.run();
}

}  // namespace llmsrec::trainer
