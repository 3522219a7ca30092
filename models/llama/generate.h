// Greedy generation and single-forward probes over token ids, for parity
// checks against other implementations (`llmsrec lm generate` / `lm forward`).
//
//   auto model = models::llama::LlamaModel::load(dir);
//   auto g = models::llama::greedy_generate(model, {1, 403, 407}, /*steps=*/20, /*stop_ids=*/{1});
//   g.generated_ids;  g.top5[0][0].id;   // top-5 logits at every position
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/llama/llama_model.h"

namespace llmsrec::models::llama {

struct TopLogit {
  int64_t id = 0;
  float logit = 0;
};

struct GenerateResult {
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> generated_ids;     // without the stop token
  int64_t stopped_by = -1;                // the stop id that ended generation, or -1
  std::vector<std::vector<TopLogit>> top5;  // per position of prompt + generated
};

// Appends the argmax token up to `steps` times (ties: the lowest id, as run.c).
// Stops early, without appending it, when the argmax is in `stop_ids`.
GenerateResult greedy_generate(const LlamaModel& model, const std::vector<int64_t>& prompt_ids, int64_t steps,
                               const std::vector<int64_t>& stop_ids);

struct ForwardDump {
  std::vector<std::vector<float>> hidden;  // [T][D] final-norm hidden states
  std::vector<std::vector<float>> logits;  // [T][vocab]
};

// "1,2,3" -> {1, 2, 3}; ConfigError naming the bad entry.
std::vector<int64_t> parse_id_list(const std::string& text);

// One forward of a single sequence of ids, everything as float32.
ForwardDump forward_ids(const LlamaModel& model, const std::vector<int64_t>& ids);

}  // namespace llmsrec::models::llama
