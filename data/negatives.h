// Fixed evaluation candidates (stored in dataset.h5 so every model is scored
// on the same ones): for each user with a valid (or test) item, the target is
// the first item of that range and `num_negatives` items are drawn uniformly
// without replacement from the items the user NEVER interacted with (whole
// sequence, so neither the target nor any train/valid/test item can appear).
// Randomness is keyed by (seed, split, user) through core::stream_seed: the
// result does not depend on processing order.
//
//   ds.valid = data::sample_eval_candidates(ds, data::EvalSplit::kValid, 99, seed);
#pragma once

#include <cstdint>

#include "data/dataset.h"

namespace llmsrec::data {

enum class EvalSplit : uint64_t { kValid = 1, kTest = 2 };

// Throws DataError when a user has fewer never-seen items than `num_negatives`
// (names the user and the counts; lower data.eval_negatives). Rows are users
// in increasing order.
EvalCandidates sample_eval_candidates(const Dataset& ds, EvalSplit split, int64_t num_negatives, uint64_t seed);

}  // namespace llmsrec::data
