// Background writer of float32 row blocks into chunked HDF5 datasets, so a
// compute loop (the LLM) never waits on disk unless the bounded queue is full.
//
// Contract: one I/O thread per writer owns the HDF5 file for the writer's
// whole life (HDF5's C API is used from that thread only; the caller must not
// make other HDF5 calls while a writer is running unless the library is built
// thread-safe). Rows of each dataset arrive in order (block after block, no
// gaps); the thread coalesces them into whole chunks, so every HDF5 write is
// chunk-aligned and needs no read-modify-write through the chunk cache.
//
//   checkpoint::RowStreamWriter w("out.part", {{"items/hidden", n, d}}, {.queue_blocks = 16});
//   for (...) w.push(0, std::move(rows_of_block));   // blocks only while 16 blocks are queued
//   checkpoint::RowWriterStats st = w.finish();      // drains, closes; rethrows the thread's error
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmsrec::checkpoint {

namespace h5 {
class Group;
}

struct StreamedDataset {
  std::string name;   // "items/hidden": parent groups are created
  uint64_t rows = 0;  // the dataset is [rows, cols] float32, written top to bottom
  uint64_t cols = 0;
};

struct RowWriterOptions {
  int64_t queue_blocks = 16;  // pushed blocks held in memory before push() blocks
  uint64_t chunk_rows = 0;    // rows per HDF5 chunk; 0 = about 1 MiB per chunk
  bool atomic = false;        // write PATH.tmp, fsync + rename in finish() (else write PATH itself)
};

struct RowWriterStats {
  uint64_t bytes = 0;          // payload bytes written
  double push_wait_s = 0;      // time push() spent blocked on a full queue
  double write_s = 0;          // time the I/O thread spent in HDF5 writes
};

// Rows per chunk of about `target_bytes` for rows of `cols` float32 values (>= 1).
uint64_t auto_chunk_rows(uint64_t cols, uint64_t target_bytes = 1 << 20);

class RowStreamWriter {
 public:
  // Starts the I/O thread, which creates `path` (truncating), the streamed
  // datasets (and their parent groups), then calls `init(root)` (attributes,
  // small datasets), all on the I/O thread.
  RowStreamWriter(std::string path, std::vector<StreamedDataset> datasets, const RowWriterOptions& options = {},
                  std::function<void(h5::Group&)> init = {});
  // Without finish() (an exception in the caller) the thread stops and the file is
  // closed incomplete: an atomic writer removes its temp file, otherwise the caller
  // removes `path`.
  ~RowStreamWriter();
  RowStreamWriter(const RowStreamWriter&) = delete;
  RowStreamWriter& operator=(const RowStreamWriter&) = delete;

  // Queues the next values.size() / cols rows of dataset `index`. Throws the I/O
  // thread's error (IoError naming the file and dataset) if it has failed.
  void push(size_t index, std::vector<float> values);
  // Writes what is queued, closes the file (atomic: fsync + rename); throws the
  // I/O thread's error (then an atomic writer leaves nothing under `path`).
  RowWriterStats finish();
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmsrec::checkpoint
