#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/checkpoint_store.h"
#include "core/error.h"

namespace fs = std::filesystem;
using llmsrec::checkpoint::CheckpointStore;
using llmsrec::checkpoint::TrainingState;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("llmsrec_ckpt_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TrainingState sample_state(float v) {
  TrainingState s;
  s.tensors.emplace_back("params/f_user/0.weight", at::full({3, 2}, v));
  s.tensors.emplace_back("adam/step", at::tensor({int64_t{7}}));
  s.tensors.emplace_back("rng", at::tensor({1.5, 2.5}, at::kDouble));
  s.meta = {{"epoch", 2}, {"step", 40}, {"lr", 1e-4}};
  return s;
}

TEST(CheckpointStore, SaveLoadRoundTripIsBitwise) {
  auto dir = fresh_dir("roundtrip");
  CheckpointStore store(dir.string(), 3);
  EXPECT_FALSE(store.latest_path().has_value());
  auto path = store.save(40, sample_state(0.123f), "run:\n  seed: 1\n");
  ASSERT_EQ(store.latest_path(), path);
  TrainingState back = CheckpointStore::load(path);
  EXPECT_TRUE(at::equal(back.tensor("params/f_user/0.weight"), at::full({3, 2}, 0.123f)));
  EXPECT_EQ(back.tensor("adam/step").item<int64_t>(), 7);
  EXPECT_EQ(back.tensor("rng").scalar_type(), at::kDouble);
  EXPECT_EQ(back.meta["step"], 40);
  EXPECT_THROW(back.tensor("nope"), llmsrec::IoError);
}

TEST(CheckpointStore, KeepsLastKAndLatestPointsAtNewest) {
  auto dir = fresh_dir("keep");
  CheckpointStore store(dir.string(), 2);
  for (int64_t step : {10, 20, 30, 40}) store.save(step, sample_state(step), "");
  auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[0].find("ckpt-00000030.h5"), std::string::npos);
  EXPECT_NE(store.latest_path()->find("ckpt-00000040.h5"), std::string::npos);
}

TEST(CheckpointStore, InterruptedSaveLeavesPreviousCheckpointIntact) {
  auto dir = fresh_dir("crash");
  CheckpointStore store(dir.string(), 3);
  auto good = store.save(10, sample_state(1.0f), "");
  // A writer killed mid-write leaves only a .tmp file behind.
  std::ofstream(dir / "ckpt-00000020.h5.tmp") << "partial";
  EXPECT_EQ(store.latest_path(), good);
  EXPECT_EQ(store.list().size(), 1u);
  TrainingState back = CheckpointStore::load(*store.latest_path());
  EXPECT_TRUE(at::equal(back.tensor("params/f_user/0.weight"), at::full({3, 2}, 1.0f)));
}

TEST(CheckpointStore, ForeignFileIsRejectedWithSchemaMessage) {
  auto dir = fresh_dir("foreign");
  std::ofstream(dir / "x.h5") << "garbage";
  EXPECT_THROW(CheckpointStore::load((dir / "x.h5").string()), llmsrec::IoError);
}

}  // namespace

// Every byte of a small checkpoint flipped in turn: each load must either throw
// llmsrec::Error or give back exactly what was saved (the byte was unused),
// never other values. Without the checksums (Fletcher32 on datasets, the 1.10
// format's metadata checksums, fixed-length attributes) flips in tensor data or
// in the state/config text load silently.
TEST(CheckpointStore, EveryFlippedByteIsAnErrorOrHarmless) {
  auto dir = fresh_dir("flip");
  CheckpointStore store(dir.string(), 3);
  const TrainingState saved = sample_state(0.25f);
  const std::string config = "run:\n  seed: 1\n";
  const auto path = store.save(40, saved, config);
  std::vector<char> good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(good.size(), 512u);
  int errors = 0, harmless = 0;
  std::vector<size_t> silent;
  for (size_t at = 0; at < good.size(); ++at) {
    std::vector<char> bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x04);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    try {
      TrainingState back = CheckpointStore::load(path);
      bool same = back.meta == saved.meta && back.tensors.size() == saved.tensors.size();
      for (size_t i = 0; same && i < saved.tensors.size(); ++i) {  // load() returns them in name order
        const at::Tensor& want = saved.tensors[i].second;
        const at::Tensor& got = back.tensor(saved.tensors[i].first);
        same = got.scalar_type() == want.scalar_type() && at::equal(got, want);
      }
      if (same) ++harmless; else silent.push_back(at);
    } catch (const llmsrec::Error&) {
      ++errors;
    }
  }
  EXPECT_TRUE(silent.empty()) << silent.size() << " flipped bytes loaded as different values, first at offset "
                              << (silent.empty() ? 0 : silent[0]) << " of " << good.size();
  EXPECT_GT(errors, static_cast<int>(good.size() / 4)) << "harmless " << harmless;
}
