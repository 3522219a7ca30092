#include "trainer/teacher_train.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/run_section.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/teacher_config.h"
#include "models/sasrec/sasrec_model.h"
#include "trainer/adam.h"
#include "trainer/teacher_checkpoint.h"
#include "trainer/teacher_eval.h"
#include "trainer/teacher_sampler.h"

// OpenBLAS's thread control, when libtorch's BLAS is OpenBLAS (weak: absent otherwise).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace llmsrec::trainer {

using models::sasrec::DropoutMasks;
using models::sasrec::SasrecModel;
using models::sasrec::SasrecShape;

uint64_t teacher_seed(const TeacherSections& cfg) {
  return static_cast<uint64_t>(cfg.teacher.seed >= 0 ? cfg.teacher.seed : cfg.run.seed);
}

int64_t teacher_threads(const TeacherSections& cfg) {
  int64_t t = cfg.teacher.threads > 0 ? cfg.teacher.threads : cfg.run.threads;
  if (t <= 0) t = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return t;
}

void apply_teacher_threads(const TeacherSections& cfg) {
  at::set_num_threads(static_cast<int>(teacher_threads(cfg)));
  if (openblas_set_num_threads) openblas_set_num_threads(1);
}

namespace {

SasrecShape shape_of(const TeacherConfig& t, int64_t num_items) {
  SasrecShape s;
  s.num_items = num_items;
  s.hidden = t.hidden;
  s.maxlen = t.maxlen;
  s.blocks = t.blocks;
  s.heads = t.heads;
  s.dropout = t.dropout;
  s.mask_padding_keys = t.mask_padding_keys;
  s.attn_out_proj = t.attn_out_proj;
  parse_block_style(t.block, &s.block);  // the config validated the name
  return s;
}

void check_same_shape(const SasrecShape& a, const SasrecShape& b, const std::string& path) {
  if (a.num_items != b.num_items || a.hidden != b.hidden || a.maxlen != b.maxlen || a.blocks != b.blocks ||
      a.heads != b.heads || a.mask_padding_keys != b.mask_padding_keys || a.attn_out_proj != b.attn_out_proj ||
      a.block != b.block) {
    throw ConfigError(fmt::format("--resume: '{}' holds a teacher of another shape (items {}, hidden {}, maxlen {}, "
                                  "blocks {}, heads {}) than the config (items {}, hidden {}, maxlen {}, blocks {}, "
                                  "heads {}); remove it or fix the config",
                                  path, b.num_items, b.hidden, b.maxlen, b.blocks, b.heads, a.num_items, a.hidden,
                                  a.maxlen, a.blocks, a.heads));
  }
}

std::vector<at::Tensor> copy_params(const SasrecModel& m) {
  std::vector<at::Tensor> out;
  for (const auto& [n, t] : m.params()) out.push_back(t.detach().clone());
  return out;
}

// One optimizer step on a prepared batch; returns the loss.
double train_step(SasrecModel& model, Adam& adam, TeacherBatch& b, double l2_emb) {
  const int64_t n = static_cast<int64_t>(b.rows.size());
  at::Tensor seq = at::from_blob(b.seq.data(), {b.batch, b.len}, at::kLong);
  at::Tensor rows = at::from_blob(b.rows.data(), {n}, at::kLong);
  at::Tensor pos = at::from_blob(b.pos.data(), {n}, at::kLong);
  at::Tensor neg = at::from_blob(b.neg.data(), {n}, at::kLong);
  DropoutMasks masks;
  if (!b.dropout.empty()) {
    masks = DropoutMasks::view(at::from_blob(b.dropout.data(), {static_cast<int64_t>(b.dropout.size())}, at::kFloat),
                               model.shape(), b.batch, b.len);
  }
  at::Tensor loss = model.bce_loss(seq, rows, pos, neg, b.dropout.empty() ? nullptr : &masks, l2_emb);
  loss.backward();
  adam.step();
  return loss.item<double>();
}

}  // namespace

nlohmann::json train_teacher(const TeacherSections& cfg, const data::Dataset& ds, const TeacherTrainOptions& opt) {
  const TeacherConfig& tc = cfg.teacher;
  const uint64_t seed = teacher_seed(cfg);
  apply_teacher_threads(cfg);
  const SasrecShape shape = shape_of(tc, ds.num_items());
  const std::string ckpt_path = cfg.run.output_path(tc.output);
  const std::string metrics_path = cfg.run.output_path(tc.metrics);
  std::filesystem::create_directories(cfg.run.dir);

  SasrecModel model(shape);
  model.init(seed);
  std::vector<at::Tensor> params;
  for (const auto& [n, t] : model.params()) params.push_back(t);
  Adam adam(params, {tc.lr, tc.beta1, tc.beta2, 1e-8});
  std::vector<at::Tensor> best = copy_params(model);
  TeacherMeta meta;
  meta.seed = seed;
  meta.config = cfg.run.resolved_yaml;
  if (opt.resume && std::filesystem::exists(ckpt_path)) {
    check_same_shape(shape, read_teacher_shape(ckpt_path), ckpt_path);
    meta = load_teacher(ckpt_path, model, &best, &adam);
    if (meta.seed != seed) {
      throw ConfigError(fmt::format("--resume: '{}' was trained with seed {}, the config says {}", ckpt_path, meta.seed,
                                    seed));
    }
    meta.config = cfg.run.resolved_yaml;
    LOG_INFO("teacher: resuming from {} after epoch {} (step {})", ckpt_path, meta.epoch, meta.steps);
  } else if (opt.resume) {
    LOG_WARN("teacher: --resume but {} does not exist; starting from scratch", ckpt_path);
  }
  model.set_requires_grad(true);

  std::ofstream jsonl(metrics_path, meta.epoch > 0 ? std::ios::app : std::ios::trunc);
  if (!jsonl) throw IoError(fmt::format("cannot open metrics file '{}'", metrics_path));

  SamplerOptions so;
  so.shape = shape;
  so.batch = tc.batch;
  so.seed = seed;
  so.workers = tc.sampler_threads;
  so.queue = tc.queue_batches;
  so.permutation = tc.user_sampling == "permutation";
  TeacherSampler sampler(ds, so, meta.epoch + 1, tc.epochs);
  const int64_t per_epoch = sampler.batches_per_epoch();
  LOG_INFO("teacher: {} users ({} trainable), {} items, {} batches/epoch, epochs {}..{}, {} threads", ds.num_users(),
           trainable_users(ds).size(), ds.num_items(), per_epoch, meta.epoch + 1, tc.epochs, at::get_num_threads());

  TeacherEvalOptions eo;
  eo.protocol = tc.eval_protocol;
  eo.full_ranking = tc.eval_full;
  eo.users_cap = tc.eval_users;
  eo.seed = seed;
  auto evaluate_both = [&](int64_t round) {
    eo.round = round;
    nlohmann::json j;
    j["valid"] = evaluate_teacher(model, ds, EvalSplit::kValid, eo).to_json();
    j["test"] = evaluate_teacher(model, ds, EvalSplit::kTest, eo).to_json();
    return j;
  };

  double train_seconds = 0, last_loss = 0;
  int64_t epochs_run = 0;
  nlohmann::json last_eval;
  int64_t last_eval_epoch = -1;
  const int64_t start_epoch = meta.epoch + 1;
  for (int64_t epoch = start_epoch; epoch <= tc.epochs; ++epoch) {
    if (opt.progress) opt.progress->start(fmt::format("teacher epoch {}/{}", epoch, tc.epochs), per_epoch, "batch");
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    for (int64_t i = 0; i < per_epoch; ++i) {
      auto b = sampler.next();
      LLMSREC_ASSERT(b && b->epoch == epoch && b->index == i, "sampler out of order");
      loss_sum += train_step(model, adam, *b, tc.l2_emb);
      if (opt.progress) opt.progress->advance(1);
    }
    if (opt.progress) opt.progress->finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    train_seconds += secs;
    ++epochs_run;
    last_loss = loss_sum / static_cast<double>(per_epoch);
    meta.epoch = epoch;
    meta.steps = adam.steps();

    nlohmann::json line = {{"epoch", epoch}, {"loss", last_loss}, {"seconds", secs}, {"steps", adam.steps()}};
    const bool eval_now = (tc.eval_every > 0 && epoch % tc.eval_every == 0) || (epoch == tc.epochs && opt.final_eval);
    if (eval_now) {
      nlohmann::json ev = evaluate_both(epoch);
      line["valid"] = ev["valid"];
      line["test"] = ev["test"];
      last_eval = ev;
      last_eval_epoch = epoch;
      const double v = ev["valid"]["ndcg@10"].get<double>();
      if (v > meta.best_valid_ndcg10) {
        meta.best_valid_ndcg10 = v;
        meta.best_epoch = epoch;
        best = copy_params(model);
      }
      meta.history.push_back(line);
      LOG_INFO("teacher epoch {}: loss {:.4f}, {:.2f} s; valid NDCG@10 {:.4f} HR@10 {:.4f}; test NDCG@10 {:.4f} HR@10 {:.4f}",
               epoch, last_loss, secs, ev["valid"]["ndcg@10"].get<double>(), ev["valid"]["hr@10"].get<double>(),
               ev["test"]["ndcg@10"].get<double>(), ev["test"]["hr@10"].get<double>());
    } else {
      LOG_INFO("teacher epoch {}: loss {:.4f}, {:.2f} s", epoch, last_loss, secs);
    }
    jsonl << line.dump() << "\n";
    jsonl.flush();
    if (meta.best_epoch == 0) best = copy_params(model);  // no evaluation yet: best = last
    const bool save_now = (tc.save_every > 0 && epoch % tc.save_every == 0) || epoch == tc.epochs;
    if (opt.write_checkpoint && save_now) save_teacher(ckpt_path, meta, model, best, &adam);
  }

  nlohmann::json summary;
  summary["epochs"] = meta.epoch;
  summary["epochs_run"] = epochs_run;
  summary["seconds_per_epoch"] = epochs_run > 0 ? train_seconds / static_cast<double>(epochs_run) : 0.0;
  summary["loss"] = last_loss;
  summary["best_epoch"] = meta.best_epoch;
  if (opt.final_eval) {
    if (last_eval_epoch != meta.epoch) last_eval = evaluate_both(meta.epoch);
    summary["valid"] = last_eval["valid"];
    summary["test"] = last_eval["test"];
  }
  if (opt.write_checkpoint) summary["checkpoint"] = ckpt_path;
  return summary;
}

}  // namespace llmsrec::trainer
