// Fast line-by-line reading of plain or gzip-compressed text (zlib reads both
// transparently), plus the policy for malformed lines: fail with file:line, or
// skip and count when `data.skip_bad_lines` is set.
//
//   data::LineReader in("data/interactions.tsv");   // or ".jsonl.gz"
//   data::BadLines bad(cfg.skip_bad_lines);
//   std::string_view line;
//   while (in.next(line)) {
//     if (!parse(line)) { bad.report(in, "expected 3 tab-separated columns"); continue; }
//   }
//   SourceFile src = in.source();   // size + CRC-32, for dataset.h5
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.h"
#include "data/dataset.h"

namespace llmsrec::data {

class LineReader {
 public:
  // Throws DataError when the file is missing or unreadable. With `progress`,
  // reports KiB of the file (as stored, compressed or not) read so far.
  explicit LineReader(const std::string& path, core::ProgressReporter* progress = nullptr);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its "\n" or "\r\n"; false at end of file. The view
  // stays valid until the next call.
  bool next(std::string_view& line);
  int64_t line_number() const { return line_no_; }  // 1-based number of the last line returned
  const std::string& path() const { return path_; }
  // Size on disk and CRC-32 of the content read so far (complete after EOF).
  SourceFile source() const;
  // "file:line", for messages.
  std::string where() const;

 private:
  bool fill();
  std::string path_;
  void* gz_ = nullptr;  // gzFile
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
  int64_t bytes_ = 0;
  uint32_t crc_ = 0;
  core::ProgressReporter* progress_ = nullptr;
  int64_t reported_kib_ = 0;
};

// What to do with a malformed line.
class BadLines {
 public:
  explicit BadLines(bool skip) : skip_(skip) {}
  // Throws DataError "<file>:<line>: <what>" unless skipping; otherwise counts
  // the line (and logs the first few).
  void report(const LineReader& in, const std::string& what);
  int64_t skipped() const { return skipped_; }

 private:
  bool skip_;
  int64_t skipped_ = 0;
};

}  // namespace llmsrec::data
