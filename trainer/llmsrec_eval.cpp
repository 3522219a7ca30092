#include "trainer/llmsrec_eval.h"

#include <ATen/ATen.h>

#include <algorithm>

#include <fmt/format.h>

#include "cluster/communicator.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/prompt/prompt_builder.h"
#include "trainer/llmsrec_model.h"
#include "trainer/llmsrec_setup.h"

namespace llmsrec::trainer {
namespace {

using models::prompt::BuiltPrompt;

// Rows [begin, end) of `n` that rank r of `world` handles (contiguous blocks).
std::pair<int64_t, int64_t> block_of(int64_t n, int rank, int world) {
  const int64_t per = (n + world - 1) / world;
  const int64_t begin = std::min(n, per * rank);
  return {begin, std::min(n, begin + per)};
}

// Collective: concatenates equal-width row blocks from every rank (blocks may
// be shorter than `per_rank`; they are padded for the allgather and trimmed).
at::Tensor gather_blocks(cluster::Communicator& comm, const at::Tensor& local, int64_t per_rank, int64_t total) {
  at::Tensor padded = at::zeros({per_rank, local.size(1)}, at::kFloat);
  if (local.size(0) > 0) padded.narrow(0, 0, local.size(0)).copy_(local);
  at::Tensor all = comm.allgather(padded).reshape({-1, local.size(1)});
  return all.narrow(0, 0, total).contiguous();
}

const data::EvalCandidates& candidates_of(const data::Dataset& ds, const std::string& split) {
  if (split == "valid") return ds.valid;
  if (split == "test") return ds.test;
  throw ConfigError(fmt::format("evaluation split must be 'valid' or 'test', found '{}'", split));
}

}  // namespace

nlohmann::json EvalResult::to_json() const {
  return {{"sampled", sampled.to_json()}, {"full", full.to_json()}};
}

History history_for(const LlmSrecSetup& s, int64_t u, const std::string& split) {
  const data::Dataset& ds = s.dataset;
  const int64_t begin = ds.offsets[u];
  const int64_t end = split == "test" ? ds.valid_end[u] : ds.train_end[u];
  History h;
  h.items.assign(ds.items.begin() + begin, ds.items.begin() + end);
  h.timestamps.assign(ds.timestamps.begin() + begin, ds.timestamps.begin() + end);
  return h;
}

at::Tensor item_table(const LlmSrecSetup& s, cluster::Communicator& comm, int64_t batch) {
  at::NoGradGuard no_grad;
  const int64_t n = s.dataset.num_items();
  auto [begin, end] = block_of(n, comm.rank(), comm.size());
  std::vector<at::Tensor> parts;
  for (int64_t i = begin; i < end; i += batch) {
    std::vector<const BuiltPrompt*> prompts;
    for (int64_t j = i; j < std::min(end, i + batch); ++j) prompts.push_back(&s.prompts->item(static_cast<int32_t>(j + 1)));
    parts.push_back(s.model->item_vectors(prompts).cpu());
  }
  const int64_t dim = s.model->f_item().named_parameters()[4].second.size(0);
  at::Tensor local = parts.empty() ? at::zeros({0, dim}) : at::cat(parts, 0);
  at::Tensor table = gather_blocks(comm, local, (n + comm.size() - 1) / comm.size(), n);
  return at::cat({at::zeros({1, dim}), table}, 0);  // row 0 = padding
}

at::Tensor user_vectors(const LlmSrecSetup& s, cluster::Communicator& comm, const std::vector<int64_t>& users,
                        const std::string& split, int64_t batch, bool raw_hidden) {
  at::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(users.size());
  auto [begin, end] = block_of(n, comm.rank(), comm.size());
  std::vector<at::Tensor> parts;
  for (int64_t i = begin; i < end; i += batch) {
    std::vector<BuiltPrompt> built;
    for (int64_t j = i; j < std::min(end, i + batch); ++j) {
      History h = history_for(s, users[static_cast<size_t>(j)], split);
      built.push_back(s.prompts->user({h.items.data(), static_cast<int64_t>(h.items.size())},
                                      {h.timestamps.data(), static_cast<int64_t>(h.timestamps.size())}));
    }
    std::vector<const BuiltPrompt*> ptrs;
    for (auto& b : built) ptrs.push_back(&b);
    parts.push_back((raw_hidden ? s.model->encode(ptrs, true) : s.model->user_vectors(ptrs)).cpu());
  }
  const int64_t dim = raw_hidden ? s.llm_hidden_size() : s.model->f_user().named_parameters()[4].second.size(0);
  at::Tensor local = parts.empty() ? at::zeros({0, dim}) : at::cat(parts, 0);
  return gather_blocks(comm, local, (n + comm.size() - 1) / comm.size(), n);
}

EvalResult evaluate(const LlmSrecSetup& s, cluster::Communicator& comm, const at::Tensor& items,
                    const EvalOptions& opt) {
  at::NoGradGuard no_grad;
  const data::EvalCandidates& cand = candidates_of(s.dataset, opt.split);
  std::vector<int64_t> rows = opt.rows;
  if (rows.empty()) {
    rows.resize(cand.users.size());
    for (size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<int64_t>(r);
  }
  EvalResult result;
  // Interleaved rows: rank r scores rows r, r+world, ...
  std::vector<int64_t> mine;
  for (size_t k = static_cast<size_t>(comm.rank()); k < rows.size(); k += static_cast<size_t>(comm.size())) {
    mine.push_back(rows[k]);
  }
  for (size_t i = 0; i < mine.size(); i += static_cast<size_t>(opt.batch)) {
    const size_t stop = std::min(mine.size(), i + static_cast<size_t>(opt.batch));
    std::vector<BuiltPrompt> built;
    std::vector<History> hist;
    for (size_t k = i; k < stop; ++k) {
      const int64_t u = cand.users[static_cast<size_t>(mine[k])];
      History h = history_for(s, u, opt.split);
      if (opt.shuffle_history) {
        // Permute the items the prompt shows; their dates and numbers stay in place.
        const int64_t shown = std::min<int64_t>(static_cast<int64_t>(h.items.size()), s.prompt_history_items());
        core::Rng rng(core::stream_seed(opt.seed, core::Stream::kShuffle, static_cast<uint64_t>(u), 0x5e1));
        auto first = h.items.end() - shown;
        for (int64_t j = shown; j > 1; --j) std::swap(first[j - 1], first[static_cast<int64_t>(rng.uniform(j))]);
      }
      built.push_back(s.prompts->user({h.items.data(), static_cast<int64_t>(h.items.size())},
                                      {h.timestamps.data(), static_cast<int64_t>(h.timestamps.size())}));
      hist.push_back(std::move(h));
    }
    std::vector<const BuiltPrompt*> ptrs;
    for (auto& b : built) ptrs.push_back(&b);
    at::Tensor u_vec = s.model->user_vectors(ptrs);           // [b, k]
    at::Tensor all_scores = at::matmul(u_vec, items.t());     // [b, I+1]
    for (size_t k = i; k < stop; ++k) {
      const auto row = static_cast<size_t>(mine[k]);
      const float* sc = all_scores[static_cast<int64_t>(k - i)].data_ptr<float>();
      const int32_t target = cand.targets[row];
      data::Span<int32_t> negs = cand.negatives_of(static_cast<int64_t>(row));
      std::vector<float> neg_scores(static_cast<size_t>(negs.size()));
      for (int64_t j = 0; j < negs.size(); ++j) neg_scores[static_cast<size_t>(j)] = sc[negs[j]];
      result.sampled.add(rank_among_sampled(sc[target], neg_scores.data(), negs.size()));
      if (opt.full_ranking) {
        const History& h = hist[k - i];
        std::vector<int32_t> excluded;
        for (int32_t it : h.items) if (it != target) excluded.push_back(it);
        result.full.add(rank_among_all(sc, s.dataset.num_items(), target, excluded.data(),
                                       static_cast<int64_t>(excluded.size())));
      }
    }
  }
  // Exact reduction: rank histograms and user counts.
  for (RankingCounts* c : {&result.sampled, &result.full}) {
    std::vector<int64_t> buf = c->rank_histogram();
    buf.push_back(c->users());
    comm.allreduce(buf.data(), static_cast<int64_t>(buf.size()), cluster::ReduceOp::kSum);
    RankingCounts merged(c->max_k());
    merged.set_counts(std::vector<int64_t>(buf.begin(), buf.end() - 1), buf.back());
    *c = merged;
  }
  return result;
}

}  // namespace llmsrec::trainer
