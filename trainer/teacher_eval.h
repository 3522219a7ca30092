// Evaluation of the SASRec teacher on valid or test (leave-last-out):
//  - protocol "fixed": the candidates stored in dataset.h5 (target + its fixed
//    negatives), identical for every model of the project;
//  - protocol "sasrec": the SASRec paper's: at most `users_cap` users drawn at
//    random, each target ranked against 100 fresh negatives not in the user's
//    history (the reference excludes only train items; the difference is
//    negligible). Users and negatives are keyed by (seed, round), so an
//    evaluation is reproducible and each round (epoch) draws new ones.
//  - optionally full ranking against every item except the input history.
// Inputs: valid = train, test = train + valid (last maxlen items). Eval mode.
//
//   TeacherEvalOptions o;  o.protocol = "sasrec";
//   TeacherEvalResult r = evaluate_teacher(model, ds, EvalSplit::kTest, o);
//   r.to_json();  // {"ndcg@10", "hr@10", "ndcg@20", "hr@20", "users", ["full": {...}]}
#pragma once

#include "trainer/llmsrec_sections.h"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "trainer/ranking_metrics.h"

namespace llmsrec::models::sasrec {
class SasrecModel;
}

namespace llmsrec::trainer {

enum class EvalSplit { kValid = 0, kTest = 1 };
const char* split_name(EvalSplit s);

struct TeacherEvalOptions {
  std::string protocol = "fixed";  // fixed | sasrec
  bool full_ranking = false;
  int64_t users_cap = 10000;       // sasrec protocol
  int64_t negatives = 100;         // sasrec protocol
  uint64_t seed = 0;
  int64_t round = 0;               // sasrec protocol: which draw (the epoch during training)
  int64_t batch = 256;             // users per forward
};

struct TeacherEvalResult {
  RankingCounts sampled{20};
  RankingCounts full{20};
  bool has_full = false;
  nlohmann::json to_json() const;
};

TeacherEvalResult evaluate_teacher(const models::sasrec::SasrecModel& model, const data::Dataset& ds, EvalSplit split,
                                   const TeacherEvalOptions& opt);

}  // namespace llmsrec::trainer


namespace llmsrec::trainer {

// `teacher eval`: loads `which` (best|last) weights of teacher.h5 and evaluates
// `splits` with the fixed negatives and full ranking, plus the sasrec protocol
// when `with_sasrec`. Returns {"valid": {"fixed": ..., "full": ..., ["sasrec": ...]}, "test": ...}.
nlohmann::json evaluate_teacher_checkpoint(const TeacherSections& cfg, const data::Dataset& ds,
                                           const std::string& teacher_path, const std::string& which,
                                           const std::vector<EvalSplit>& splits, bool with_sasrec);

}  // namespace llmsrec::trainer
