#include "trainer/llmsrec_setup.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <fmt/format.h>

#include "checkpoint/checkpoint_store.h"
#include "checkpoint/h5.h"
#include "cluster/run_context.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_section.h"
#include "models/llama/llm_config.h"
#include "models/prompt/prompt_config.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/train_config.h"
#include "models/llama/llama_model.h"
#include "models/llama/tokenizer.h"
#include "models/prompt/prompt_builder.h"
#include "trainer/llmsrec_model.h"

namespace llmsrec::trainer {

LlmSrecSetup::LlmSrecSetup() = default;
LlmSrecSetup::~LlmSrecSetup() = default;
LlmSrecSetup::LlmSrecSetup(LlmSrecSetup&&) noexcept = default;
LlmSrecSetup& LlmSrecSetup::operator=(LlmSrecSetup&&) noexcept = default;

namespace {
at::Tensor read_matrix(const checkpoint::h5::Group& f, const std::string& name, int64_t rows, const std::string& file) {
  std::vector<uint64_t> dims;
  std::vector<float> v = f.read<float>(name, &dims);
  if (dims.size() != 2 || static_cast<int64_t>(dims[0]) != rows) {
    throw DataError(fmt::format("'{}': {} has shape [{}], expected {} rows: the teacher was exported for another "
                                "dataset (re-run llmsrec teacher export)",
                                file, name, dims.empty() ? 0 : dims[0], rows));
  }
  return at::from_blob(v.data(), {static_cast<int64_t>(dims[0]), static_cast<int64_t>(dims[1])}, at::kFloat).clone();
}
}  // namespace

int64_t LlmSrecSetup::llm_hidden_size() const { return llm->config().hidden_size; }
at::ScalarType LlmSrecSetup::llm_dtype() const { return llm->dtype(); }

LlmSrecSetup load_llmsrec(const LlmSrecSections& cfg, const cluster::RunContext& ctx) {
  if (cfg.llm.path.empty()) {
    throw ConfigError("config key 'llm.path': required (an HF model directory; `llmsrec lm make-tiny DIR` makes one)");
  }
  // Threads: the run context set them (run.threads, OMP_NUM_THREADS or the rank's share of the node).
  LlmSrecSetup s;
  s.device = ctx.device();
  const std::string dataset_path = cfg.run.output_path(cfg.train.dataset);
  s.dataset = data::load_dataset(dataset_path);
  const std::string targets_path = cfg.run.output_path(cfg.train.targets);
  {
    auto f = checkpoint::h5::File::open(targets_path);
    if (!f.has_attr("llmsrec_schema") || f.attr_string("llmsrec_schema") != "llmsrec.targets") {
      throw IoError(fmt::format("'{}' is not a teacher targets file (run llmsrec teacher export)", targets_path));
    }
    s.teacher_items = read_matrix(f, "items/embedding", s.dataset.num_items() + 1, targets_path).to(s.device);
    s.teacher_train_user =
        read_matrix(f, "users/o_train_minus_last", s.dataset.num_users(), targets_path).to(s.device);
  }
  models::llama::LlamaOptions llm_options = models::llama::llama_options(cfg.llm);
  llm_options.device = s.device;
  s.llm = std::make_unique<models::llama::LlamaModel>(models::llama::LlamaModel::load(cfg.llm.path, llm_options));
  s.tokenizer = models::llama::load_tokenizer(cfg.llm.path);
  s.history_items = cfg.prompt.history_items;
  s.prompts = std::make_unique<models::prompt::PromptBuilder>(
      *s.tokenizer, cfg.prompt,
      models::prompt::ItemText{s.dataset.item_titles, s.dataset.time_kind == data::TimeKind::kUnixSeconds});
  s.model = std::make_unique<LlmSrecModel>(*s.llm, s.teacher_items, cfg.train, static_cast<uint64_t>(cfg.run.seed),
                                           s.device);
  LOG_INFO("loaded {} users, {} items, teacher dim {}, LLM dim {} ({} layers, {}, {}) from {}", s.dataset.num_users(),
           s.dataset.num_items(), s.teacher_items.size(1), s.llm->config().hidden_size,
           s.llm->config().num_hidden_layers, cfg.llm.dtype, s.device.str(), cfg.llm.path);
  return s;
}

std::string load_trained(LlmSrecSetup& s, const LlmSrecSections& cfg, const std::string& checkpoint, bool best) {
  std::string path = checkpoint;
  if (path.empty()) {
    checkpoint::CheckpointStore store(cfg.run.dir, 1);
    auto latest = store.latest_path();
    if (!latest) {
      throw IoError(fmt::format("no checkpoint in '{}' (run llmsrec train first, or pass --checkpoint)", cfg.run.dir));
    }
    path = *latest;
  }
  checkpoint::TrainingState state = checkpoint::CheckpointStore::load(path);
  bool has_best = false;
  for (const auto& [name, t] : state.tensors) has_best |= name.rfind("best/", 0) == 0;
  const std::string prefix = best && has_best ? "best/" : "params/";
  at::NoGradGuard no_grad;
  for (auto& [name, t] : s.model->named_parameters()) {
    const at::Tensor& saved = state.tensor(prefix + name);
    if (saved.sizes() != t.sizes()) {
      throw ShapeError(fmt::format("checkpoint '{}': {}{} has another shape than the model's (config changed?)", path,
                                   prefix, name));
    }
    t.copy_(saved);  // copy_ moves host checkpoint values onto the model's device
  }
  LOG_INFO("loaded {} weights from {}", prefix == "best/" ? "best-by-validation" : "latest", path);
  return path;
}

}  // namespace llmsrec::trainer
