// The generic ATen path (generic_attention.h, generic_layer.h, kernels =
// generic) against the fast CPU kernels, and bf16 on the fast path against
// float32. Every case runs on each device of the test axis (test_devices.h):
// the fast reference always on the CPU, the generic model on the device.
//
// Tolerances, relative to max(1, max |expected|): float64 1e-10, float32 1e-5
// (outputs and gradients to inputs_embeds); bf16 vs float32 see Bf16*.
#include <cmath>
#include <filesystem>
#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/llama/generic_attention.h"
#include "models/llama/kernel_choice.h"
#include "models/llama/llama_model.h"
#include "models/llama/llm_config.h"
#include "models/llama/tiny_llama.h"
#include "tests/unit/test_devices.h"

namespace fs = std::filesystem;
using namespace llmsrec;
using namespace llmsrec::models::llama;

namespace {

// Fails with the index of the largest difference and both values there.
void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const at::Tensor a = actual.detach().to(at::kCPU, at::kDouble).contiguous().view(-1);
  const at::Tensor e = expected.detach().to(at::kCPU, at::kDouble).contiguous().view(-1);
  if (a.numel() == 0) return;
  const at::Tensor diff = (a - e).abs();
  const int64_t i = diff.argmax().item<int64_t>();
  const double bound = tol * std::max(1.0, e.abs().max().item<double>());
  EXPECT_LE(diff[i].item<double>(), bound)
      << what << ": at flat index " << i << " expected " << e[i].item<double>() << ", actual " << a[i].item<double>()
      << " (|difference| " << diff[i].item<double>() << " > " << bound << ")";
}

double tolerance(at::ScalarType dtype) { return dtype == at::kDouble ? 1e-10 : 1e-5; }

// Causal GQA attention of one sequence by the definition, on the CPU in float64.
at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t L = q.size(0), H = q.size(1), hd = q.size(2), G = H / k.size(1);
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < H; ++h) {
    at::Tensor s = at::matmul(q.select(1, h), k.select(1, h / G).t()) / std::sqrt(static_cast<double>(hd));
    s = s.masked_fill(at::ones({L, L}, at::kBool).triu(1), -std::numeric_limits<double>::infinity());
    heads.push_back(at::matmul(at::softmax(s, -1), v.select(1, h / G)));
  }
  return at::cat(heads, 1);
}

class GenericAttentionTest : public ::testing::TestWithParam<c10::Device> {
 protected:
  void SetUp() override { LLMSREC_SKIP_UNLESS_VISIBLE(GetParam()); }

  // generic_causal_attention in `dtype` on the device vs the float64 definition
  // on each sequence alone: values and the gradients to q, k and v.
  void check(at::ScalarType dtype, double tol, const std::vector<int64_t>& offsets) {
    at::manual_seed(11);
    const int64_t T = offsets.back(), H = 4, KV = 2, hd = 8;
    const at::Tensor q0 = at::randn({T, H, hd}, at::kDouble).to(dtype),
                     k0 = at::randn({T, KV, hd}, at::kDouble).to(dtype),
                     v0 = at::randn({T, KV, hd}, at::kDouble).to(dtype), go = at::randn({T, H * hd}, at::kDouble);
    const c10::Device dev = GetParam();
    std::vector<at::Tensor> a, b;
    for (const at::Tensor* t : {&q0, &k0, &v0}) {
      a.push_back(t->clone().to(dev).requires_grad_());  // own leaves (to() may return its input)
      b.push_back(t->to(at::kDouble).clone().requires_grad_());
    }
    const SequenceLayout layout =
        SequenceLayout::from_offsets(offsets, dtype == at::kDouble ? at::kDouble : at::kFloat).to(dev);
    at::Tensor out = generic_causal_attention(a[0], a[1], a[2], layout);
    EXPECT_EQ(out.device(), dev);
    EXPECT_EQ(out.scalar_type(), dtype);
    std::vector<at::Tensor> parts;
    for (size_t n = 0; n + 1 < offsets.size(); ++n) {
      const int64_t r0 = offsets[n], L = offsets[n + 1] - r0;
      parts.push_back(reference_attention(b[0].narrow(0, r0, L), b[1].narrow(0, r0, L), b[2].narrow(0, r0, L)));
    }
    const at::Tensor ref = at::cat(parts, 0);
    expect_close(out, ref, tol, std::string("attention, backend ") + generic_attention_backend());
    (out.to(at::kDouble) * go.to(dev)).sum().backward();
    (ref * go).sum().backward();
    const char* names[] = {"dq", "dk", "dv"};
    for (int i = 0; i < 3; ++i) {
      expect_close(a[i].grad(), b[i].grad(), tol, names[i]);
      EXPECT_GT(b[i].grad().abs().max().item<double>(), 0) << names[i] << ": an all-zero gradient checks nothing";
    }
  }
};

// Uneven lengths, a 1-row sequence, GQA: the grid pads and masks.
TEST_P(GenericAttentionTest, MatchesTheDefinitionFloat64) { check(at::kDouble, 1e-12, {0, 1, 3, 6, 10, 23}); }
TEST_P(GenericAttentionTest, MatchesTheDefinitionFloat32) { check(at::kFloat, 1e-5, {0, 7, 11, 12}); }
TEST_P(GenericAttentionTest, OneSequenceNeedsNoGrid) { check(at::kDouble, 1e-12, {0, 9}); }
// bf16 inputs (the same values in float64 for the reference): 8 mantissa bits.
TEST_P(GenericAttentionTest, MatchesTheDefinitionBf16) { check(at::kBFloat16, 3e-2, {0, 5, 13}); }

INSTANTIATE_TEST_SUITE_P(Devices, GenericAttentionTest, ::testing::ValuesIn(test::candidate_test_devices()),
                         test::device_test_name);

TEST(KernelChoice, FastCpuKernelsOnlyOnCpuWithAutoAndASupportedDtype) {
  const c10::Device cpu(c10::kCPU), cuda(c10::kCUDA, 0);
  for (auto dtype : {at::kFloat, at::kDouble, at::kBFloat16}) {
    EXPECT_TRUE(fast_cpu_kernels(cpu, dtype, Kernels::kAuto)) << c10::toString(dtype);
    EXPECT_FALSE(fast_cpu_kernels(cpu, dtype, Kernels::kGeneric)) << c10::toString(dtype);
    EXPECT_FALSE(fast_cpu_kernels(cuda, dtype, Kernels::kAuto)) << c10::toString(dtype);
  }
  EXPECT_FALSE(fast_cpu_kernels(cpu, at::kHalf, Kernels::kAuto));
  EXPECT_EQ(parse_kernels("auto"), Kernels::kAuto);
  EXPECT_EQ(parse_kernels("generic"), Kernels::kGeneric);
  EXPECT_THROW(parse_kernels("fast"), ConfigError);
  LlmConfig cfg;
  EXPECT_EQ(llama_options(cfg).kernels, Kernels::kAuto);
  cfg.kernels = "generic";
  const LlamaOptions o = llama_options(cfg);
  EXPECT_EQ(o.kernels, Kernels::kGeneric);
  EXPECT_TRUE(o.device.is_cpu()) << "the caller sets the device, the config does not";
}

// A tiny GQA model on disk, loaded by each test with its own options.
class ModelPathTest : public ::testing::TestWithParam<c10::Device> {
 protected:
  void SetUp() override {
    LLMSREC_SKIP_UNLESS_VISIBLE(GetParam());
    at::manual_seed(1234);
    std::string name = "llmsrec_generic_" + std::to_string(::getpid()) + "_" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '_';  // parameterised test names hold '/'
    }
    dir_ = fs::temp_directory_path() / name;
    fs::remove_all(dir_);
    TinyLlamaOptions o;
    o.seed = 5;
    o.dim = 32;
    o.layers = 2;
    o.heads = 4;
    o.kv_heads = 2;  // GQA
    o.vocab = 50;
    o.hidden_dim = 48;
    o.init_std = 0.2;  // attention far from uniform
    o.with_tokenizer = false;
    write_tiny_llama(dir_.string(), o);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  LlamaModel load(at::ScalarType dtype, bool ckpt, c10::Device device, Kernels kernels) const {
    LlamaOptions o{dtype, ckpt};
    o.device = device;
    o.kernels = kernels;
    return LlamaModel::load(dir_.string(), o);
  }

  struct Run {
    at::Tensor hidden, logits, grad;  // on the CPU
  };
  // Four sequences of 6, 9, 4 and 7 rows; gradients to inputs_embeds of a
  // random linear function of the requested rows' hidden states and logits.
  Run run(const LlamaModel& model, const ForwardRequest& req) const {
    const std::vector<int64_t> offsets{0, 6, 15, 19, 26};
    at::manual_seed(77);
    const at::Tensor ids = at::randint(0, 50, {26}, at::kLong);
    const int64_t R = req.rows.empty() ? 26 : static_cast<int64_t>(req.rows.size());
    const at::Tensor probe_h = at::randn({R, 32}, at::kDouble), probe_l = at::randn({R, 50}, at::kDouble);
    at::Tensor e = model.embed_tokens(ids).detach().requires_grad_(true);  // ids on the CPU, e on the device
    EXPECT_EQ(e.device(), model.device());
    ForwardResult out = model.forward(e, offsets, req);
    EXPECT_EQ(out.hidden.device(), model.device());
    ((out.hidden.to(at::kDouble) * probe_h.to(model.device())).sum() +
     (out.logits.to(at::kDouble) * probe_l.to(model.device())).sum())
        .backward();
    return {out.hidden.detach().cpu(), out.logits.detach().cpu(), e.grad().cpu()};
  }

  // The generic model on the test device equals the fast one on the CPU.
  void check_generic_equals_fast(at::ScalarType dtype) {
    const double tol = tolerance(dtype);
    ForwardRequest with_rows;
    with_rows.rows = {5, 14, 18, 12, 25, 20};
    with_rows.logits = true;
    with_rows.constant_prefix = {3, 2, 3, 0};
    ForwardRequest all_rows;
    all_rows.logits = true;
    for (bool ckpt : {false, true}) {
      const LlamaModel fast = load(dtype, ckpt, c10::Device(c10::kCPU), Kernels::kAuto);
      const LlamaModel generic = load(dtype, ckpt, GetParam(), Kernels::kGeneric);
      ASSERT_TRUE(fast.fast_kernels());
      ASSERT_FALSE(generic.fast_kernels());
      for (const ForwardRequest* req : {&with_rows, &all_rows}) {
        const std::string what = std::string(c10::toString(dtype)) + (ckpt ? ", checkpointed" : "") +
                                 (req->rows.empty() ? ", all rows" : ", rows + constant prefix");
        const Run f = run(fast, *req), g = run(generic, *req);
        expect_close(g.hidden, f.hidden, tol, "hidden, " + what);
        expect_close(g.logits, f.logits, tol, "logits, " + what);
        expect_close(g.grad, f.grad, tol, "d inputs_embeds, " + what);
        ASSERT_GT(f.grad.abs().sum().item<double>(), 0) << what;
        if (!req->constant_prefix.empty()) {
          // Row 0 (constant) gets no gradient, row 3 (first row after the prefix) does.
          EXPECT_EQ(g.grad[0].abs().max().item<double>(), 0.0) << what;
          EXPECT_GT(g.grad[3].abs().max().item<double>(), 0.0) << what;
        }
      }
    }
  }

  fs::path dir_;
};

TEST_P(ModelPathTest, GenericEqualsFastFloat64) { check_generic_equals_fast(at::kDouble); }
TEST_P(ModelPathTest, GenericEqualsFastFloat32) { check_generic_equals_fast(at::kFloat); }

// bf16 on the fast path (packed attention, fused ops, row plan) against float32:
// final-norm states are O(1) and bf16 keeps 8 mantissa bits, so 0.1 absolute;
// gradients to 0.05 of their largest entry. The generic bf16 path on the
// device stays as close to float32.
TEST_P(ModelPathTest, Bf16TracksFloat32OnEveryPath) {
  ForwardRequest req;
  req.rows = {5, 14, 18, 12, 25};
  req.logits = true;
  req.constant_prefix = {3, 2, 3, 0};
  const LlamaModel f32 = load(at::kFloat, false, c10::Device(c10::kCPU), Kernels::kAuto);
  const LlamaModel fast = load(at::kBFloat16, false, c10::Device(c10::kCPU), Kernels::kAuto);
  const LlamaModel generic = load(at::kBFloat16, true, GetParam(), Kernels::kGeneric);
  ASSERT_TRUE(fast.fast_kernels()) << "bf16 on the CPU takes the fast kernels";
  const Run ref = run(f32, req);
  for (const LlamaModel* m : {&fast, &generic}) {
    const std::string what = m->fast_kernels() ? "bf16 fast" : "bf16 generic";
    const Run r = run(*m, req);
    EXPECT_EQ(r.hidden.scalar_type(), at::kBFloat16) << what;
    expect_close(r.hidden, ref.hidden, 0.1, "hidden, " + what);
    const double gmax = ref.grad.abs().max().item<double>();
    expect_close(r.grad / gmax, ref.grad / gmax, 0.05, "d inputs_embeds / max, " + what);
  }
}

TEST_P(ModelPathTest, WeightsAndOutputsLiveOnTheModelsDevice) {
  const c10::Device dev = GetParam();
  const LlamaModel model = load(at::kFloat, false, dev, Kernels::kAuto);
  EXPECT_EQ(model.device(), dev);
  EXPECT_EQ(model.fast_kernels(), dev.is_cpu());
  for (const at::Tensor& w : model.weights()) EXPECT_EQ(w.device(), dev);
  const at::Tensor e = model.embed_tokens(at::arange(5, at::kLong));  // CPU ids
  EXPECT_EQ(e.device(), dev);
  EXPECT_THROW(model.embed_tokens(at::tensor(std::vector<int64_t>{3, 50})), ShapeError);
  at::NoGradGuard no_grad;
  const ForwardResult out = model.forward_padded(e.view({1, 5, 32}), {4}, {{}, true});
  EXPECT_EQ(out.logits.device(), dev);
  if (!dev.is_cpu()) {
    EXPECT_THROW(model.forward(e.cpu(), {0, 5}), ShapeError) << "inputs on another device than the model";
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, ModelPathTest, ::testing::ValuesIn(test::candidate_test_devices()),
                         test::device_test_name);

}  // namespace
