// `inspect` (describe_h5) and h5::File::open on files that are not whole:
// written right now by another process, uncommitted temp files, truncated,
// foreign and non-HDF5 files. Each must get a clear message, never a crash.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "checkpoint/h5.h"
#include "checkpoint/h5_inspect.h"
#include "core/error.h"

namespace h5 = llmsrec::checkpoint::h5;
namespace fs = std::filesystem;
using llmsrec::checkpoint::describe_h5;

namespace {

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("llmsrec_h5_incomplete_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void write_small(const std::string& path, bool with_schema) {
  h5::AtomicFile out(path);
  if (with_schema) out.root().set_attr("llmsrec_schema", "llmsrec.test");
  std::vector<double> v(20000, 0.5);
  out.root().create_group("g").write("v", v);
  out.commit();
}

std::string error_of(const std::string& path) {
  try {
    describe_h5(path);
  } catch (const llmsrec::IoError& e) {
    EXPECT_EQ(e.exit_code(), llmsrec::kExitData);
    return e.what();
  }
  ADD_FAILURE() << "describe_h5('" << path << "') did not throw";
  return "";
}

TEST(H5Incomplete, TruncatedFileSaysSoWithSizes) {
  auto good = (temp_dir() / "whole.h5").string();
  write_small(good, true);
  auto cut = (temp_dir() / "half.h5").string();
  fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
  fs::resize_file(cut, fs::file_size(good) / 2);
  const std::string e = error_of(cut);
  EXPECT_NE(e.find("half.h5' is truncated or not an HDF5 file"), std::string::npos) << e;
  EXPECT_NE(e.find(std::to_string(fs::file_size(cut)) + " bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("superblock says " + std::to_string(fs::file_size(good))), std::string::npos) << e;
}

TEST(H5Incomplete, NonHdf5FileSaysSo) {
  auto path = (temp_dir() / "notes.h5").string();
  std::ofstream(path) << "plain text, not HDF5\n";
  const std::string e = error_of(path);
  EXPECT_NE(e.find("is truncated or not an HDF5 file: no HDF5 signature"), std::string::npos) << e;
}

TEST(H5Incomplete, ForeignHdf5FileShowsTreeAndSaysNotOurs) {
  auto path = (temp_dir() / "foreign.h5").string();
  write_small(path, false);
  auto d = describe_h5(path);
  EXPECT_FALSE(d["llmsrec"].get<bool>());
  EXPECT_TRUE(d["complete"].get<bool>());
  EXPECT_NE(d["note"].get<std::string>().find("not an llmsrec file"), std::string::npos);
  ASSERT_EQ(d["objects"].size(), 2u);
  EXPECT_EQ(d["objects"][1]["path"], "/g/v");

  auto ours = (temp_dir() / "ours.h5").string();
  write_small(ours, true);
  auto o = describe_h5(ours);
  EXPECT_TRUE(o["llmsrec"].get<bool>());
  EXPECT_FALSE(o.contains("note"));
  EXPECT_FALSE(o.contains("warning"));
}

TEST(H5Incomplete, UncommittedTempFileIsShownAsIncomplete) {
  // Closed but never renamed (the writer died between close and rename): readable, flagged.
  auto path = (temp_dir() / "ckpt-00000004.h5.tmp").string();
  {
    auto f = h5::File::create(path);
    f.set_attr("llmsrec_schema", "llmsrec.test");
    f.write("x", std::vector<int32_t>{1, 2, 3});
  }
  auto d = describe_h5(path);
  EXPECT_FALSE(d["complete"].get<bool>());
  const std::string w = d["warning"];
  EXPECT_NE(w.find("incomplete"), std::string::npos) << w;
  EXPECT_NE(w.find("ckpt-00000004.h5'"), std::string::npos) << w;  // names the final file

  // Created but nothing flushed yet (0 bytes): incomplete, not "corrupt".
  auto empty = (temp_dir() / "dataset.h5.tmp").string();
  std::ofstream(empty).close();
  const std::string e = error_of(empty);
  EXPECT_NE(e.find("dataset.h5.tmp' is incomplete"), std::string::npos) << e;
}

// A real HDF5 writer in a second process holds the file open (and its lock)
// while this process inspects it, under the final name and under NAME.tmp.
TEST(H5Incomplete, FileOpenForWritingInAnotherProcess) {
  const char* locking = std::getenv("HDF5_USE_FILE_LOCKING");
  if (locking && std::string(locking) == "FALSE") GTEST_SKIP() << "HDF5_USE_FILE_LOCKING=FALSE: writers take no lock";
  for (const std::string name : {"hidden.h5", "hidden.h5.tmp"}) {
    const std::string path = (temp_dir() / name).string();
    fs::remove(path);
    int ready[2], done[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(done), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // the writer: create, write some rows, flush, wait (file still open)
      int rc = 0;
      char c = 1;
      try {
        auto f = h5::File::create(path);
        f.set_attr("llmsrec_schema", "llmsrec.hidden");
        f.write("rows", std::vector<float>(4096, 1.0f));
        f.flush();
        if (::write(ready[1], &c, 1) != 1) rc = 2;
        if (::read(done[0], &c, 1) != 1) rc = 3;  // the file stays open until the parent is done
      } catch (...) {
        rc = 1;
        if (::write(ready[1], &c, 1) != 1) rc = 2;
      }
      ::_exit(rc);  // without running the parent's destructors
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    const std::string e = error_of(path);
    EXPECT_NE(e.find(name + "' is incomplete: being written by another process"), std::string::npos) << e;
    c = 1;
    ASSERT_EQ(::write(done[1], &c, 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
    for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
    // Once the writer is gone the same file is readable.
    auto d = describe_h5(path);
    EXPECT_EQ(d["schema"], "llmsrec.hidden");
    EXPECT_EQ(d["complete"].get<bool>(), name.find(".tmp") == std::string::npos);
  }
}

}  // namespace
