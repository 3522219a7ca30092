// `llmsrec teacher export`: teacher.h5 -> targets.h5, the teacher's outputs
// that LLM-SRec distils from and projects into the LLM.
//
//   /                       attrs llmsrec_schema="llmsrec.targets", schema_version=1, config, created_by,
//                           teacher (source path), weights (best|last), teacher_mode (eval|train),
//                           hidden, maxlen, num_users, num_items, all_prefixes
//   /items/embedding        float32 [I+1, d]  raw item table E (not scaled by sqrt(d)); row 0 = padding
//   /users/train_length     int64 [U]         train items per user
//   /users/o_train_minus_last  float32 [U, d] O_u on train[:-1]  (LLM-SRec's training target)
//   /users/o_train          float32 [U, d]    O_u on train       (validation input)
//   /users/o_train_valid    float32 [U, d]    O_u on train+valid (test input)
//   /prefixes/offsets       int64 [U+1]       (all_prefixes) CSR: user u owns rows [offsets[u], offsets[u+1]),
//                                             one per train item, in dataset.h5's order
//   /prefixes/o             float32 [P, d]    row offsets[u] + j = O_u on train[:j+1]
//
// O_u = the last slot after the final LayerNorm, on the last maxlen items
// right-aligned. A user whose input is empty gets the all-padding output (see
// train_length). teacher_mode "eval" turns dropout off; "train" keeps it on with
// masks keyed by (seed, input, batch), only to reproduce the Python reference.
// Rows are computed in batches and written by a background thread in chunks
// of export.chunk_rows through a bounded queue, so memory stays bounded.
//
//   nlohmann::json s = export_teacher(cfg, ds, "runs/x/teacher.h5", "runs/x/targets.h5");
#pragma once

#include "trainer/llmsrec_sections.h"

#include <string>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "data/dataset.h"


namespace llmsrec::trainer {

nlohmann::json export_teacher(const TeacherSections& cfg, const data::Dataset& ds, const std::string& teacher_path,
                              const std::string& targets_path, core::ProgressReporter* progress = nullptr);

}  // namespace llmsrec::trainer
