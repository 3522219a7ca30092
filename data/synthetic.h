// Synthetic interactions with a known sequential signal (format: synthetic).
//
// World (from the seed): `topics` topics, each with a name and an ordered
// series of items whose titles are built from the topic ("Astronomy: star
// charts and telescopes, vol. 3"). A sparse Markov chain links topics (each
// topic has three likely successors) and topics have Zipf-like popularity.
// A user starts in a popular topic and, at each step, with stay_prob reads the
// next unread item of the current topic's series (sometimes skipping one),
// with noise_prob a random popular item, and otherwise moves along the chain.
// So the previous item predicts the next one (order carries signal) and titles
// name the topic (text carries meaning). Timestamps are unix seconds.
//
//   data::RawInteractions raw = data::generate_synthetic(cfg.data.synthetic, seed);
#pragma once

#include <cstdint>

#include "data/data_config.h"
#include "data/raw_interactions.h"

namespace llmsrec::data {

// Deterministic in (cfg, seed): the same inputs give the same rows and titles.
RawInteractions generate_synthetic(const SyntheticConfig& cfg, uint64_t seed);

}  // namespace llmsrec::data
