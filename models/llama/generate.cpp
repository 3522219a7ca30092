#include "models/llama/generate.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::models::llama {

namespace {

std::vector<std::vector<float>> to_rows(const at::Tensor& t) {
  at::Tensor f = t.to(at::kFloat).contiguous();
  std::vector<std::vector<float>> out(static_cast<size_t>(f.size(0)));
  const float* p = f.data_ptr<float>();
  for (int64_t r = 0; r < f.size(0); ++r) out[r].assign(p + r * f.size(1), p + (r + 1) * f.size(1));
  return out;
}

at::Tensor ids_tensor(const std::vector<int64_t>& ids) {
  if (ids.empty()) throw ConfigError("no input token ids");
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong));
}

// Index of the largest value; ties go to the lowest index (run.c's argmax).
int64_t argmax_first(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

}  // namespace

GenerateResult greedy_generate(const LlamaModel& model, const std::vector<int64_t>& prompt_ids, int64_t steps,
                               const std::vector<int64_t>& stop_ids) {
  at::NoGradGuard no_grad;
  GenerateResult r;
  r.prompt_ids = prompt_ids;
  std::vector<int64_t> seq = prompt_ids;
  ids_tensor(seq);
  // No KV cache: every step re-runs the whole sequence, asking only for the
  // last row's logits (cheap at the sizes this is used for).
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t n = static_cast<int64_t>(seq.size());
    ForwardRequest req;
    req.rows = {n - 1};
    req.logits = true;
    at::Tensor logits = model.forward(model.embed_tokens(ids_tensor(seq)), {0, n}, req).logits.to(at::kFloat).contiguous();
    const int64_t next = argmax_first(logits.data_ptr<float>(), logits.size(1));
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) {
      r.stopped_by = next;
      break;
    }
    seq.push_back(next);
    r.generated_ids.push_back(next);
  }
  const int64_t n = static_cast<int64_t>(seq.size());
  ForwardRequest all;
  all.logits = true;
  at::Tensor logits = model.forward(model.embed_tokens(ids_tensor(seq)), {0, n}, all).logits.to(at::kFloat);
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  auto [values, indices] = logits.topk(k, 1);
  for (int64_t p = 0; p < n; ++p) {
    std::vector<TopLogit> row;
    for (int64_t j = 0; j < k; ++j) row.push_back({indices[p][j].item<int64_t>(), values[p][j].item<float>()});
    r.top5.push_back(std::move(row));
  }
  return r;
}

std::vector<int64_t> parse_id_list(const std::string& text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0) {
      throw ConfigError(fmt::format("token id list '{}': '{}' is not a non-negative integer", text, item));
    }
    ids.push_back(v);
    start = end + 1;
  }
  return ids;
}

ForwardDump forward_ids(const LlamaModel& model, const std::vector<int64_t>& ids) {
  at::NoGradGuard no_grad;
  ForwardRequest req;
  req.logits = true;
  const int64_t n = static_cast<int64_t>(ids.size());
  ForwardResult out = model.forward(model.embed_tokens(ids_tensor(ids)), {0, n}, req);
  return {to_rows(out.hidden), to_rows(out.logits)};
}

}  // namespace llmsrec::models::llama
