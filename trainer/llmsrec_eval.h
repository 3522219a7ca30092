// Sharded LLM-SRec evaluation. Every item is encoded once per evaluation (the
// item table f_item(h_i), split over ranks and all-gathered), then each rank
// scores its share of the users against the fixed candidates of dataset.h5
// (1 target + 99 negatives) and against the whole catalogue; metric counts are
// reduced exactly (integer rank histograms, not averages of averages).
//
//   at::Tensor table = trainer::item_table(setup, comm, 64);                 // Collective
//   trainer::EvalResult r = trainer::evaluate(setup, comm, table, {.split = "test"});  // Collective
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/ranking_metrics.h"

namespace llmsrec::cluster {
class Communicator;
}

namespace llmsrec::trainer {

struct LlmSrecSetup;

struct EvalOptions {
  std::string split = "valid";        // valid: history = train; test: history = train + valid
  std::vector<int64_t> rows;          // rows of the split's candidates to score (empty = all)
  bool full_ranking = true;           // also rank the target among every item
  bool shuffle_history = false;       // permute the shown items (titles + embeddings); numbering and dates stay
  int64_t batch = 32;                 // prompts per LLM forward
  uint64_t seed = 0;                  // for shuffle_history
};

struct EvalResult {
  RankingCounts sampled{20};  // target vs the fixed negatives
  RankingCounts full{20};     // target vs all items (history excluded)
  nlohmann::json to_json() const;
};

// Collective over `comm`, which carries host tensors (the run context's
// host_comm(): MPI, or local): vectors come off the device, scores and metrics
// are host work. f_item(h_i) for every item: [I+1, out_dim] on the host, row 0 zeros.
at::Tensor item_table(const LlmSrecSetup& s, cluster::Communicator& comm, int64_t batch);

// Collective. Uses the fixed candidates of dataset.h5 for the split.
EvalResult evaluate(const LlmSrecSetup& s, cluster::Communicator& comm, const at::Tensor& items,
                    const EvalOptions& options);

// Collective. f_user(h_u) of `users` (any order) on the split's input history: [n, out_dim].
// Every rank gets all rows.
at::Tensor user_vectors(const LlmSrecSetup& s, cluster::Communicator& comm, const std::vector<int64_t>& users,
                        const std::string& split, int64_t batch, bool raw_hidden = false);

// The input history of `u` for a split: valid -> train items, test -> train + valid items.
struct History {
  std::vector<int32_t> items;
  std::vector<int64_t> timestamps;
};
History history_for(const LlmSrecSetup& s, int64_t u, const std::string& split);

}  // namespace llmsrec::trainer
