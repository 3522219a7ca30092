// safetensors reader/writer: round trips, sharded index, and bad input that
// must produce a typed error naming the file and the tensor.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"
#include "core/error.h"

namespace fs = std::filesystem;
using namespace llmsrec;
using checkpoint::SafetensorsReader;
using checkpoint::SafetensorsWriter;
using checkpoint::StDtype;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("llmsrec_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A valid file with tensors "a" [2,3] F32 and "b" [4] BF16.
  std::string write_valid(const std::string& name) const {
    SafetensorsWriter w;
    w.add_f32("a", {2, 3}, {1, 2, 3, 4, 5, 6});
    uint16_t b[4] = {checkpoint::f32_to_bf16(1.5f), checkpoint::f32_to_bf16(-2.f), checkpoint::f32_to_bf16(0.f),
                     checkpoint::f32_to_bf16(3.25f)};
    w.add("b", StDtype::kBF16, {4}, b);
    w.write(path(name));
    return path(name);
  }

  // Writes a file whose header is `header` followed by `data_bytes` zero bytes.
  std::string write_raw(const std::string& name, const nlohmann::json& header, size_t data_bytes) const {
    std::string h = header.dump();
    std::string out(8, '\0');
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
    out += h;
    out += std::string(data_bytes, '\0');
    std::ofstream(path(name), std::ios::binary) << out;
    return path(name);
  }

  fs::path dir_;
};

// Runs `f`, expects an exception of type E whose message contains every needle.
template <typename E, typename F>
void expect_error(F f, std::initializer_list<std::string> needles) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what() << "\n  missing: " << n;
  }
}

}  // namespace

TEST_F(SafetensorsTest, RoundTripF32AndBf16) {
  auto file = write_valid("m.safetensors");
  auto r = SafetensorsReader::open(file);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"a", "b"}));
  std::vector<float> a(6), b(4);
  r.read_f32("a", {2, 3}, a.data());
  r.read_f32("b", {4}, b.data());
  EXPECT_EQ(a, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(b, (std::vector<float>{1.5f, -2.f, 0.f, 3.25f}));
  EXPECT_EQ(r.get("b").dtype, StDtype::kBF16);
}

TEST_F(SafetensorsTest, HalfConversions) {
  EXPECT_EQ(checkpoint::f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(checkpoint::f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(checkpoint::f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(checkpoint::f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(checkpoint::bf16_to_f32(checkpoint::f32_to_bf16(1.0f + 1.0f / 512)), 1.0f);  // ties to even
}

TEST_F(SafetensorsTest, ShardedIndex) {
  SafetensorsWriter w1, w2;
  w1.add_f32("x", {2}, {1, 2});
  w2.add_f32("y", {1}, {7});
  w1.write(path("s-1.safetensors"));
  w2.write(path("s-2.safetensors"));
  std::ofstream(path("model.safetensors.index.json"))
      << nlohmann::json{{"metadata", {}}, {"weight_map", {{"x", "s-1.safetensors"}, {"y", "s-2.safetensors"}}}}.dump();
  auto r = SafetensorsReader::open(dir_.string());
  float y = 0;
  r.read_f32("y", {1}, &y);
  EXPECT_EQ(y, 7.f);
  EXPECT_EQ(r.get("x").file, path("s-1.safetensors"));

  std::ofstream(path("model.safetensors.index.json"))
      << nlohmann::json{{"weight_map", {{"x", "s-1.safetensors"}, {"z", "s-2.safetensors"}}}}.dump();
  expect_error<DataError>([&] { SafetensorsReader::open(dir_.string()); }, {"'z'", "s-2.safetensors"});
}

TEST_F(SafetensorsTest, TruncatedFile) {
  auto file = write_valid("t.safetensors");
  const auto size = fs::file_size(file);
  fs::resize_file(file, size - 3);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'b'", "past the end"});
  fs::resize_file(file, 5);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "too short"});
  fs::resize_file(file, 20);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "header length"});
}

TEST_F(SafetensorsTest, OffsetsPastEnd) {
  auto file = write_raw("o.safetensors", {{"w", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {8, 24}}}}}, 16);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'w'", "past the end"});
}

TEST_F(SafetensorsTest, OverlappingOffsets) {
  auto file = write_raw("ov.safetensors",
                        {{"p", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {0, 16}}}},
                         {"q", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {8, 16}}}}},
                        16);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'p'", "'q'", "overlap"});
}

TEST_F(SafetensorsTest, UnsupportedDtype) {
  auto file = write_raw("d.safetensors", {{"ids", {{"dtype", "I64"}, {"shape", {2}}, {"data_offsets", {0, 16}}}}}, 16);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'ids'", "I64", "F32, F16, BF16"});
}

TEST_F(SafetensorsTest, SizeDisagreesWithShape) {
  auto file = write_raw("s.safetensors", {{"w", {{"dtype", "F16"}, {"shape", {3, 2}}, {"data_offsets", {0, 8}}}}}, 8);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'w'", "needs 12 bytes"});
}

TEST_F(SafetensorsTest, MalformedHeader) {
  auto file = write_raw("j.safetensors", {{"w", {{"dtype", "F32"}, {"shape", {-1}}, {"data_offsets", {0, 0}}}}}, 0);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'w'", "shape"});
  file = write_raw("k.safetensors", {{"w", {{"dtype", "F32"}, {"shape", {1}}}}}, 4);
  expect_error<DataError>([&] { SafetensorsReader::open(file); }, {file, "'w'", "data_offsets"});
  std::string bad = std::string("\x05\0\0\0\0\0\0\0", 8) + "{\"a\":";
  std::ofstream(path("bad.safetensors"), std::ios::binary) << bad;
  expect_error<DataError>([&] { SafetensorsReader::open(path("bad.safetensors")); }, {"bad.safetensors", "JSON"});
}

TEST_F(SafetensorsTest, MissingAndMisShapedTensor) {
  auto file = write_valid("m.safetensors");
  auto r = SafetensorsReader::open(file);
  expect_error<DataError>([&] { r.get("model.norm.weight"); }, {"model.norm.weight", file});
  std::vector<float> buf(6);
  expect_error<ShapeError>([&] { r.read_f32("a", {3, 2}, buf.data()); }, {"'a'", file, "[2, 3]", "[3, 2]"});
}

TEST_F(SafetensorsTest, MetadataIgnoredAndParserIsPure) {
  auto file = write_valid("m.safetensors");
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  size_t start = 0;
  auto entries = checkpoint::parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                                      "mem", &start);
  EXPECT_EQ(entries.size(), 2u);  // __metadata__ is not a tensor
  EXPECT_EQ(start % 8, 0u);
  EXPECT_EQ(entries["b"].begin, 24u);
}
