#include "trainer/teacher_eval.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"
#include "models/sasrec/sasrec_model.h"
#include "trainer/teacher_inputs.h"

namespace llmsrec::trainer {

const char* split_name(EvalSplit s) { return s == EvalSplit::kValid ? "valid" : "test"; }

nlohmann::json TeacherEvalResult::to_json() const {
  nlohmann::json j = sampled.to_json();
  if (has_full) j["full"] = full.to_json();
  return j;
}

namespace {

// One evaluation row: user, target, candidate negatives.
struct Cases {
  std::vector<int64_t> users;
  std::vector<int32_t> targets;
  std::vector<int32_t> negatives;  // [users, per_user]
  int64_t per_user = 0;
};

Cases fixed_cases(const data::Dataset& ds, EvalSplit split) {
  const data::EvalCandidates& c = split == EvalSplit::kValid ? ds.valid : ds.test;
  return {c.users, c.targets, c.negatives, c.num_negatives};
}

Cases sasrec_cases(const data::Dataset& ds, EvalSplit split, const TeacherEvalOptions& opt) {
  std::vector<int64_t> eligible;
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    const auto target = split == EvalSplit::kValid ? ds.valid_items(u) : ds.test_items(u);
    if (!ds.train_items(u).empty() && !target.empty()) eligible.push_back(u);
  }
  const auto key = (static_cast<uint64_t>(opt.round) << 1) | static_cast<uint64_t>(split);
  core::Rng pick(core::stream_seed(opt.seed, core::Stream::kValidUsers, key));
  const int64_t n = std::min<int64_t>(opt.users_cap, static_cast<int64_t>(eligible.size()));
  for (int64_t i = 0; i < n; ++i) {  // partial Fisher-Yates: n users without replacement
    std::swap(eligible[i], eligible[i + pick.uniform(eligible.size() - i)]);
  }
  eligible.resize(n);
  std::sort(eligible.begin(), eligible.end());

  Cases c;
  c.per_user = opt.negatives;
  c.users = eligible;
  c.negatives.resize(n * opt.negatives);
  const uint64_t num_items = static_cast<uint64_t>(ds.num_items());
  std::vector<int32_t> seen;
  for (int64_t r = 0; r < n; ++r) {
    const int64_t u = c.users[r];
    c.targets.push_back((split == EvalSplit::kValid ? ds.valid_items(u) : ds.test_items(u))[0]);
    auto all = ds.user_items(u);
    seen.assign(all.begin(), all.end());
    std::sort(seen.begin(), seen.end());
    if (static_cast<int64_t>(std::unique(seen.begin(), seen.end()) - seen.begin()) >= ds.num_items()) {
      throw DataError(fmt::format("sasrec evaluation: user {} interacted with every item", u));
    }
    core::Rng rng(core::stream_seed(opt.seed, core::Stream::kEvalNegatives, key | (uint64_t{1} << 62),
                                    static_cast<uint64_t>(u)));
    for (int64_t k = 0; k < opt.negatives; ++k) {
      int32_t neg;
      do {
        neg = static_cast<int32_t>(1 + rng.uniform(num_items));
      } while (std::binary_search(seen.begin(), seen.end(), neg));
      c.negatives[r * opt.negatives + k] = neg;
    }
  }
  return c;
}

}  // namespace

TeacherEvalResult evaluate_teacher(const models::sasrec::SasrecModel& model, const data::Dataset& ds, EvalSplit split,
                                   const TeacherEvalOptions& opt) {
  if (opt.protocol != "fixed" && opt.protocol != "sasrec") {
    throw ConfigError(fmt::format("teacher evaluation: unknown protocol '{}' (fixed | sasrec)", opt.protocol));
  }
  if (model.shape().num_items != ds.num_items()) {
    throw ShapeError(fmt::format("teacher has {} items, dataset has {}", model.shape().num_items, ds.num_items()));
  }
  Cases cases = opt.protocol == "fixed" ? fixed_cases(ds, split) : sasrec_cases(ds, split, opt);
  const TeacherInput input = split == EvalSplit::kValid ? TeacherInput::kTrain : TeacherInput::kTrainValid;
  const int64_t L = model.shape().maxlen, per = cases.per_user, total = static_cast<int64_t>(cases.users.size());

  TeacherEvalResult result;
  result.has_full = opt.full_ranking;
  at::NoGradGuard no_grad;
  at::Tensor item_emb = model.item_emb();
  for (int64_t begin = 0; begin < total; begin += opt.batch) {
    const int64_t B = std::min(opt.batch, total - begin);
    at::Tensor seq = at::empty({B, L}, at::kLong);
    at::Tensor cand = at::empty({B, per + 1}, at::kLong);
    int64_t* sp = seq.data_ptr<int64_t>();
    int64_t* cp = cand.data_ptr<int64_t>();
    for (int64_t r = 0; r < B; ++r) {
      fill_right_aligned(teacher_input(ds, cases.users[begin + r], input), L, sp + r * L);
      cp[r * (per + 1)] = cases.targets[begin + r];
      for (int64_t k = 0; k < per; ++k) cp[r * (per + 1) + 1 + k] = cases.negatives[(begin + r) * per + k];
    }
    at::Tensor o = model.user_repr(seq);  // [B, d]
    at::Tensor scores = at::bmm(item_emb.index_select(0, cand.view({-1})).view({B, per + 1, -1}), o.unsqueeze(-1))
                            .squeeze(-1)
                            .to(at::kFloat)
                            .contiguous();
    const float* sc = scores.data_ptr<float>();
    for (int64_t r = 0; r < B; ++r) result.sampled.add(rank_among_sampled(sc[r * (per + 1)], sc + r * (per + 1) + 1, per));
    if (opt.full_ranking) {
      at::Tensor all = at::matmul(o, item_emb.t()).to(at::kFloat).contiguous();  // [B, I+1]
      const float* ap = all.data_ptr<float>();
      for (int64_t r = 0; r < B; ++r) {
        auto hist = teacher_input(ds, cases.users[begin + r], input);
        result.full.add(rank_among_all(ap + r * (ds.num_items() + 1), ds.num_items(), cases.targets[begin + r],
                                       hist.ptr, hist.len));
      }
    }
  }
  return result;
}

}  // namespace llmsrec::trainer

#include <ATen/Parallel.h>

#include "core/run_section.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/teacher_config.h"
#include "trainer/teacher_checkpoint.h"
#include "trainer/teacher_train.h"

namespace llmsrec::trainer {

nlohmann::json evaluate_teacher_checkpoint(const TeacherSections& cfg, const data::Dataset& ds,
                                           const std::string& teacher_path, const std::string& which,
                                           const std::vector<EvalSplit>& splits, bool with_sasrec) {
  apply_teacher_threads(cfg);
  auto model = load_teacher_model(teacher_path, which);
  nlohmann::json out;
  for (EvalSplit split : splits) {
    TeacherEvalOptions o;
    o.seed = teacher_seed(cfg);
    o.users_cap = cfg.teacher.eval_users;
    o.protocol = "fixed";
    o.full_ranking = true;
    TeacherEvalResult fixed = evaluate_teacher(*model, ds, split, o);
    nlohmann::json j;
    j["fixed"] = fixed.sampled.to_json();
    j["full"] = fixed.full.to_json();
    if (with_sasrec) {
      o.protocol = "sasrec";
      o.full_ranking = false;
      j["sasrec"] = evaluate_teacher(*model, ds, split, o).sampled.to_json();
    }
    out[split_name(split)] = j;
  }
  out["weights"] = which;
  out["teacher"] = teacher_path;
  return out;
}

}  // namespace llmsrec::trainer
