// trainer::LlmSrecModel::pack, the slot injection of the prompt encoder: the
// LLM's input rows at [HistoryEmb] slots are f_I(E_item) of the slot's item,
// the output slot holds [UserOut] / [ItemOut], every other row is the frozen
// token embedding; gradients reach f_I and the tokens; a prompt whose slots do
// not match its ids is a ShapeError naming the prompt. A real tiny LLaMA
// (write_tiny_llama) and a real PromptBuilder prompt.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"
#include "models/llama/llama_model.h"
#include "models/llama/tiny_llama.h"
#include "models/llama/tokenizer.h"
#include "models/prompt/prompt_builder.h"
#include "trainer/llmsrec_model.h"
#include "trainer/train_config.h"

namespace llmsrec::trainer {
namespace {

namespace fs = std::filesystem;
using models::prompt::BuiltPrompt;

class SlotInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmsrec_slots_" + std::to_string(::getpid()));
    models::llama::TinyLlamaOptions o;
    o.seed = 5;
    o.dim = 16;
    o.heads = 2;
    o.kv_heads = 1;
    o.hidden_dim = 24;
    o.vocab = 300;
    o.with_tokenizer = false;
    models::llama::write_tiny_llama(dir_.string(), o);
    llm_ = std::make_unique<models::llama::LlamaModel>(models::llama::LlamaModel::load(dir_.string()));
    at::manual_seed(11);
    teacher_items_ = at::randn({5, 4});  // items 1..4, row 0 = padding
    cfg_.user_hidden = 8;
    cfg_.out_dim = 4;
    cfg_.cf_hidden = 8;
    model_ = std::make_unique<LlmSrecModel>(*llm_, teacher_items_, cfg_, 7, c10::Device(c10::kCPU));
  }
  void TearDown() override { fs::remove_all(dir_); }

  at::Tensor param(const std::string& name) const {
    for (auto& [n, t] : model_->named_parameters()) {
      if (n == name) return t;
    }
    ADD_FAILURE() << "no parameter " << name;
    return {};
  }
  at::Tensor f_i(int64_t item) const { return model_->f_i().forward(teacher_items_[item].unsqueeze(0))[0]; }

  fs::path dir_;
  std::unique_ptr<models::llama::LlamaModel> llm_;
  at::Tensor teacher_items_;
  TrainConfig cfg_;
  std::unique_ptr<LlmSrecModel> model_;
};

BuiltPrompt prompt(std::vector<int32_t> ids, std::vector<int64_t> slots, std::vector<int32_t> items, int64_t out) {
  BuiltPrompt p;
  p.ids = std::move(ids);
  p.emb_slots = std::move(slots);
  p.emb_items = std::move(items);
  p.out_slot = out;
  return p;
}

TEST_F(SlotInjection, SlotRowsHoldTheInjectedVectorsAndTheRestTheTokenEmbeddings) {
  // Two prompts packed into 8 + 5 rows; the placeholder id at the slots is 0.
  const BuiltPrompt a = prompt({1, 5, 6, 0, 7, 0, 8, 0}, {3, 5}, {2, 4}, 7);
  const BuiltPrompt b = prompt({1, 9, 0, 10, 0}, {2}, {1}, 4);
  for (bool user : {true, false}) {
    const LlmSrecModel::PackedInput in = model_->pack({&a, &b}, user);
    ASSERT_EQ(in.offsets, (std::vector<int64_t>{0, 8, 13}));
    ASSERT_EQ(in.out_rows, (std::vector<int64_t>{7, 12}));
    EXPECT_EQ(in.constant_prefix, (std::vector<int64_t>{3, 2}));
    ASSERT_EQ(in.embeds.sizes(), (std::vector<int64_t>{13, 16}));
    const at::Tensor token = param(user ? "tokens/user_out" : "tokens/item_out");
    const std::vector<int64_t> ids = {1, 5, 6, 0, 7, 0, 8, 0, 1, 9, 0, 10, 0};
    const at::Tensor embedded = llm_->embed_tokens(at::tensor(ids, at::kLong));
    const std::vector<std::pair<int64_t, at::Tensor>> injected = {
        {3, f_i(2)}, {5, f_i(4)}, {7, token}, {10, f_i(1)}, {12, token}};
    std::set<int64_t> slot_rows;
    for (const auto& [row, want] : injected) {
      slot_rows.insert(row);
      EXPECT_TRUE(at::equal(in.embeds[row], want.to(in.embeds.dtype()))) << "row " << row << (user ? " user" : " item");
    }
    for (int64_t r = 0; r < 13; ++r) {
      if (slot_rows.count(r)) continue;
      EXPECT_TRUE(at::equal(in.embeds[r], embedded[r])) << "row " << r << " is not its token embedding";
    }
  }
}

TEST_F(SlotInjection, GradientsReachTheInjectedParametersOnly) {
  const BuiltPrompt a = prompt({1, 5, 0, 0}, {2}, {3}, 3);
  const BuiltPrompt b = prompt({2, 0, 7, 0}, {1}, {3}, 3);
  model_->pack({&a, &b}, true).embeds.sum().backward();
  const at::Tensor user_out = param("tokens/user_out");
  ASSERT_TRUE(user_out.grad().defined());
  EXPECT_TRUE(at::equal(user_out.grad(), at::full_like(user_out, 2))) << "d sum / d [UserOut] = 2 slots";
  const at::Tensor item_out = param("tokens/item_out");
  EXPECT_TRUE(!item_out.grad().defined() || item_out.grad().abs().sum().item<double>() == 0);
  bool f_i_has_grad = false;
  for (auto& [n, t] : model_->named_parameters()) {
    if (n.rfind("f_I/", 0) == 0 && t.grad().defined() && t.grad().abs().sum().item<double>() > 0) f_i_has_grad = true;
  }
  EXPECT_TRUE(f_i_has_grad) << "f_I gets gradients through the [HistoryEmb] rows";
}

TEST_F(SlotInjection, APromptBuilderPromptIsInjectedAtItsMarkers) {
  const std::vector<std::string> titles = {"", "Dune", "Emma", "Ulysses", "Beloved"};
  auto tok = models::llama::parse_bpe_tokenizer(models::llama::make_tiny_tokenizer_json("Item No. Time Dune", 20),
                                                "tiny tokenizer.json");
  ASSERT_LE(tok->vocab_size(), 300);
  models::prompt::PromptConfig pc;
  models::prompt::PromptBuilder builder(*tok, pc, {titles, false});
  const std::vector<int32_t> hist = {4, 2, 3};
  const std::vector<int64_t> order = {1, 2, 3};
  const BuiltPrompt p = builder.user({hist.data(), 3}, {order.data(), 3});
  ASSERT_EQ(p.emb_slots.size(), 3u);
  const at::Tensor x = model_->pack({&p}, true).embeds;
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_TRUE(at::equal(x[p.emb_slots[j]], f_i(hist[j]))) << "[HistoryEmb] " << j << " shows item " << hist[j];
  }
  EXPECT_TRUE(at::equal(x[p.out_slot], param("tokens/user_out")));
  EXPECT_TRUE(at::equal(x[0], llm_->embed_tokens(at::tensor({static_cast<int64_t>(tok->bos_id())}, at::kLong))[0]));
}

TEST_F(SlotInjection, MismatchedSlotsAreAShapeErrorNamingThePrompt) {
  const BuiltPrompt good = prompt({1, 5, 0, 0}, {2}, {3}, 3);
  const std::vector<BuiltPrompt> bad = {
      prompt({1, 5, 0, 0}, {2, 1}, {3}, 3),  // two [HistoryEmb] slots, one item
      prompt({1, 5, 0, 0}, {}, {3}, 3),      // an item without its slot
      prompt({1, 5, 0, 0}, {2}, {3}, -1),    // no output slot
      prompt({1, 5, 0, 0}, {2}, {3}, 4),     // output slot past the end
      prompt({1, 5, 0, 0}, {7}, {3}, 3),     // [HistoryEmb] slot past the end
      prompt({1, 5, 0, 0}, {3}, {3}, 3),     // both slots on one row
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    try {
      model_->pack({&good, &bad[i]}, true);
      ADD_FAILURE() << "case " << i << ": no error";
    } catch (const ShapeError& e) {
      EXPECT_NE(std::string(e.what()).find("prompt 1 of the batch"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(model_->pack({&good}, false));
}

}  // namespace
}  // namespace llmsrec::trainer
