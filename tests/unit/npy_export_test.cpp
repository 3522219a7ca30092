// The .npy v1.0 header (magic, version, length, dict, 64-byte alignment) and
// `inspect export` on real HDF5 files: bytes, dtypes, shapes, errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint/h5.h"
#include "checkpoint/npy_export.h"
#include "core/error.h"

namespace h5 = llmsrec::checkpoint::h5;
namespace fs = std::filesystem;
using llmsrec::checkpoint::export_npy;
using llmsrec::checkpoint::npy_header;

namespace {

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("llmsrec_npy_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The dict text of a header: bytes [10, 10 + len).
std::string dict_of(const std::string& header) {
  const size_t len = static_cast<unsigned char>(header[8]) | (static_cast<unsigned char>(header[9]) << 8);
  return header.substr(10, len);
}

TEST(NpyHeader, MagicVersionLengthAndAlignment) {
  const std::string h = npy_header("<f4", {3, 4});
  ASSERT_GE(h.size(), 11u);
  EXPECT_EQ(h.substr(0, 6), std::string("\x93NUMPY"));
  EXPECT_EQ(h[6], '\x01') << "major version";
  EXPECT_EQ(h[7], '\x00') << "minor version";
  const size_t len = static_cast<unsigned char>(h[8]) | (static_cast<unsigned char>(h[9]) << 8);
  EXPECT_EQ(h.size(), 10 + len) << "the length field counts the dict with its padding and newline";
  EXPECT_EQ(h.size() % 64, 0u) << "data must start 64-byte aligned";
  EXPECT_EQ(h.back(), '\n');
  const std::string dict = dict_of(h);
  EXPECT_EQ(dict.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 0), 0u) << dict;
  EXPECT_EQ(dict.find_first_not_of(' ', dict.find('}') + 1), dict.size() - 1) << "only spaces before the newline";
}

TEST(NpyHeader, ShapesOfEveryRank) {
  EXPECT_NE(dict_of(npy_header("<i8", {})).find("'shape': ()"), std::string::npos) << "0-d";
  EXPECT_NE(dict_of(npy_header("<i8", {7})).find("'shape': (7,)"), std::string::npos) << "1-d needs the comma";
  EXPECT_NE(dict_of(npy_header("|u1", {0, 5})).find("'shape': (0, 5)"), std::string::npos);
  EXPECT_NE(dict_of(npy_header("<f8", {2, 3, 4})).find("'shape': (2, 3, 4)"), std::string::npos);
  for (size_t n = 0; n < 40; ++n) {  // every dict length pads to a multiple of 64
    const std::vector<uint64_t> shape(n % 8, 123456789ull * (n + 1));
    EXPECT_EQ(npy_header("<f4", shape).size() % 64, 0u) << n;
  }
}

TEST(NpyHeader, RefusesHeadersVersionOneCannotHold) {
  std::vector<uint64_t> many(4000, 18446744073709551615ull);
  EXPECT_THROW(npy_header("<f4", many), llmsrec::IoError);
}

class NpyExport : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (temp_dir() / "src.h5").string();
    h5::AtomicFile out(path_);
    auto& root = out.root();
    auto g = root.create_group("items");
    for (int i = 0; i < 10 * 3; ++i) floats_.push_back(0.5f * static_cast<float>(i) - 3.0f);
    g.write("vector", floats_.data(), {10, 3}, {.chunk_rows = 4});  // 3 chunks, the last one partial
    g.write("ids", std::vector<int32_t>{-1, 2, 2147483647});
    g.write("counts", std::vector<int64_t>{1, -5, 1LL << 40});
    g.write("bytes", std::vector<uint8_t>{0, 7, 255});
    std::vector<double> scalar = {2.5};
    root.write("scale", scalar.data(), {});
    g.write_strings("titles", {"a", "b"});
    out.commit();
  }
  std::string out_path(const std::string& name) { return (temp_dir() / name).string(); }
  std::string path_;
  std::vector<float> floats_;
};

TEST_F(NpyExport, FloatMatrixBytesFollowTheHeader) {
  const std::string out = out_path("vector.npy");
  auto s = export_npy(path_, "/items/vector", out);
  EXPECT_EQ(s["dtype"], "<f4");
  EXPECT_EQ(s["shape"], nlohmann::json::array({10, 3}));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  const std::string bytes = slurp(out);
  const std::string header = npy_header("<f4", {10, 3});
  ASSERT_EQ(bytes.size(), header.size() + floats_.size() * sizeof(float));
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  std::vector<float> back(floats_.size());
  std::memcpy(back.data(), bytes.data() + header.size(), back.size() * sizeof(float));
  EXPECT_EQ(back, floats_);
  EXPECT_EQ(s["bytes"].get<uint64_t>(), bytes.size());
}

TEST_F(NpyExport, IntegerScalarAndByteDtypes) {
  struct Case {
    const char* dataset;
    const char* descr;
    size_t payload;
  } cases[] = {{"items/ids", "<i4", 12}, {"items/counts", "<i8", 24}, {"items/bytes", "|u1", 3}, {"scale", "<f8", 8}};
  for (const auto& c : cases) {
    const std::string out = out_path("x.npy");
    auto s = export_npy(path_, c.dataset, out);
    EXPECT_EQ(s["dtype"], c.descr) << c.dataset;
    const std::string bytes = slurp(out);
    EXPECT_EQ(bytes.size() % 64, c.payload % 64) << c.dataset;
    EXPECT_EQ(bytes.size() - dict_of(bytes).size() - 10, c.payload) << c.dataset;
  }
  const std::string bytes = slurp(out_path("x.npy"));  // the last case: the 0-d double
  double v = 0;
  std::memcpy(&v, bytes.data() + bytes.size() - 8, 8);
  EXPECT_EQ(v, 2.5);
  EXPECT_NE(dict_of(bytes).find("'shape': ()"), std::string::npos);
}

TEST_F(NpyExport, ClearErrors) {
  const std::string out = out_path("err.npy");
  try {
    export_npy(path_, "items/nope", out);
    FAIL() << "missing dataset accepted";
  } catch (const llmsrec::IoError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("items/nope"), std::string::npos) << m;
    EXPECT_NE(m.find("/items/vector (float32 [10, 3])"), std::string::npos) << "lists what exists: " << m;
  }
  try {
    export_npy(path_, "items", out);
    FAIL() << "group accepted";
  } catch (const llmsrec::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is a group"), std::string::npos) << e.what();
  }
  try {
    export_npy(path_, "items/titles", out);
    FAIL() << "string dataset accepted";
  } catch (const llmsrec::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("string dataset"), std::string::npos) << e.what();
  }
  EXPECT_THROW(export_npy(out_path("missing.h5"), "items/vector", out), llmsrec::IoError);
  EXPECT_FALSE(fs::exists(out)) << "no output after a failure";
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

}  // namespace
