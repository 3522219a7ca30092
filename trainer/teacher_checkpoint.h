// teacher.h5: the SASRec teacher's checkpoint.
//
//   /                 attrs llmsrec_schema="llmsrec.teacher", schema_version=1, config (resolved YAML),
//                     created_by, epoch, steps, seed, best_epoch, best_valid_ndcg10,
//                     history (JSON: metrics per evaluated epoch), rng (how randomness is keyed),
//                     shape: num_items, hidden, maxlen, blocks, heads, dropout, mask_padding_keys, attn_out_proj
//   /last/<param>     weights after `epoch` epochs (names: models/sasrec SasrecNames)
//   /best/<param>     weights of the best valid NDCG@10 so far (= last before any evaluation)
//   /adam/m/<param>, /adam/v/<param>   Adam moments of `last` (attr steps at the root)
//
// No RNG state is stored because none is carried: every random stream is
// keyed by (seed, epoch, batch), so resuming at `epoch` + 1 replays exactly.
//
//   save_teacher("runs/x/teacher.h5", meta, model, best, &adam);   // atomic
//   auto m = load_teacher_model("runs/x/teacher.h5", "best");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "models/sasrec/sasrec_shape.h"

namespace llmsrec::models::sasrec {
class SasrecModel;
}

namespace llmsrec::trainer {

class Adam;

struct TeacherMeta {
  int64_t epoch = 0;            // epochs completed
  int64_t steps = 0;            // optimizer steps completed
  uint64_t seed = 0;
  int64_t best_epoch = 0;
  double best_valid_ndcg10 = -1;
  nlohmann::json history = nlohmann::json::array();
  std::string config;           // resolved YAML
};

// Writes teacher.h5 atomically. `best` holds tensors in model.params() order.
void save_teacher(const std::string& path, const TeacherMeta& meta, const models::sasrec::SasrecModel& model,
                  const std::vector<at::Tensor>& best, Adam* adam);

// The model shape stored in teacher.h5 (checks the schema).
models::sasrec::SasrecShape read_teacher_shape(const std::string& path);

// Restores meta, the last weights into `model`, best into `best` (resized), and
// Adam moments + steps into `adam` (if not null). Shapes must match.
TeacherMeta load_teacher(const std::string& path, models::sasrec::SasrecModel& model, std::vector<at::Tensor>* best,
                         Adam* adam);

// A model with the `which` weights ("best" | "last") of teacher.h5.
std::unique_ptr<models::sasrec::SasrecModel> load_teacher_model(const std::string& path, const std::string& which);

}  // namespace llmsrec::trainer
