#include <algorithm>
#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>
#include <set>

#include <gtest/gtest.h>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "app/run_config.h"
#include "models/sasrec/sasrec_model.h"
#include "teacher_test_data.h"
#include "trainer/teacher_checkpoint.h"
#include "trainer/teacher_eval.h"
#include "trainer/teacher_export.h"
#include "trainer/teacher_inputs.h"
#include "trainer/teacher_sampler.h"
#include "trainer/teacher_train.h"

namespace llmsrec::trainer {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("llmsrec_teacher_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

app::RunConfig tiny_config(const fs::path& dir) {
  app::RunConfig cfg;
  cfg.run.dir = dir.string();
  cfg.run.seed = 17;
  cfg.teacher.hidden = 16;
  cfg.teacher.maxlen = 10;
  cfg.teacher.blocks = 2;
  cfg.teacher.heads = 2;
  cfg.teacher.dropout = 0.2;
  cfg.teacher.batch = 16;
  cfg.teacher.epochs = 4;
  cfg.teacher.eval_every = 2;
  cfg.teacher.save_every = 1;
  cfg.teacher.threads = 1;
  cfg.teacher.sampler_threads = 2;
  cfg.teacher.queue_batches = 3;
  cfg.run.resolved_yaml = "teacher: {hidden: 16}\n";
  return cfg;
}

std::vector<at::Tensor> last_weights(const std::string& path) {
  auto m = load_teacher_model(path, "last");
  std::vector<at::Tensor> out;
  for (const auto& [n, t] : m->params()) out.push_back(t.clone());
  return out;
}

// Sampler options for the 40-user, 50-item walk dataset of these tests.
SamplerOptions walk_sampler_options(int64_t batch) {
  SamplerOptions o;
  o.shape.num_items = 50;
  o.shape.maxlen = 8;
  o.shape.hidden = 4;
  o.batch = batch;
  o.seed = 3;
  return o;
}

TEST(TeacherSampler, PermutationVisitsEveryUserOncePerEpoch) {
  auto ds = testing::make_walk_dataset(40, 50, 2, 15);
  SamplerOptions o = walk_sampler_options(8);  // 40 users = 5 full batches
  o.permutation = true;
  TeacherSampler s(ds, o, 1, 2);
  const std::vector<int64_t> users = trainable_users(ds);
  std::vector<std::vector<int64_t>> epochs(2);
  for (int64_t e = 1; e <= 2; ++e) {
    for (int64_t i = 0; i < s.batches_per_epoch(); ++i) {
      auto b = s.make(e, i);
      epochs[e - 1].insert(epochs[e - 1].end(), b->users.begin(), b->users.end());
    }
  }
  for (auto& seen : epochs) {
    ASSERT_EQ(seen.size(), users.size());
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, users) << "every trainable user exactly once per epoch";
  }
  EXPECT_NE(epochs[0], epochs[1]) << "a new order every epoch";
}

TEST(TeacherSampler, BatchesFollowTheContract) {
  auto ds = testing::make_walk_dataset(40, 50, 2, 15);
  SamplerOptions o = walk_sampler_options(12);
  o.shape.dropout = 0.5;
  o.workers = 3;
  o.queue = 2;
  TeacherSampler s(ds, o, 1, 2);
  EXPECT_EQ(s.batches_per_epoch(), 4);
  int64_t count = 0;
  while (auto b = s.next()) {
    EXPECT_EQ(b->epoch, 1 + count / 4);
    EXPECT_EQ(b->index, count % 4);
    // The same batch made again in this thread is identical: keyed by (seed, epoch, index).
    auto again = s.make(b->epoch, b->index);
    EXPECT_EQ(again->seq, b->seq);
    EXPECT_EQ(again->neg, b->neg);
    EXPECT_EQ(again->dropout, b->dropout);
    EXPECT_EQ(b->dropout.size(), static_cast<size_t>(models::sasrec::dropout_mask_floats(o.shape, 12, 8)));
    std::set<int64_t> rows(b->rows.begin(), b->rows.end());
    for (int64_t r = 0; r < 12; ++r) {
      const int64_t u = b->users[r];
      auto tr = ds.train_items(u);
      ASSERT_GE(tr.size(), 2);
      std::set<int32_t> seen(tr.begin(), tr.end());
      const int64_t n_in = std::min<int64_t>(tr.size() - 1, 8);
      for (int64_t slot = 0; slot < 8; ++slot) {
        const int64_t v = b->seq[r * 8 + slot];
        if (slot < 8 - n_in) {
          EXPECT_EQ(v, 0);
          EXPECT_FALSE(rows.count(r * 8 + slot));
        } else {
          EXPECT_EQ(v, tr[tr.size() - 1 - n_in + (slot - (8 - n_in))]);  // most recent input in the last slot
          EXPECT_TRUE(rows.count(r * 8 + slot));
        }
      }
    }
    for (size_t k = 0; k < b->rows.size(); ++k) {
      const int64_t r = b->rows[k] / 8, slot = b->rows[k] % 8;
      auto tr = ds.train_items(b->users[r]);
      std::set<int32_t> seen(tr.begin(), tr.end());
      EXPECT_FALSE(seen.count(static_cast<int32_t>(b->neg[k]))) << "negative from the user's train set";
      EXPECT_TRUE(b->neg[k] >= 1 && b->neg[k] <= 50);
      EXPECT_EQ(b->pos[k], tr[tr.size() - (8 - slot)]);  // the next item; last slot -> last train item
    }
    ++count;
  }
  EXPECT_EQ(count, 8);
}

TEST(TeacherTrain, LearnsAndIsDeterministic) {
  auto ds = testing::make_walk_dataset(150, 60, 4, 20);
  auto dir_a = fresh_dir("det_a"), dir_b = fresh_dir("det_b");
  auto cfg_a = tiny_config(dir_a), cfg_b = tiny_config(dir_b);
  cfg_a.teacher.epochs = cfg_b.teacher.epochs = 16;
  cfg_a.teacher.eval_every = cfg_b.teacher.eval_every = 8;
  cfg_b.teacher.sampler_threads = 1;  // worker count must not matter
  TeacherTrainOptions opt;
  auto a = train_teacher(llmsrec::app::teacher_sections(cfg_a), ds, opt);
  auto b = train_teacher(llmsrec::app::teacher_sections(cfg_b), ds, opt);
  EXPECT_EQ(a["valid"], b["valid"]);
  EXPECT_EQ(a["test"], b["test"]);
  EXPECT_EQ(a["loss"], b["loss"]);
  auto wa = last_weights((dir_a / "teacher.h5").string()), wb = last_weights((dir_b / "teacher.h5").string());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(at::equal(wa[i], wb[i])) << i;
  // The walk is learnable: far better than the 1-in-21 of a random ranking.
  EXPECT_GT(a["test"]["hr@10"].get<double>(), 0.8) << a.dump();
  EXPECT_EQ(a["epochs"].get<int64_t>(), 16);
  // JSONL: one line per epoch.
  std::ifstream in(dir_a / "teacher_metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 16);
  fs::remove_all(dir_a);
  fs::remove_all(dir_b);
}

TEST(TeacherTrain, ResumeEqualsUninterrupted) {
  auto ds = testing::make_walk_dataset(80, 40, 3, 14);
  auto dir_full = fresh_dir("full"), dir_cut = fresh_dir("cut");
  auto cfg_full = tiny_config(dir_full);
  TeacherTrainOptions opt;
  auto full = train_teacher(llmsrec::app::teacher_sections(cfg_full), ds, opt);

  auto cfg_cut = tiny_config(dir_cut);
  cfg_cut.teacher.epochs = 3;  // "interrupted" after epoch 3 (after an evaluation at 2)
  train_teacher(llmsrec::app::teacher_sections(cfg_cut), ds, opt);
  cfg_cut.teacher.epochs = 4;
  opt.resume = true;
  auto resumed = train_teacher(llmsrec::app::teacher_sections(cfg_cut), ds, opt);

  EXPECT_EQ(full["valid"], resumed["valid"]);
  EXPECT_EQ(full["test"], resumed["test"]);
  EXPECT_EQ(full["loss"], resumed["loss"]);
  EXPECT_EQ(resumed["epochs_run"].get<int64_t>(), 1);
  auto wf = last_weights((dir_full / "teacher.h5").string()), wr = last_weights((dir_cut / "teacher.h5").string());
  for (size_t i = 0; i < wf.size(); ++i) EXPECT_TRUE(at::equal(wf[i], wr[i])) << "parameter " << i;
  // Best-by-valid weights and the Adam state travel too.
  auto bf = load_teacher_model((dir_full / "teacher.h5").string(), "best");
  auto br = load_teacher_model((dir_cut / "teacher.h5").string(), "best");
  EXPECT_TRUE(at::equal(bf->item_emb(), br->item_emb()));
  checkpoint::h5::File f = checkpoint::h5::File::open((dir_cut / "teacher.h5").string());
  EXPECT_EQ(f.attr_string("llmsrec_schema"), "llmsrec.teacher");
  EXPECT_EQ(f.attr_int("schema_version"), 1);
  EXPECT_EQ(f.attr_int("epoch"), 4);
  EXPECT_TRUE(f.exists("adam/m/item_emb"));
  // A checkpoint of another shape is refused.
  auto cfg_bad = tiny_config(dir_cut);
  cfg_bad.teacher.hidden = 8;
  cfg_bad.teacher.epochs = 5;
  EXPECT_THROW(train_teacher(llmsrec::app::teacher_sections(cfg_bad), ds, opt), ConfigError);
  fs::remove_all(dir_full);
  fs::remove_all(dir_cut);
}

TEST(TeacherExport, RoundTripRecomputesTheStoredRepresentations) {
  auto ds = testing::make_walk_dataset(70, 40, 2, 16);
  auto dir = fresh_dir("export");
  auto cfg = tiny_config(dir);
  cfg.teacher.epochs = 2;
  cfg.teacher.export_.all_prefixes = true;
  cfg.teacher.export_.chunk_rows = 16;  // many chunks through the background writer
  cfg.teacher.export_.batch = 7;
  cfg.teacher.export_.queue_chunks = 2;
  train_teacher(llmsrec::app::teacher_sections(cfg), ds, {});
  const std::string teacher = (dir / "teacher.h5").string(), targets = (dir / "targets.h5").string();
  auto summary = export_teacher(llmsrec::app::teacher_sections(cfg), ds, teacher, targets);
  EXPECT_EQ(summary["users"].get<int64_t>(), 70);

  auto model = load_teacher_model(teacher, "best");
  const int64_t U = ds.num_users(), d = 16, L = 10;
  checkpoint::h5::File f = checkpoint::h5::File::open(targets);
  EXPECT_EQ(f.attr_string("llmsrec_schema"), "llmsrec.targets");
  std::vector<uint64_t> dims;
  auto E = f.read<float>("items/embedding", &dims);
  EXPECT_EQ(dims, (std::vector<uint64_t>{41, 16}));
  EXPECT_TRUE(at::equal(at::from_blob(E.data(), {41, 16}, at::kFloat), model->item_emb()));  // raw, not scaled
  auto recompute = [&](TeacherInput kind) {
    at::Tensor seq = at::empty({U, L}, at::kLong);
    for (int64_t u = 0; u < U; ++u) fill_right_aligned(teacher_input(ds, u, kind), L, seq.data_ptr<int64_t>() + u * L);
    at::NoGradGuard g;
    return model->user_repr(seq);
  };
  const std::pair<const char*, TeacherInput> kinds[] = {{"users/o_train_minus_last", TeacherInput::kTrainMinusLast},
                                                        {"users/o_train", TeacherInput::kTrain},
                                                        {"users/o_train_valid", TeacherInput::kTrainValid}};
  std::map<std::string, std::vector<float>> stored;
  for (const auto& [name, kind] : kinds) {
    stored[name] = f.read<float>(name, &dims);
    ASSERT_EQ(dims, (std::vector<uint64_t>{static_cast<uint64_t>(U), 16}));
    at::Tensor s = at::from_blob(stored[name].data(), {U, d}, at::kFloat);
    EXPECT_LE((s - recompute(kind)).abs().max().item<double>(), 1e-5) << name;
  }
  // Prefixes: CSR over train items; the last prefix is O_u(train), the one before O_u(train[:-1]).
  auto offsets = f.read<int64_t>("prefixes/offsets");
  auto pre = f.read<float>("prefixes/o", &dims);
  ASSERT_EQ(offsets.size(), static_cast<size_t>(U + 1));
  ASSERT_EQ(dims[0], static_cast<uint64_t>(offsets.back()));
  for (int64_t u = 0; u < U; ++u) {
    const int64_t n = ds.train_items(u).size();
    ASSERT_EQ(offsets[u + 1] - offsets[u], n);
    for (int64_t k = 0; k < d; ++k) {
      EXPECT_NEAR(pre[(offsets[u + 1] - 1) * d + k], stored["users/o_train"][u * d + k], 1e-5);
      if (n >= 2) EXPECT_NEAR(pre[(offsets[u + 1] - 2) * d + k], stored["users/o_train_minus_last"][u * d + k], 1e-5);
    }
  }
  fs::remove_all(dir);
}

TEST(TeacherEval, ProtocolsAreReproducibleAndRespectHistory) {
  auto ds = testing::make_walk_dataset(60, 40, 3, 12);
  models::sasrec::SasrecShape s;
  s.num_items = 40;
  s.hidden = 8;
  s.maxlen = 6;
  models::sasrec::SasrecModel m(s);
  m.init(1);
  TeacherEvalOptions o;
  o.full_ranking = true;
  auto fixed = evaluate_teacher(m, ds, EvalSplit::kTest, o);
  EXPECT_EQ(fixed.sampled.users(), static_cast<int64_t>(ds.test.users.size()));
  EXPECT_EQ(fixed.full.users(), fixed.sampled.users());
  o.protocol = "sasrec";
  o.users_cap = 25;
  o.negatives = 30;
  auto a = evaluate_teacher(m, ds, EvalSplit::kValid, o), b = evaluate_teacher(m, ds, EvalSplit::kValid, o);
  EXPECT_EQ(a.sampled.users(), 25);
  EXPECT_EQ(a.sampled.rank_histogram(), b.sampled.rank_histogram());
  o.protocol = "nope";
  EXPECT_THROW(evaluate_teacher(m, ds, EvalSplit::kValid, o), ConfigError);
}

}  // namespace
}  // namespace llmsrec::trainer
