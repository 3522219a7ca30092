#include "models/llama/llama_model.h"

#include <cmath>
#include <functional>
#include <numeric>
#include <set>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "models/llama/attention_kernel.h"
#include "models/llama/fused_ops.h"
#include "models/llama/generic_layer.h"
#include "models/llama/layer_weights.h"
#include "models/llama/llama_ops.h"
#include "models/llama/llm_config.h"
#include "models/llama/row_plan.h"
#include "models/llama/tensor_names.h"

namespace llmsrec::models::llama {

namespace {

using Layer = LayerWeights;

at::ScalarType reduction_dtype(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

// A RowPlan with the tensors the autograd rows' layers index with.
struct PlannedRows {
  RowPlan plan;
  at::Tensor kv_order;       // int64 [T] (only with constant rows)
  at::Tensor tail;           // int64: the last layer's query rows among the autograd rows
  bool tail_is_all = false;  // the last layer needs every autograd row (no gather)
  at::Tensor cos, sin;       // RoPE tables of the autograd rows
};

}  // namespace

struct LlamaModel::Impl {
  LlamaConfig cfg;
  LlamaOptions opts;
  std::vector<double> inv_freq;
  at::Tensor embed, final_norm, lm_head;  // lm_head aliases embed when tied
  std::vector<Layer> layers;

  bool fast = false;  // the fast CPU kernels (kernel_choice.h); else the generic path

  // Index tensors live where the model does (ids and row lists come as host vectors).
  at::Tensor index_tensor(const std::vector<int64_t>& v) const { return at::tensor(v, at::kLong).to(opts.device); }

  // Fast path: q [N, H, hd], k, v [N, KV, hd] of rows x [N, D], RoPE at cos/sin.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> rotated_qkv(const at::Tensor& x, const Layer& w, const at::Tensor& cos,
                                                             const at::Tensor& sin) const {
    at::Tensor h = rms_norm_frozen(x, w.attn_norm, cfg.rms_norm_eps);
    at::Tensor qkv = w.bqkv.defined() ? at::linear(h, w.wqkv, w.bqkv) : at::linear(h, w.wqkv);
    // bf16: q, k, v come out widened to float32, which the attention kernel computes in anyway.
    const at::ScalarType qkv_dtype = opts.dtype == at::kBFloat16 ? at::kFloat : opts.dtype;
    return rope_split_qkv(qkv, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cos, sin, qkv_dtype);
  }

  // Fast path: the rest of a layer for the query rows x [Nq, D] (the last
  // rows of each sequence, at q_offsets) against keys and values of every row
  // (at kv_offsets). The residual adds ride in the GEMMs (beta = 1).
  at::Tensor attention_and_mlp(const at::Tensor& x, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const Layer& w, const std::vector<int64_t>& kv_offsets,
                               const std::vector<int64_t>& q_offsets) const {
    const double scale = 1.0 / std::sqrt(static_cast<double>(cfg.head_dim));
    at::Tensor attn = packed_causal_attention(q, k, v, kv_offsets, scale, q_offsets).to(x.scalar_type());
    at::Tensor out = at::addmm(x, attn, w.wo.t());
    at::Tensor act = swiglu(at::linear(rms_norm_frozen(out, w.mlp_norm, cfg.rms_norm_eps), w.w_gate_up));
    return at::addmm(out, act, w.w_down.t());
  }

  // Fast path, one layer of a RowPlan's autograd rows xg: keys and values
  // of the constant rows (kc, vc; undefined when there are none) join theirs;
  // the last layer keeps only the tail rows.
  at::Tensor grad_rows_forward(const at::Tensor& xg, const at::Tensor& kc, const at::Tensor& vc, const Layer& w,
                               const PlannedRows& rows, bool last) const {
    auto [q, k, v] = rotated_qkv(xg, w, rows.cos, rows.sin);
    if (kc.defined()) {
      k = at::cat({kc, k}).index_select(0, rows.kv_order);
      v = at::cat({vc, v}).index_select(0, rows.kv_order);
    }
    const RowPlan& p = rows.plan;
    if (!last || rows.tail_is_all) return attention_and_mlp(xg, q, k, v, w, p.offsets, p.grad_offsets);
    return attention_and_mlp(xg.index_select(0, rows.tail), q.index_select(0, rows.tail), k, v, w, p.offsets,
                             p.tail_offsets);
  }

  // Fast path: packed rows x [T, D] to the requested rows' last-layer states
  // (all rows, in order, when none are requested): a RowPlan splits off the
  // constant rows (only under autograd) and trims the last layer.
  at::Tensor planned_forward(const at::Tensor& x, const SequenceLayout& layout, const ForwardRequest& request,
                             bool grad, bool checkpoint) const;

  // Generic path: every layer on every row (attention on the padded grid),
  // then the requested rows. Constant-prefix rows only get their gradient cut,
  // so outputs and gradients equal the fast path's.
  at::Tensor generic_forward(const at::Tensor& x, const SequenceLayout& layout, const ForwardRequest& request,
                             bool grad, bool checkpoint) const;

};

namespace {

// Activation checkpointing: the forward keeps only a layer's input; the
// backward re-runs the layer (`recompute`, which owns copies of everything it
// reads) with autograd on and differentiates it.
struct Recompute : torch::CustomClassHolder {
  explicit Recompute(std::function<at::Tensor(const at::Tensor&)> f) : fn(std::move(f)) {}
  std::function<at::Tensor(const at::Tensor&)> fn;
};

struct CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            c10::intrusive_ptr<Recompute> recompute) {
    ctx->save_for_backward({x});
    at::Tensor y = recompute->fn(x);
    ctx->saved_data["recompute"] = c10::IValue::make_capsule(std::move(recompute));
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto recompute = c10::static_intrusive_pointer_cast<Recompute>(ctx->saved_data["recompute"].toCapsule());
    at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    at::Tensor y;
    {
      at::AutoGradMode enable(true);
      y = recompute->fn(x);
    }
    auto grads = torch::autograd::grad({y}, {x}, {grad_out[0]});
    return {grads[0], at::Tensor()};
  }
};

// One layer, checkpointed or not.
at::Tensor run_layer(bool checkpoint, const at::Tensor& x, std::function<at::Tensor(const at::Tensor&)> layer) {
  if (!checkpoint) return layer(x);
  return CheckpointedLayer::apply(x, c10::make_intrusive<Recompute>(std::move(layer)));
}

std::string shape_str(at::IntArrayRef s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

at::ScalarType parse_compute_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  if (name == "fp64" || name == "float64") return at::kDouble;
  throw ConfigError(fmt::format("unknown compute dtype '{}' (expected fp32, bf16 or fp64)", name));
}

LlamaOptions llama_options(const LlmConfig& cfg) {
  LlamaOptions o;
  o.dtype = parse_compute_dtype(cfg.dtype);
  o.activation_checkpointing = cfg.activation_checkpointing;
  o.kernels = parse_kernels(cfg.kernels);
  return o;
}

LlamaModel LlamaModel::load(const std::string& dir, const LlamaOptions& options) {
  const LlamaConfig cfg = load_llama_config(dir);
  const auto weights = checkpoint::SafetensorsReader::open(dir);
  return LlamaModel(cfg, weights, options);
}

LlamaModel::LlamaModel(const LlamaConfig& cfg, const checkpoint::SafetensorsReader& weights,
                       const LlamaOptions& options)
    : impl_(std::make_unique<Impl>()) {
  at::AutoGradMode no_grad(false);
  Impl& m = *impl_;
  m.cfg = cfg;
  m.opts = options;
  m.inv_freq = rope_inv_freq(cfg);
  if (options.dtype != at::kFloat && options.dtype != at::kBFloat16 && options.dtype != at::kDouble) {
    throw ConfigError(fmt::format("unsupported compute dtype {}", c10::toString(options.dtype)));
  }
  m.fast = fast_cpu_kernels(options.device, options.dtype, options.kernels);

  // Every tensor the config implies must be present with its exact shape, and
  // nothing else may be there (a stray tensor means config and weights disagree).
  const auto specs = llama_tensor_specs(cfg);
  std::set<std::string> expected;
  for (const auto& s : specs) expected.insert(s.name);
  for (const auto& name : weights.names()) {
    const bool tied_head = cfg.tie_word_embeddings && name == kLmHeadName;
    if (!expected.count(name) && !is_ignorable_tensor(name) && !tied_head) {
      throw DataError(fmt::format("safetensors '{}': unexpected tensor '{}' for a {} with {} layers (config and "
                                  "weights disagree?)", weights.get(name).file, name, cfg.architecture,
                                  cfg.num_hidden_layers));
    }
  }
  // One float32 host buffer per tensor, converted and moved at once: no
  // float32 copy of the model stays behind.
  auto read = [&](const std::string& name, const std::vector<int64_t>& shape) {
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
    weights.read_f32(name, shape, t.data_ptr<float>());
    return t.to(options.device, options.dtype).contiguous();
  };
  auto read_layer = [&](int64_t l, LayerTensor t) { return read(layer_tensor_name(l, t), layer_tensor_shape(cfg, t)); };

  m.embed = read(kEmbedTokensName, {cfg.vocab_size, cfg.hidden_size});
  m.final_norm = read(kFinalNormName, {cfg.hidden_size});
  m.lm_head = cfg.tie_word_embeddings ? m.embed : read(kLmHeadName, {cfg.vocab_size, cfg.hidden_size});
  for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
    Layer w;
    w.attn_norm = read_layer(l, LayerTensor::kAttnNorm);
    w.wqkv = at::cat({read_layer(l, LayerTensor::kQ), read_layer(l, LayerTensor::kK), read_layer(l, LayerTensor::kV)}, 0);
    if (cfg.attention_bias) {
      w.bqkv = at::cat({read_layer(l, LayerTensor::kQBias), read_layer(l, LayerTensor::kKBias),
                        read_layer(l, LayerTensor::kVBias)}, 0);
    }
    w.wo = read_layer(l, LayerTensor::kO);
    w.mlp_norm = read_layer(l, LayerTensor::kMlpNorm);
    w.w_gate_up = at::cat({read_layer(l, LayerTensor::kGate), read_layer(l, LayerTensor::kUp)}, 0);
    w.w_down = read_layer(l, LayerTensor::kDown);
    m.layers.push_back(std::move(w));
  }
}

LlamaModel::~LlamaModel() = default;
LlamaModel::LlamaModel(LlamaModel&&) noexcept = default;
LlamaModel& LlamaModel::operator=(LlamaModel&&) noexcept = default;

const LlamaConfig& LlamaModel::config() const { return impl_->cfg; }
at::ScalarType LlamaModel::dtype() const { return impl_->opts.dtype; }
at::Device LlamaModel::device() const { return impl_->opts.device; }
bool LlamaModel::fast_kernels() const { return impl_->fast; }

at::Tensor LlamaModel::embed_tokens(const at::Tensor& ids) const {
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= impl_->cfg.vocab_size) {
      throw ShapeError(fmt::format("token id {} outside the vocabulary [0, {})", lo < 0 ? lo : hi,
                                   impl_->cfg.vocab_size));
    }
  }
  return at::embedding(impl_->embed, ids.to(impl_->opts.device, at::kLong));
}

at::Tensor LlamaModel::logits(const at::Tensor& hidden) const { return at::linear(hidden, impl_->lm_head); }

std::vector<at::Tensor> LlamaModel::weights() const {
  const Impl& m = *impl_;
  std::vector<at::Tensor> out{m.embed, m.final_norm};
  if (!m.cfg.tie_word_embeddings) out.push_back(m.lm_head);
  for (const Layer& w : m.layers) {
    for (const at::Tensor* t : {&w.attn_norm, &w.wqkv, &w.bqkv, &w.wo, &w.mlp_norm, &w.w_gate_up, &w.w_down}) {
      if (t->defined()) out.push_back(*t);
    }
  }
  return out;
}

ForwardResult LlamaModel::forward(const at::Tensor& inputs_embeds, const std::vector<int64_t>& offsets,
                                  const ForwardRequest& request) const {
  const Impl& m = *impl_;
  if (inputs_embeds.dim() != 2 || inputs_embeds.size(1) != m.cfg.hidden_size) {
    throw ShapeError(fmt::format("inputs_embeds: expected [T, {}], found {}", m.cfg.hidden_size,
                                 shape_str(inputs_embeds.sizes())));
  }
  if (inputs_embeds.scalar_type() != m.opts.dtype) {
    throw ShapeError(fmt::format("inputs_embeds: dtype {} differs from the model's compute dtype {}",
                                 c10::toString(inputs_embeds.scalar_type()), c10::toString(m.opts.dtype)));
  }
  if (inputs_embeds.device() != m.opts.device) {
    throw ShapeError(fmt::format("inputs_embeds: on {} but the model is on {} (embed_tokens returns its device)",
                                 inputs_embeds.device().str(), m.opts.device.str()));
  }
  // The padded grid only for the generic path: the fast kernel reads packed rows.
  const SequenceLayout layout =
      SequenceLayout::from_offsets(offsets, reduction_dtype(m.opts.dtype), /*with_grid=*/!m.fast);
  if (layout.tokens() != inputs_embeds.size(0)) {
    throw ShapeError(fmt::format("inputs_embeds has {} rows but the sequence offsets cover {}", inputs_embeds.size(0),
                                 layout.tokens()));
  }
  for (int64_t r : request.rows) {
    if (r < 0 || r >= layout.tokens()) {
      throw ShapeError(fmt::format("requested row {} outside the batch of {} rows", r, layout.tokens()));
    }
  }
  const bool grad = at::GradMode::is_enabled() && inputs_embeds.requires_grad();
  const bool checkpoint = m.opts.activation_checkpointing && grad;
  const at::Tensor x = inputs_embeds.contiguous();
  ForwardResult out;
  if (m.fast) {
    out.hidden = rms_norm_frozen(m.planned_forward(x, layout, request, grad, checkpoint), m.final_norm,
                                 m.cfg.rms_norm_eps);
  } else {
    out.hidden = rms_norm(m.generic_forward(x, layout, request, grad, checkpoint), m.final_norm, m.cfg.rms_norm_eps);
  }
  if (request.logits) out.logits = logits(out.hidden);
  return out;
}

at::Tensor LlamaModel::Impl::generic_forward(const at::Tensor& x0, const SequenceLayout& cpu_layout,
                                             const ForwardRequest& request, bool grad, bool checkpoint) const {
  const SequenceLayout layout = cpu_layout.to(opts.device);
  at::Tensor cos, sin;
  std::tie(cos, sin) = rope_cos_sin(cpu_layout.grid_positions(), inv_freq, opts.dtype);
  cos = cos.to(opts.device);
  sin = sin.to(opts.device);
  at::Tensor x = x0;
  if (grad && !request.constant_prefix.empty()) {
    // The same rows the fast path treats as constants (a prefix stops before a
    // requested row): their inputs get no gradient.
    std::vector<int64_t> requested = request.rows;
    if (requested.empty()) {
      requested.resize(static_cast<size_t>(x.size(0)));
      std::iota(requested.begin(), requested.end(), 0);
    }
    const RowPlan plan = RowPlan::make(layout.offsets, request.constant_prefix, requested);
    if (plan.has_constant_rows()) {
      at::Tensor constant = at::zeros({x.size(0), 1}, at::TensorOptions().dtype(at::kBool).device(opts.device));
      constant.index_fill_(0, index_tensor(plan.constant_rows), true);
      x = at::where(constant, x.detach(), x);
    }
  }
  for (const Layer& w : layers) {
    x = run_layer(checkpoint, x, [this, &w, layout, cos, sin](const at::Tensor& in) {
      return generic_layer_forward(in, w, cfg, layout, cos, sin);
    });
  }
  return request.rows.empty() ? x : x.index_select(0, index_tensor(request.rows));
}

at::Tensor LlamaModel::Impl::planned_forward(const at::Tensor& x, const SequenceLayout& layout,
                                             const ForwardRequest& request, bool grad, bool checkpoint) const {
  const std::vector<int64_t>& offsets = layout.offsets;
  const auto [cos, sin] = rope_cos_sin(layout.positions, inv_freq, opts.dtype);
  std::vector<int64_t> requested = request.rows;
  if (requested.empty()) {
    requested.resize(static_cast<size_t>(x.size(0)));
    std::iota(requested.begin(), requested.end(), 0);
  }
  // Constant rows only pay off when there is a backward to skip.
  auto rows = std::make_shared<PlannedRows>();
  rows->plan = RowPlan::make(offsets, grad ? request.constant_prefix : std::vector<int64_t>{}, requested);
  const RowPlan& plan = rows->plan;
  rows->tail_is_all = plan.tail_rows.size() == plan.grad_rows.size();
  rows->tail = index_tensor(plan.tail_rows);
  at::Tensor xg = x, xc, cos_c, sin_c;
  rows->cos = cos;
  rows->sin = sin;
  if (plan.has_constant_rows()) {
    const at::Tensor g = index_tensor(plan.grad_rows), c = index_tensor(plan.constant_rows);
    rows->kv_order = index_tensor(plan.kv_order);
    xg = x.index_select(0, g);
    rows->cos = cos.index_select(0, g);
    rows->sin = sin.index_select(0, g);
    xc = x.index_select(0, c).detach();
    cos_c = cos.index_select(0, c);
    sin_c = sin.index_select(0, c);
  }
  const int64_t layers = static_cast<int64_t>(this->layers.size());
  for (int64_t l = 0; l < layers; ++l) {
    const Layer& w = this->layers[l];
    const bool last = l + 1 == layers;
    at::Tensor kc, vc;
    if (xc.defined()) {
      at::NoGradGuard constant_rows;
      auto [q, k, v] = rotated_qkv(xc, w, cos_c, sin_c);
      kc = k;
      vc = v;
      if (!last) xc = attention_and_mlp(xc, q, k, v, w, plan.constant_offsets, plan.constant_offsets);
    }
    xg = run_layer(checkpoint, xg, [this, &w, kc, vc, rows, last](const at::Tensor& in) {
      return grad_rows_forward(in, kc, vc, w, *rows, last);
    });
  }
  return rows->tail_is_all && request.rows.empty() ? xg : xg.index_select(0, index_tensor(plan.output_rows));
}

ForwardResult LlamaModel::forward_padded(const at::Tensor& inputs_embeds, const std::vector<int64_t>& lengths,
                                         const ForwardRequest& request) const {
  if (inputs_embeds.dim() != 3 || inputs_embeds.size(0) != static_cast<int64_t>(lengths.size())) {
    throw ShapeError(fmt::format("inputs_embeds: expected [B={}, S, D], found {}", lengths.size(),
                                 shape_str(inputs_embeds.sizes())));
  }
  const int64_t B = inputs_embeds.size(0), S = inputs_embeds.size(1);
  std::vector<int64_t> offsets{0}, grid_rows;  // grid cell of every packed row
  std::vector<int64_t> packed_of_cell(B * S, -1);
  for (int64_t b = 0; b < B; ++b) {
    if (lengths[b] < 1 || lengths[b] > S) {
      throw ShapeError(fmt::format("sequence {}: length {} outside [1, {}]", b, lengths[b], S));
    }
    for (int64_t t = 0; t < lengths[b]; ++t) {
      packed_of_cell[b * S + t] = static_cast<int64_t>(grid_rows.size());
      grid_rows.push_back(b * S + t);
    }
    offsets.push_back(static_cast<int64_t>(grid_rows.size()));
  }
  const at::Tensor idx = impl_->index_tensor(grid_rows);
  at::Tensor packed = inputs_embeds.reshape({B * S, -1}).index_select(0, idx);
  ForwardRequest req = request;
  if (!request.rows.empty()) {
    for (size_t i = 0; i < request.rows.size(); ++i) {
      const int64_t cell = request.rows[i];
      if (cell < 0 || cell >= B * S || packed_of_cell[cell] < 0) {
        throw ShapeError(fmt::format("requested grid cell {} is padding or outside the [{}, {}] batch", cell, B, S));
      }
      req.rows[i] = packed_of_cell[cell];
    }
    return forward(packed, offsets, req);
  }
  ForwardResult r = forward(packed, offsets, req);
  auto scatter = [&](const at::Tensor& t) {
    return at::zeros({B * S, t.size(1)}, t.options()).index_copy(0, idx, t).view({B, S, t.size(1)});
  };
  r.hidden = scatter(r.hidden);
  if (r.logits.defined()) r.logits = scatter(r.logits);
  return r;
}

}  // namespace llmsrec::models::llama
