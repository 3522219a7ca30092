#include "data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"

namespace llmsrec::data {

namespace {
constexpr size_t kChunk = 1 << 20;
}

LineReader::LineReader(const std::string& path, core::ProgressReporter* progress)
    : path_(path), progress_(progress) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError(fmt::format("'{}': input file not found (check data.path and the file name options)", path));
  }
  bytes_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DataError(fmt::format("'{}': cannot open: {}", path, std::strerror(errno)));
  gzbuffer(f, 256 * 1024);
  gz_ = f;
  crc_ = static_cast<uint32_t>(crc32(0L, Z_NULL, 0));
  buf_.resize(kChunk);
  if (progress_) progress_->start("read " + std::filesystem::path(path).filename().string(), bytes_ / 1024, "KiB");
}

LineReader::~LineReader() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool LineReader::fill() {
  // Move the unread tail to the front, grow if one line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  int n = gzread(static_cast<gzFile>(gz_), buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &err);
    throw DataError(fmt::format("{}: read error after line {}: {}", path_, line_no_, msg ? msg : "unknown"));
  }
  if (n == 0) {
    eof_ = true;
    if (progress_) progress_->finish();
    return false;
  }
  if (progress_) {
    int64_t kib = static_cast<int64_t>(gzoffset(static_cast<gzFile>(gz_))) / 1024;
    progress_->advance(kib - reported_kib_);
    reported_kib_ = kib;
  }
  crc_ = static_cast<uint32_t>(crc32(crc_, reinterpret_cast<const Bytef*>(buf_.data() + end_), static_cast<uInt>(n)));
  end_ += static_cast<size_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = begin_;
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(buf_.data() + scanned, '\n', end_ - scanned);
    if (nl) {
      size_t len = static_cast<const char*>(nl) - start;
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++line_no_;
      return true;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      size_t len = end_ - begin_;  // last line without a newline
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      begin_ = end_;
      ++line_no_;
      return true;
    }
    scanned = end_ - begin_;  // offset relative to the new begin after fill()
    fill();
    scanned = begin_ + scanned;
    if (eof_) scanned = end_;
  }
}

SourceFile LineReader::source() const { return SourceFile{path_, bytes_, crc_}; }

std::string LineReader::where() const { return fmt::format("{}:{}", path_, line_no_); }

void BadLines::report(const LineReader& in, const std::string& what) {
  if (!skip_) {
    throw DataError(fmt::format("{}: {} (set data.skip_bad_lines: true to skip such lines)", in.where(), what));
  }
  if (skipped_ < 5) LOG_WARN("skipping {}: {}", in.where(), what);
  ++skipped_;
}

}  // namespace llmsrec::data
