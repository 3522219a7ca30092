#include "checkpoint/row_stream_writer.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/error.h"

namespace llmsrec::checkpoint {

uint64_t auto_chunk_rows(uint64_t cols, uint64_t target_bytes) {
  return std::max<uint64_t>(1, target_bytes / (std::max<uint64_t>(cols, 1) * sizeof(float)));
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Creates the groups above `name` ("a/b/c" -> a, a/b).
void make_parents(h5::Group& root, const std::string& name) {
  for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    const std::string parent = name.substr(0, slash);
    if (!root.exists(parent)) root.create_group(parent);
  }
}
}  // namespace

struct RowStreamWriter::Impl {
  struct Block {
    size_t index;
    std::vector<float> values;
  };

  std::string path;
  std::vector<StreamedDataset> datasets;
  RowWriterOptions options;
  std::function<void(h5::Group&)> init;

  std::mutex mu;
  std::condition_variable not_full, not_empty;
  std::deque<Block> queue;       // guarded by mu
  bool closing = false;          // finish(): write what is queued, then stop
  bool abandon = false;          // destructor without finish(): stop now
  std::exception_ptr error;      // the I/O thread's failure
  RowWriterStats stats;          // bytes/write_s by the I/O thread, push_wait_s by the caller
  std::vector<uint64_t> pushed;  // rows pushed per dataset (caller side)
  bool finished = false;
  std::thread thread;

  uint64_t chunk_of(const StreamedDataset& d) const {
    const uint64_t c = options.chunk_rows > 0 ? options.chunk_rows : auto_chunk_rows(d.cols);
    return std::max<uint64_t>(1, std::min(c, d.rows));
  }

  void run() {
    try {
      std::unique_ptr<h5::AtomicFile> atomic;
      std::unique_ptr<h5::File> plain;
      if (options.atomic) atomic = std::make_unique<h5::AtomicFile>(path);
      else plain = std::make_unique<h5::File>(h5::File::create(path));
      h5::Group& file = atomic ? atomic->root() : *plain;
      std::vector<uint64_t> chunk(datasets.size()), written(datasets.size(), 0);
      for (size_t i = 0; i < datasets.size(); ++i) {
        const StreamedDataset& d = datasets[i];
        chunk[i] = chunk_of(d);
        make_parents(file, d.name);
        h5::WriteOptions wo;
        wo.chunk_rows = chunk[i];
        file.create_dataset<float>(d.name, {d.rows, d.cols}, wo);
      }
      if (init) init(file);
      // Rows received but not yet written, per dataset: always less than one chunk
      // between blocks, so writes below start on a chunk boundary.
      std::vector<std::vector<float>> pending(datasets.size());
      auto write = [&](size_t i, const float* data, uint64_t rows) {
        const auto start = Clock::now();
        file.write_rows<float>(datasets[i].name, written[i], data, rows);
        written[i] += rows;
        stats.bytes += rows * datasets[i].cols * sizeof(float);
        stats.write_s += seconds_since(start);
      };
      while (true) {
        Block block;
        {
          std::unique_lock<std::mutex> lock(mu);
          not_empty.wait(lock, [&] { return abandon || closing || !queue.empty(); });
          if (abandon || queue.empty()) break;  // closing with nothing left
          block = std::move(queue.front());
          queue.pop_front();
        }
        not_full.notify_one();
        const size_t i = block.index;
        const uint64_t cols = datasets[i].cols;
        std::vector<float>& buf = pending[i];
        buf.insert(buf.end(), block.values.begin(), block.values.end());
        const uint64_t whole = (buf.size() / cols) / chunk[i] * chunk[i];
        if (whole > 0) {
          write(i, buf.data(), whole);
          buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(whole * cols));
        }
      }
      if (!abandon) {
        for (size_t i = 0; i < datasets.size(); ++i) {
          if (!pending[i].empty()) write(i, pending[i].data(), pending[i].size() / datasets[i].cols);
          if (written[i] != datasets[i].rows) {
            throw IoError(fmt::format("'{}': {} has {} of {} rows written at close", path, datasets[i].name,
                                      written[i], datasets[i].rows));
          }
        }
        if (atomic) atomic->commit();
        else plain->flush();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      error = std::current_exception();
      queue.clear();
    }
    not_full.notify_all();
  }
};

RowStreamWriter::RowStreamWriter(std::string path, std::vector<StreamedDataset> datasets,
                                 const RowWriterOptions& options, std::function<void(h5::Group&)> init)
    : impl_(std::make_unique<Impl>()) {
  if (options.queue_blocks < 1) {
    throw ConfigError(fmt::format("row writer queue must hold at least 1 block, found {}", options.queue_blocks));
  }
  for (const auto& d : datasets) {
    if (d.cols == 0) throw ShapeError(fmt::format("'{}': dataset {} has 0 columns", path, d.name));
  }
  impl_->path = std::move(path);
  impl_->datasets = std::move(datasets);
  impl_->options = options;
  impl_->init = std::move(init);
  impl_->pushed.assign(impl_->datasets.size(), 0);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

RowStreamWriter::~RowStreamWriter() {
  if (!impl_ || !impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->abandon = true;
  }
  impl_->not_empty.notify_all();
  impl_->thread.join();
}

const std::string& RowStreamWriter::path() const { return impl_->path; }

void RowStreamWriter::push(size_t index, std::vector<float> values) {
  LLMSREC_ASSERT(!impl_->finished, "RowStreamWriter::push after finish");
  LLMSREC_ASSERT(index < impl_->datasets.size(), "RowStreamWriter::push: no such dataset");
  const StreamedDataset& d = impl_->datasets[index];
  LLMSREC_ASSERT(values.size() % d.cols == 0, "RowStreamWriter::push: partial row");
  const uint64_t rows = values.size() / d.cols;
  LLMSREC_ASSERT(impl_->pushed[index] + rows <= d.rows, "RowStreamWriter::push: more rows than the dataset holds");
  impl_->pushed[index] += rows;
  const auto start = Clock::now();
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->not_full.wait(lock, [&] {
    return impl_->error || static_cast<int64_t>(impl_->queue.size()) < impl_->options.queue_blocks;
  });
  impl_->stats.push_wait_s += seconds_since(start);
  if (impl_->error) std::rethrow_exception(impl_->error);
  impl_->queue.push_back({index, std::move(values)});
  lock.unlock();
  impl_->not_empty.notify_one();
}

RowWriterStats RowStreamWriter::finish() {
  LLMSREC_ASSERT(!impl_->finished, "RowStreamWriter::finish called twice");
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->closing = true;
  }
  impl_->not_empty.notify_all();
  impl_->thread.join();
  impl_->finished = true;
  if (impl_->error) std::rethrow_exception(impl_->error);
  return impl_->stats;
}

}  // namespace llmsrec::checkpoint
