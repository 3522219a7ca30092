#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "data/synthetic.h"
#include "app/run_config.h"
#include "data_fixtures.h"

namespace {

using namespace llmsrec::data;
using namespace llmsrec::data::testing;

Dataset small_synthetic() {
  DataConfig cfg;
  cfg.synthetic.users = 80;
  cfg.synthetic.items = 120;
  cfg.k_core = 2;
  cfg.eval_negatives = 30;
  Dataset ds = build(generate_synthetic(cfg.synthetic, 3), cfg, 3);
  ds.name = "synthetic";
  ds.resolved_config = "data:\n  format: synthetic\n";
  ds.sources = {{"a/b.tsv", 123, 0xdeadbeef}};
  return ds;
}

TEST(DataDatasetIo, RoundTrip) {
  std::string dir = temp_dir();
  Dataset ds = small_synthetic();
  save_dataset(ds, dir + "/dataset.h5");
  EXPECT_FALSE(std::filesystem::exists(dir + "/dataset.h5.tmp"));
  Dataset back = load_dataset(dir + "/dataset.h5");
  EXPECT_EQ(back.user_raw_ids, ds.user_raw_ids);
  EXPECT_EQ(back.item_raw_ids, ds.item_raw_ids);
  EXPECT_EQ(back.item_titles, ds.item_titles);
  EXPECT_EQ(back.offsets, ds.offsets);
  EXPECT_EQ(back.items, ds.items);
  EXPECT_EQ(back.timestamps, ds.timestamps);
  EXPECT_EQ(back.train_end, ds.train_end);
  EXPECT_EQ(back.valid_end, ds.valid_end);
  EXPECT_EQ(back.time_kind, ds.time_kind);
  EXPECT_EQ(back.valid.users, ds.valid.users);
  EXPECT_EQ(back.valid.targets, ds.valid.targets);
  EXPECT_EQ(back.valid.negatives, ds.valid.negatives);
  EXPECT_EQ(back.test.negatives, ds.test.negatives);
  EXPECT_EQ(back.test.num_negatives, 30);
  EXPECT_EQ(back.name, "synthetic");
  EXPECT_EQ(back.seed, 3u);
  EXPECT_EQ(back.resolved_config, ds.resolved_config);
  ASSERT_EQ(back.sources.size(), 1u);
  EXPECT_EQ(back.sources[0].crc32, 0xdeadbeefu);
  EXPECT_EQ(back.sources[0].bytes, 123);

  auto f = llmsrec::checkpoint::h5::File::open(dir + "/dataset.h5");
  EXPECT_EQ(f.attr_string("llmsrec_schema"), "llmsrec.dataset");
  EXPECT_EQ(f.attr_int("schema_version"), 1);
  EXPECT_EQ(f.attr_int("num_users"), ds.num_users());
  EXPECT_EQ(f.attr_int("num_train_interactions"), ds.num_train_interactions());
  EXPECT_FALSE(f.attr_string("created_by").empty());
}

TEST(DataDatasetIo, RejectsOtherFilesAndBrokenInvariants) {
  std::string dir = temp_dir();
  {
    llmsrec::checkpoint::h5::AtomicFile out(dir + "/other.h5");
    out.root().set_attr("llmsrec_schema", "llmsrec.teacher");
    out.root().set_attr("schema_version", int64_t{1});
    out.commit();
  }
  std::string err = error_of([&] { load_dataset(dir + "/other.h5"); });
  EXPECT_NE(err.find("is not a dataset file"), std::string::npos) << err;
  EXPECT_NE(err.find("llmsrec prepare"), std::string::npos) << err;

  Dataset ds = small_synthetic();
  ds.items[3] = static_cast<int32_t>(ds.num_items() + 5);
  err = error_of([&] { save_dataset(ds, dir + "/bad.h5"); });
  EXPECT_NE(err.find("sequences/items[3]"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.h5")) << "nothing written for an invalid dataset";

  write_file(dir, "garbage.h5", "not hdf5");
  err = error_of([&] { load_dataset(dir + "/garbage.h5"); });
  EXPECT_NE(err.find("not an HDF5 file"), std::string::npos) << err;
}

TEST(DataDatasetIo, PrepareTwiceGivesIdenticalArrays) {
  // End to end through prepare(): same seed, same data arrays in the file.
  std::string dir = temp_dir();
  auto run = [&](const std::string& sub, int64_t seed) {
    auto cfg = llmsrec::app::load_run_config(
        "", {"run.dir=" + dir + "/" + sub, "run.seed=" + std::to_string(seed), "data.synthetic.users=200"});
    llmsrec::core::NullProgress progress;
    return load_dataset(prepare(cfg.data, cfg.run, progress).output);
  };
  Dataset a = run("a", 9), b = run("b", 9), c = run("c", 10);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.timestamps, b.timestamps);
  EXPECT_EQ(a.item_titles, b.item_titles);
  EXPECT_EQ(a.valid.negatives, b.valid.negatives);
  EXPECT_EQ(a.test.negatives, b.test.negatives);
  EXPECT_NE(a.items, c.items);
}

}  // namespace

namespace {
bool same_dataset(const Dataset& a, const Dataset& b) {
  return a.user_raw_ids == b.user_raw_ids && a.item_raw_ids == b.item_raw_ids && a.item_titles == b.item_titles &&
         a.offsets == b.offsets && a.items == b.items && a.timestamps == b.timestamps && a.train_end == b.train_end &&
         a.valid_end == b.valid_end && a.time_kind == b.time_kind && a.valid.users == b.valid.users &&
         a.valid.targets == b.valid.targets && a.valid.negatives == b.valid.negatives &&
         a.test.users == b.test.users && a.test.targets == b.test.targets && a.test.negatives == b.test.negatives &&
         a.valid.num_negatives == b.valid.num_negatives && a.test.num_negatives == b.test.num_negatives &&
         a.name == b.name && a.seed == b.seed && a.resolved_config == b.resolved_config &&
         a.empty_titles == b.empty_titles && a.skipped_lines == b.skipped_lines && a.sources.size() == b.sources.size() &&
         (a.sources.empty() || (a.sources[0].path == b.sources[0].path && a.sources[0].bytes == b.sources[0].bytes &&
                                a.sources[0].crc32 == b.sources[0].crc32));
}
}  // namespace

// Bytes of dataset.h5 flipped at 1,500 seeded positions (titles, ids, arrays,
// attributes, HDF5 metadata): each load throws llmsrec::Error or gives back the
// saved dataset, never different data (checksums: checkpoint/h5.h).
TEST(DataDatasetIo, FlippedBytesAreAnErrorOrHarmless) {
  const std::string path = temp_dir() + "/dataset.h5";
  const Dataset ds = small_synthetic();
  save_dataset(ds, path);
  std::vector<char> good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(good.size(), 4096u);
  std::mt19937_64 rng(7);
  int errors = 0;
  std::vector<size_t> silent;
  for (int i = 0; i < 1500; ++i) {
    const size_t at = rng() % good.size();
    std::vector<char> bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    try {
      if (!same_dataset(load_dataset(path), ds)) silent.push_back(at);
    } catch (const llmsrec::Error&) {
      ++errors;
    }
  }
  EXPECT_TRUE(silent.empty()) << silent.size() << " flips loaded as different data, first at offset "
                              << (silent.empty() ? 0 : silent[0]) << " of " << good.size();
  EXPECT_GT(errors, 100);
}
