// Config section `teacher`: the SASRec teacher (model shape, training,
// evaluation, export). Defaults are LLM-SRec's teacher; configs/sasrec_video.yaml
// holds the SASRec paper's settings (hidden 50, maxlen 50, dropout 0.5).
//
//   teacher:
//     hidden: 50
//     maxlen: 50
//     dropout: 0.5
//     export: {all_prefixes: true}
#pragma once

#include <string>

#include "core/config.h"

namespace llmsrec::trainer {

struct TeacherExportConfig : core::ConfigSection {
  std::string output = "targets.h5";  // under run.dir
  bool all_prefixes = false;          // also O_u after every training position (auto-regressive targets)
  // eval: dropout off (what the representation means). train: dropout on, as
  // the Python LLM-SRec reference accidentally does (it never calls .eval() on
  // the teacher); only for reproducing that reference.
  std::string teacher_mode = "eval";
  std::string weights = "best";       // best (by valid NDCG@10) | last
  int64_t batch = 256;                // sequences per forward
  int64_t chunk_rows = 4096;          // rows per HDF5 chunk and per writer queue item
  int64_t queue_chunks = 4;           // bounded writer queue (memory = queue_chunks * chunk_rows * hidden floats)

  void visit(core::ConfigVisitor& v) override;
  void validate(const std::string& path) const override;
};

struct TeacherConfig : core::ConfigSection {
  // Model.
  int64_t hidden = 64;           // embedding / model width d
  int64_t maxlen = 128;          // sequence slots (most recent item in the last one)
  int64_t blocks = 2;            // self-attention blocks
  int64_t heads = 1;             // attention heads (hidden % heads == 0)
  double dropout = 0.1;          // dropout rate everywhere (embeddings, attention weights, FFN)
  bool mask_padding_keys = false;  // kang205 (TF) masks padding keys; the PyTorch port does not
  std::string block = "q_residual";  // q_residual | post_norm | pre_norm (models/sasrec/sasrec_shape.h)
  bool attn_out_proj = true;       // PyTorch nn.MultiheadAttention has an output projection; TF has none
  // Training.
  int64_t epochs = 200;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.98;
  int64_t batch = 128;           // users per step
  double l2_emb = 0.0;           // loss += l2_emb * sum(E^2)
  int64_t eval_every = 20;       // epochs between evaluations (0 = only at the end)
  int64_t save_every = 10;       // epochs between teacher.h5 writes (also written after the last epoch)
  std::string eval_protocol = "fixed";   // fixed: dataset.h5 negatives | sasrec: 100 fresh negatives, <= 10,000 users
  int64_t eval_users = 10000;    // user cap of the sasrec protocol
  bool eval_full = false;        // also full ranking during training evaluations
  int64_t seed = -1;             // -1 = run.seed
  int64_t threads = 0;           // libtorch intra-op threads; 0 = run.threads
  int64_t sampler_threads = 1;   // batch-preparing worker threads
  int64_t queue_batches = 8;     // prepared batches kept ahead of the step
  std::string user_sampling = "with_replacement";  // with_replacement | permutation (see teacher_sampler.h)
  std::string output = "teacher.h5";            // under run.dir
  std::string metrics = "teacher_metrics.jsonl"; // under run.dir
  TeacherExportConfig export_;

  void visit(core::ConfigVisitor& v) override;
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::trainer
