#include "trainer/teacher_config.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::trainer {

void TeacherExportConfig::visit(core::ConfigVisitor& v) {
  v.field("output", output, "targets file, relative to run.dir");
  v.field("all_prefixes", all_prefixes, "also write O_u after every training position (CSR, for auto-regressive training)");
  v.choice("teacher_mode", teacher_mode, {"eval", "train"},
           "eval: dropout off (the representation); train: dropout on, as the Python LLM-SRec reference accidentally does");
  v.choice("weights", weights, {"best", "last"}, "which weights of teacher.h5 to export");
  v.field("batch", batch, "sequences per forward pass");
  v.field("chunk_rows", chunk_rows, "rows per HDF5 chunk and per background-writer queue item");
  v.field("queue_chunks", queue_chunks, "bounded writer queue length (memory = queue_chunks * chunk_rows * hidden floats)");
}

namespace {
void require_positive(const std::string& p, const char* key, int64_t v) {
  if (v <= 0) throw ConfigError(fmt::format("config key '{}.{}': must be > 0, found {}", p, key, v));
}
}  // namespace

void TeacherExportConfig::validate(const std::string& p) const {
  require_positive(p, "batch", batch);
  require_positive(p, "chunk_rows", chunk_rows);
  require_positive(p, "queue_chunks", queue_chunks);
}

void TeacherConfig::visit(core::ConfigVisitor& v) {
  v.field("hidden", hidden, "model width d (item and position embeddings, attention, FFN)");
  v.field("maxlen", maxlen, "sequence slots; longer histories keep their most recent items");
  v.field("blocks", blocks, "self-attention blocks");
  v.field("heads", heads, "attention heads (hidden must be divisible by heads)");
  v.field("dropout", dropout, "dropout rate (embeddings, attention weights, feed-forward)");
  v.field("mask_padding_keys", mask_padding_keys,
          "mask padding slots as attention keys (kang205 TF reference); false = PyTorch port");
  v.choice("block", block, {"q_residual", "post_norm", "pre_norm"},
           "block wiring: q_residual (older PyTorch port: Q = LN(x), x = Q + MHA(Q, x, x)), post_norm (pmixer's "
           "current default), pre_norm (pmixer --norm_first)");
  v.field("attn_out_proj", attn_out_proj, "attention output projection (PyTorch port); false = TF reference");
  v.field("epochs", epochs, "training epochs");
  v.field("lr", lr, "Adam learning rate");
  v.field("beta1", beta1, "Adam beta1");
  v.field("beta2", beta2, "Adam beta2 (SASRec uses 0.98)");
  v.field("batch", batch, "users per step; an epoch is ceil(users / batch) steps");
  v.field("l2_emb", l2_emb, "L2 penalty on the item embedding table: loss += l2_emb * sum(E^2)");
  v.field("eval_every", eval_every, "epochs between evaluations on valid and test (0 = only after the last epoch)");
  v.field("save_every", save_every, "epochs between teacher.h5 writes (always after the last epoch)");
  v.choice("eval_protocol", eval_protocol, {"fixed", "sasrec"},
           "fixed: the negatives of dataset.h5; sasrec: 100 fresh negatives per user, at most eval_users users");
  v.field("eval_users", eval_users, "user cap of the sasrec protocol (the paper uses 10,000)");
  v.field("eval_full", eval_full, "also rank against the full catalogue during training evaluations");
  v.field("seed", seed, "seed of init, sampling and dropout; -1 = run.seed");
  v.field("threads", threads, "libtorch intra-op threads; 0 = run.threads");
  v.choice("user_sampling", user_sampling, {"with_replacement", "permutation"},
           "how a batch picks users: with_replacement (SASRec paper, older PyTorch port) or permutation (each "
           "epoch a seeded shuffle of all users, as pmixer/SASRec.pytorch does today)");
  v.field("sampler_threads", sampler_threads, "worker threads preparing batches (negatives, dropout masks)");
  v.field("queue_batches", queue_batches, "prepared batches kept ahead of the training step");
  v.field("output", output, "teacher checkpoint, relative to run.dir");
  v.field("metrics", metrics, "JSONL metrics (one line per epoch), relative to run.dir");
  v.section("export", export_, "llmsrec teacher export -> targets.h5");
}

void TeacherConfig::validate(const std::string& p) const {
  require_positive(p, "hidden", hidden);
  require_positive(p, "maxlen", maxlen);
  require_positive(p, "blocks", blocks);
  require_positive(p, "heads", heads);
  require_positive(p, "batch", batch);
  require_positive(p, "sampler_threads", sampler_threads);
  require_positive(p, "queue_batches", queue_batches);
  require_positive(p, "eval_users", eval_users);
  if (hidden % heads != 0) {
    throw ConfigError(fmt::format("config key '{}.heads': hidden ({}) must be divisible by heads ({})", p, hidden, heads));
  }
  if (dropout < 0 || dropout >= 1) {
    throw ConfigError(fmt::format("config key '{}.dropout': must be in [0, 1), found {}", p, dropout));
  }
  if (epochs < 0) throw ConfigError(fmt::format("config key '{}.epochs': must be >= 0, found {}", p, epochs));
  if (lr <= 0) throw ConfigError(fmt::format("config key '{}.lr': must be > 0, found {}", p, lr));
  if (eval_every < 0 || save_every < 0) {
    throw ConfigError(fmt::format("config keys '{}.eval_every' and '{}.save_every' must be >= 0", p, p));
  }
}

}  // namespace llmsrec::trainer
