#include "trainer/llmsrec_model.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"
#include "models/llama/llama_model.h"
#include "models/prompt/prompt_builder.h"
#include "trainer/train_config.h"

namespace llmsrec::trainer {

using models::heads::Activation;
using models::heads::MlpHead;

namespace {
// Head ids for init streams: part of the reproducibility contract.
enum HeadId : uint64_t { kFItem = 1, kFUser = 2, kFItemOut = 3, kFCfUser = 4, kTokens = 5 };

// normal(mean, std) of the LLM's input embedding matrix, as the reference initialises the output tokens.
at::Tensor token_init(const at::Tensor& embed, uint64_t seed, uint64_t which, c10::Device device) {
  at::Tensor e = embed.to(at::kFloat);
  const double mean = e.mean().item<double>(), std = e.std().item<double>();
  core::Rng rng(core::stream_seed(seed, core::Stream::kInit, kTokens, which));
  std::vector<float> v(static_cast<size_t>(e.size(1)));
  for (auto& x : v) x = static_cast<float>(mean + std * rng.normal());
  // clone: from_blob aliases v, and .to() on the same device returns the alias.
  return at::from_blob(v.data(), {e.size(1)}, at::kFloat).clone().to(device).requires_grad_(true);
}
}  // namespace

int64_t constant_prefix(const models::prompt::BuiltPrompt& p) {
  return p.emb_slots.empty() ? p.out_slot : std::min(p.emb_slots.front(), p.out_slot);
}

LlmSrecModel::LlmSrecModel(const models::llama::LlamaModel& llm, at::Tensor teacher_items, const TrainConfig& cfg,
                           uint64_t seed, c10::Device device)
    : llm_(llm), device_(device), teacher_items_(teacher_items.to(device, at::kFloat).contiguous()) {
  const int64_t d_llm = llm.config().hidden_size;
  const int64_t d_teacher = teacher_items_.size(1);
  f_i_ = MlpHead("f_I", d_teacher, d_llm, d_llm, Activation::kLeakyRelu, seed, kFItem, device);
  f_user_ = MlpHead("f_user", d_llm, cfg.user_hidden, cfg.out_dim, Activation::kLeakyRelu, seed, kFUser, device);
  f_item_ = MlpHead("f_item", d_llm, cfg.user_hidden, cfg.out_dim, Activation::kLeakyRelu, seed, kFItemOut, device);
  f_cf_user_ = MlpHead("f_CF-user", d_teacher, cfg.cf_hidden, cfg.out_dim, Activation::kGelu, seed, kFCfUser, device);
  const at::Tensor embed = llm.weights().front();
  user_out_ = token_init(embed, seed, 0, device);
  item_out_ = token_init(embed, seed, 1, device);
}

namespace {
// A prompt's slots must be where its ids are, one per position, one item per [HistoryEmb].
void check_slots(const models::prompt::BuiltPrompt& p, size_t index) {
  const auto bad = [&](const std::string& what) {
    return ShapeError(fmt::format("prompt {} of the batch ({} ids): {}", index, p.ids.size(), what));
  };
  const auto n = static_cast<int64_t>(p.ids.size());
  if (p.emb_slots.size() != p.emb_items.size()) {
    throw bad(fmt::format("{} [HistoryEmb] slots but {} items to inject", p.emb_slots.size(), p.emb_items.size()));
  }
  if (p.out_slot < 0 || p.out_slot >= n) throw bad(fmt::format("output slot {} outside the prompt", p.out_slot));
  std::vector<int64_t> rows = p.emb_slots;
  for (int64_t r : rows) {
    if (r < 0 || r >= n) throw bad(fmt::format("[HistoryEmb] slot {} outside the prompt", r));
  }
  rows.push_back(p.out_slot);
  std::sort(rows.begin(), rows.end());
  if (std::adjacent_find(rows.begin(), rows.end()) != rows.end()) throw bad("two slots at one position");
}
}  // namespace

LlmSrecModel::PackedInput LlmSrecModel::pack(const std::vector<const models::prompt::BuiltPrompt*>& prompts,
                                             bool user) const {
  PackedInput in;
  in.offsets = {0};
  std::vector<int64_t> ids, emb_rows, emb_items;
  for (size_t b = 0; b < prompts.size(); ++b) {
    const auto* p = prompts[b];
    check_slots(*p, b);
    const int64_t base = in.offsets.back();
    in.constant_prefix.push_back(trainer::constant_prefix(*p));
    ids.insert(ids.end(), p->ids.begin(), p->ids.end());
    for (size_t j = 0; j < p->emb_slots.size(); ++j) {
      emb_rows.push_back(base + p->emb_slots[j]);
      emb_items.push_back(p->emb_items[j]);
    }
    in.out_rows.push_back(base + p->out_slot);
    in.offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  const auto index = [this](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).to(device_); };
  at::Tensor x = llm_.embed_tokens(index(ids));  // [T, D], frozen
  at::Tensor item_rows = f_i_.forward(teacher_items_.index_select(0, index(emb_items)));
  at::Tensor token =
      (user ? user_out_ : item_out_).unsqueeze(0).expand({static_cast<int64_t>(in.out_rows.size()), -1});
  std::vector<int64_t> rows = emb_rows;
  rows.insert(rows.end(), in.out_rows.begin(), in.out_rows.end());
  at::Tensor values = at::cat({item_rows, token}, 0).to(llm_.dtype());
  in.embeds = x.index_put({index(rows)}, values);  // out of place: gradients reach `values`
  return in;
}

at::Tensor LlmSrecModel::encode(const std::vector<const models::prompt::BuiltPrompt*>& prompts, bool user) const {
  PackedInput in = pack(prompts, user);
  models::llama::ForwardRequest req;
  req.rows = in.out_rows;
  req.constant_prefix = std::move(in.constant_prefix);
  return llm_.forward(in.embeds, in.offsets, req).hidden.to(at::kFloat);
}

at::Tensor LlmSrecModel::user_vectors(const std::vector<const models::prompt::BuiltPrompt*>& prompts) const {
  return f_user_.forward(encode(prompts, true));
}

at::Tensor LlmSrecModel::item_vectors(const std::vector<const models::prompt::BuiltPrompt*>& prompts) const {
  return f_item_.forward(encode(prompts, false));
}

at::Tensor LlmSrecModel::cf_vectors(const at::Tensor& teacher_users) const {
  return f_cf_user_.forward(teacher_users.to(device_, at::kFloat));
}

std::vector<std::pair<std::string, at::Tensor>> LlmSrecModel::named_parameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const MlpHead* h : {&f_i_, &f_user_, &f_item_, &f_cf_user_}) {
    for (auto& p : h->named_parameters()) out.push_back(std::move(p));
  }
  out.emplace_back("tokens/user_out", user_out_);
  out.emplace_back("tokens/item_out", item_out_);
  return out;
}

std::vector<at::Tensor> LlmSrecModel::parameters() const {
  std::vector<at::Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

}  // namespace llmsrec::trainer
