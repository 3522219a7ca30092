// The SASRec teacher's training loop: batches from TeacherSampler (worker
// threads), BCE with one negative per target slot, fused Adam, evaluation on
// valid and test every `eval_every` epochs, best-by-valid-NDCG@10 and last
// weights in teacher.h5 (atomic), one JSONL line per epoch.
//
//   TeacherTrainOptions o;  o.resume = true;
//   nlohmann::json s = train_teacher(cfg, ds, o);
//   // {"epochs", "seconds_per_epoch", "valid": {"ndcg@10", ...}, "test": {...}}
#pragma once

#include "trainer/llmsrec_sections.h"

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "data/dataset.h"


namespace llmsrec::trainer {

struct TeacherTrainOptions {
  bool resume = false;            // continue from teacher.h5's last epoch (exact replay)
  bool write_checkpoint = true;   // false: bench runs
  bool final_eval = true;         // evaluate the final weights (the summary's valid/test)
  core::ProgressReporter* progress = nullptr;  // per-epoch bars; nullptr = none
};

// Effective seed / threads of the teacher section (-1 / 0 fall back to run.*).
uint64_t teacher_seed(const TeacherSections& cfg);
int64_t teacher_threads(const TeacherSections& cfg);
// Applies teacher_threads() to libtorch's intra-op pool and pins OpenBLAS to one
// thread: SASRec's GEMMs are small ([B*L, d] x [d, d]) and OpenBLAS's own
// spinning pool competes with the intra-op threads.
void apply_teacher_threads(const TeacherSections& cfg);

// Trains to cfg.teacher.epochs. Returns the summary above plus "loss" (last
// epoch's mean) and "best_epoch".
nlohmann::json train_teacher(const TeacherSections& cfg, const data::Dataset& ds, const TeacherTrainOptions& opt);

}  // namespace llmsrec::trainer
