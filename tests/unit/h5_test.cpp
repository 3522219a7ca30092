#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "checkpoint/h5.h"
#include "checkpoint/h5_inspect.h"
#include "core/error.h"

namespace h5 = llmsrec::checkpoint::h5;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("llmsrec_h5_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(H5, RoundTripNumbersStringsAndAttributes) {
  auto path = (temp_dir() / "roundtrip.h5").string();
  {
    h5::AtomicFile out(path);
    auto& root = out.root();
    root.set_attr("llmsrec_schema", "llmsrec.test");
    root.set_attr("count", int64_t{42});
    root.set_attr("ratio", 0.25);
    auto g = root.create_group("users");
    std::vector<int64_t> offsets = {0, 3, 5};
    g.write("offsets", offsets);
    std::vector<float> m = {1, 2, 3, 4, 5, 6};
    g.write("matrix", m.data(), {2, 3}, {.chunk_rows = 1, .gzip_level = 4});
    g.write_strings("titles", {"Dune", "Caf\xc3\xa9 \xe2\x98\x95", ""});
    EXPECT_FALSE(fs::exists(path)) << "the final name must not exist before commit";
    out.commit();
  }
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  auto f = h5::File::open(path);
  EXPECT_EQ(f.attr_string("llmsrec_schema"), "llmsrec.test");
  EXPECT_EQ(f.attr_int("count"), 42);
  EXPECT_DOUBLE_EQ(f.attr_double("ratio"), 0.25);
  EXPECT_TRUE(f.exists("users/offsets"));
  EXPECT_FALSE(f.exists("users/nope"));
  EXPECT_FALSE(f.exists("nogroup/offsets"));
  EXPECT_TRUE(f.is_group("users"));
  EXPECT_EQ(f.read<int64_t>("users/offsets"), (std::vector<int64_t>{0, 3, 5}));
  std::vector<uint64_t> dims;
  auto m = f.read<double>("users/matrix", &dims);  // converted float -> double by HDF5
  EXPECT_EQ(dims, (std::vector<uint64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(m[5], 6.0);
  EXPECT_EQ(f.read_rows<float>("users/matrix", 1, 1), (std::vector<float>{4, 5, 6}));
  auto titles = f.read_strings("users/titles");
  ASSERT_EQ(titles.size(), 3u);
  EXPECT_EQ(titles[1], "Caf\xc3\xa9 \xe2\x98\x95");
  EXPECT_EQ(titles[2], "");
  auto info = f.info("users/matrix");
  EXPECT_EQ(info.chunk, (std::vector<uint64_t>{1, 3}));
  EXPECT_NE(info.compression.find("gzip-4"), std::string::npos);
  EXPECT_EQ(info.dtype, h5::DType::kFloat32);
}

TEST(H5, UncommittedFileLeavesNothing) {
  auto path = (temp_dir() / "abandoned.h5").string();
  fs::remove(path);
  {
    h5::AtomicFile out(path);
    out.root().write("x", std::vector<int32_t>{1, 2, 3});
    // no commit: as if an exception unwound the writer
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(H5, ErrorsNameFileAndObject) {
  auto path = (temp_dir() / "errors.h5").string();
  {
    h5::AtomicFile out(path);
    out.root().write("x", std::vector<int32_t>{1});
    out.root().write_strings("s", {"a"});
    out.commit();
  }
  auto f = h5::File::open(path);
  try {
    f.read<int32_t>("missing");
    FAIL() << "expected IoError";
  } catch (const llmsrec::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("errors.h5:/missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(f.read<int32_t>("s"), llmsrec::IoError);      // strings are not numbers
  EXPECT_THROW(f.read_strings("x"), llmsrec::IoError);       // numbers are not strings
  EXPECT_THROW(f.read_rows<int32_t>("x", 0, 2), llmsrec::IoError);
  EXPECT_THROW(f.attr_string("nope"), llmsrec::IoError);
}

TEST(H5, ForeignAndTruncatedFilesAreRejectedClearly) {
  auto dir = temp_dir();
  auto foreign = (dir / "foreign.h5").string();
  std::ofstream(foreign) << "this is not hdf5";
  try {
    h5::File::open(foreign);
    FAIL();
  } catch (const llmsrec::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is truncated or not an HDF5 file"), std::string::npos) << e.what();
  }
  auto good = (dir / "good.h5").string();
  {
    h5::AtomicFile out(good);
    std::vector<double> big(100000, 1.5);
    out.root().write("big", big);
    out.commit();
  }
  auto truncated = (dir / "truncated.h5").string();
  fs::copy_file(good, truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(good) / 2);
  bool failed_clearly = false;
  try {
    auto f = h5::File::open(truncated);
    f.read<double>("big");
  } catch (const llmsrec::IoError& e) {
    const std::string what = e.what();
    failed_clearly = what.find("truncated.h5") != std::string::npos &&
                     what.find("is truncated or not an HDF5 file") != std::string::npos;
    EXPECT_TRUE(failed_clearly) << what;
  }
  EXPECT_TRUE(failed_clearly);
  EXPECT_THROW(h5::File::open((dir / "absent.h5").string()), llmsrec::IoError);
}

TEST(H5Inspect, DescribesTreeAndStats) {
  auto path = (temp_dir() / "describe.h5").string();
  {
    h5::AtomicFile out(path);
    out.root().set_attr("llmsrec_schema", "llmsrec.test");
    auto g = out.root().create_group("weights");
    std::vector<float> w = {1, 2, 3, NAN, INFINITY, 5};
    g.write("w", w.data(), {2, 3});
    out.commit();
  }
  auto d = llmsrec::checkpoint::describe_h5(path, {.stats = true});
  EXPECT_EQ(d["schema"], "llmsrec.test");
  ASSERT_EQ(d["objects"].size(), 2u);
  const auto& w = d["objects"][1];
  EXPECT_EQ(w["path"], "/weights/w");
  EXPECT_EQ(w["dtype"], "float32");
  EXPECT_EQ(w["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(w["stats"]["nan"], 1);
  EXPECT_EQ(w["stats"]["inf"], 1);
  EXPECT_DOUBLE_EQ(w["stats"]["mean"].get<double>(), 11.0 / 4);
  EXPECT_DOUBLE_EQ(w["stats"]["max"].get<double>(), 5.0);
}

}  // namespace
