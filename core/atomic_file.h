// Atomic file output: write to "<path>.tmp", then commit() fsyncs it, renames
// it over <path> and fsyncs the directory. Without commit() (an exception, a
// crash) the temp file is removed or left behind under its .tmp name: a reader
// never sees a half-written file under the real name.
//
//   core::AtomicOutput out("runs/demo/dataset.h5");
//   write_everything(out.tmp_path());
//   out.commit();
#pragma once

#include <string>

namespace llmsrec::core {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string path);  // creates parent directories
  ~AtomicOutput();                          // removes the temp file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& path() const { return path_; }
  const std::string& tmp_path() const { return tmp_; }
  void commit();  // fsync tmp, rename to path, fsync directory; throws IoError

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& content);

// fsync a file or directory by path; throws IoError.
void fsync_path(const std::string& path);

}  // namespace llmsrec::core
