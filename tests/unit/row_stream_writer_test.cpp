// The background row writer (uneven blocks coalesced into chunks, bounded
// queue, errors surfacing in the caller, atomic and abandoned files) and the
// joining of per-rank part files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "checkpoint/h5.h"
#include "checkpoint/row_parts.h"
#include "checkpoint/row_stream_writer.h"
#include "core/error.h"

namespace h5 = llmsrec::checkpoint::h5;
namespace fs = std::filesystem;
using namespace llmsrec::checkpoint;

namespace {

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("llmsrec_rows_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::vector<float> rows_from(uint64_t begin, uint64_t n, uint64_t cols, float tag) {
  std::vector<float> v;
  for (uint64_t r = begin; r < begin + n; ++r) {
    for (uint64_t c = 0; c < cols; ++c) v.push_back(tag + static_cast<float>(r) * 100.0f + static_cast<float>(c));
  }
  return v;
}

TEST(RowStreamWriter, UnevenBlocksLandInOrderInChunkedDatasets) {
  const std::string path = (temp_dir() / "stream.h5").string();
  RowWriterOptions opt;
  opt.queue_blocks = 2;  // small: push() must wait for the thread sometimes
  opt.chunk_rows = 4;
  RowStreamWriter w(path, {{"a/x", 23, 3}, {"b", 5, 2}}, opt,
                    [](h5::Group& root) { root.set_attr("llmsrec_schema", "llmsrec.test"); });
  const uint64_t sizes[] = {1, 5, 3, 7, 2, 5};  // 23 rows in blocks that straddle chunk edges
  uint64_t row = 0;
  for (uint64_t n : sizes) {
    w.push(0, rows_from(row, n, 3, 0.5f));
    if (row == 0) w.push(1, rows_from(0, 5, 2, 0.25f));  // datasets interleave freely
    row += n;
  }
  RowWriterStats st = w.finish();
  EXPECT_EQ(st.bytes, (23 * 3 + 5 * 2) * sizeof(float));
  auto f = h5::File::open(path);
  EXPECT_EQ(f.attr_string("llmsrec_schema"), "llmsrec.test");
  EXPECT_EQ(f.read<float>("a/x"), rows_from(0, 23, 3, 0.5f));
  EXPECT_EQ(f.read<float>("b"), rows_from(0, 5, 2, 0.25f));
  EXPECT_EQ(f.info("a/x").chunk, (std::vector<uint64_t>{4, 3}));
}

TEST(RowStreamWriter, MissingRowsAreAnErrorAtFinish) {
  const std::string path = (temp_dir() / "short.h5").string();
  RowStreamWriter w(path, {{"x", 10, 2}});
  w.push(0, rows_from(0, 4, 2, 0));
  EXPECT_THROW(w.finish(), llmsrec::IoError);
}

TEST(RowStreamWriter, ThreadErrorsReachTheCaller) {
  const std::string path = (temp_dir() / "no_such_dir" / "deeper" / "x.h5").string();
  RowStreamWriter w(path, {{"x", 1000, 2}}, {.queue_blocks = 1});
  EXPECT_THROW(
      {
        for (int i = 0; i < 1000; ++i) w.push(0, rows_from(static_cast<uint64_t>(i), 1, 2, 0));
        w.finish();
      },
      llmsrec::IoError);
}

TEST(RowStreamWriter, AtomicWriterShowsTheNameOnlyWhenComplete) {
  const std::string path = (temp_dir() / "atomic.h5").string();
  fs::remove(path);
  {
    RowStreamWriter w(path, {{"x", 8, 2}}, {.atomic = true});
    w.push(0, rows_from(0, 3, 2, 0));
    // destroyed without finish(): as after an exception in the producer
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp")) << "the abandoned temp file is removed";
  RowStreamWriter w(path, {{"x", 8, 2}}, {.atomic = true});
  w.push(0, rows_from(0, 8, 2, 0));
  w.finish();
  EXPECT_EQ(h5::File::open(path).read<float>("x"), rows_from(0, 8, 2, 0));
}

// Writes a part holding rows [begin, begin + n) of "x".
h5::File make_part(const std::string& name, uint64_t begin, uint64_t n) {
  const std::string path = (temp_dir() / name).string();
  RowStreamWriter w(path, {{"x", n, 3}}, {}, [begin](h5::Group& root) {
    root.open_object("x").set_attr(kRowBeginAttr, static_cast<int64_t>(begin));
  });
  if (n > 0) w.push(0, rows_from(begin, n, 3, 0));
  w.finish();
  return h5::File::open(path);
}

TEST(RowParts, PartsTileTheOutputWithAHeaderRow) {
  std::vector<h5::File> parts;
  parts.push_back(make_part("p1.h5", 9, 4));  // out of order on purpose
  parts.push_back(make_part("p0.h5", 1, 8));
  parts.push_back(make_part("p2.h5", 13, 0));  // a rank with no rows
  const std::string path = (temp_dir() / "joined.h5").string();
  {
    h5::AtomicFile out(path);
    out.root().create_dataset<float>("x", {13, 3}, {.chunk_rows = 5});
    copy_row_parts(out.root(), "x", parts, 1, 13, 5);
    out.commit();
  }
  std::vector<float> want = rows_from(0, 13, 3, 0);
  for (int c = 0; c < 3; ++c) want[static_cast<size_t>(c)] = 0;  // row 0 never written: fill value 0
  EXPECT_EQ(h5::File::open(path).read<float>("x"), want);
}

TEST(RowParts, GapsOverlapsAndWidthsAreErrors) {
  const std::string path = (temp_dir() / "bad.h5").string();
  h5::AtomicFile out(path);
  out.root().create_dataset<float>("x", {12, 3}, {.chunk_rows = 4});
  {
    std::vector<h5::File> gap;
    gap.push_back(make_part("g0.h5", 0, 4));
    gap.push_back(make_part("g1.h5", 5, 7));
    EXPECT_THROW(copy_row_parts(out.root(), "x", gap, 0, 12, 4), llmsrec::IoError);
  }
  {
    std::vector<h5::File> overlap;
    overlap.push_back(make_part("o0.h5", 0, 6));
    overlap.push_back(make_part("o1.h5", 5, 7));
    EXPECT_THROW(copy_row_parts(out.root(), "x", overlap, 0, 12, 4), llmsrec::IoError);
  }
  {
    std::vector<h5::File> short_cover;
    short_cover.push_back(make_part("s0.h5", 0, 6));
    EXPECT_THROW(copy_row_parts(out.root(), "x", short_cover, 0, 12, 4), llmsrec::IoError);
  }
}

}  // namespace
