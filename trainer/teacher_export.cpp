#include "trainer/teacher_export.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_config.h"
#include "core/version.h"
#include "models/sasrec/sasrec_model.h"
#include "trainer/teacher_checkpoint.h"
#include "trainer/teacher_inputs.h"
#include "trainer/teacher_train.h"

namespace llmsrec::trainer {

namespace h5 = checkpoint::h5;
using models::sasrec::DropoutMasks;
using models::sasrec::SasrecModel;

namespace {

// Owns the output file on one background thread (HDF5 is used from that thread
// only); the producer hands it row blocks through a bounded queue.
class BackgroundRowWriter {
 public:
  struct Block {
    std::string dataset;
    uint64_t row_begin = 0, rows = 0;
    std::vector<float> data;
  };
  // `setup` runs first on the writer thread (attributes, create_dataset...).
  BackgroundRowWriter(const std::string& path, std::function<void(h5::Group&)> setup, int64_t capacity)
      : capacity_(capacity) {
    thread_ = std::thread([this, path, setup = std::move(setup)] { run(path, setup); });
  }
  ~BackgroundRowWriter() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        abort_ = true;
        closed_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
  }
  void push(Block b) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return error_ || static_cast<int64_t>(queue_.size()) < capacity_; });
    if (error_) std::rethrow_exception(error_);
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
  // Waits for every block, commits the file (atomic rename); rethrows writer errors.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run(const std::string& path, const std::function<void(h5::Group&)>& setup) {
    try {
      h5::AtomicFile out(path);
      setup(out.root());
      while (true) {
        Block b;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
          if (abort_) return;  // destructor without finish(): leave no file
          if (queue_.empty()) break;
          b = std::move(queue_.front());
          queue_.pop_front();
        }
        cv_.notify_all();
        out.root().write_rows(b.dataset, b.row_begin, b.data.data(), b.rows);
      }
      out.commit();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }

  int64_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Block> queue_;
  bool closed_ = false, abort_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

struct ExportContext {
  const SasrecModel& model;
  const data::Dataset& ds;
  BackgroundRowWriter& writer;
  int64_t batch, chunk_rows;
  bool train_mode;
  uint64_t seed;
  core::ProgressReporter* progress;
};

// Streams O_u for `rows` inputs (input(r) gives row r's history) into `dataset`.
template <typename InputFn>
void stream_rows(const ExportContext& cx, const std::string& dataset, int64_t rows, uint64_t stream_key, InputFn input) {
  const int64_t L = cx.model.shape().maxlen, d = cx.model.shape().hidden;
  BackgroundRowWriter::Block block;
  block.dataset = dataset;
  auto flush = [&](int64_t next_row) {
    if (block.rows == 0) return;
    cx.writer.push(std::move(block));
    block = BackgroundRowWriter::Block{};
    block.dataset = dataset;
    block.row_begin = static_cast<uint64_t>(next_row);
  };
  if (cx.progress) cx.progress->start("export " + dataset, rows, "row");
  at::NoGradGuard no_grad;
  for (int64_t begin = 0, batch_index = 0; begin < rows; begin += cx.batch, ++batch_index) {
    const int64_t B = std::min(cx.batch, rows - begin);
    at::Tensor seq = at::empty({B, L}, at::kLong);
    int64_t* sp = seq.data_ptr<int64_t>();
    for (int64_t r = 0; r < B; ++r) fill_right_aligned(input(begin + r), L, sp + r * L);
    at::Tensor o;
    if (cx.train_mode && cx.model.shape().dropout > 0) {
      core::Rng rng(core::stream_seed(cx.seed, core::Stream::kDropout, stream_key, static_cast<uint64_t>(batch_index)));
      DropoutMasks masks = DropoutMasks::sample(cx.model.shape(), B, L, rng, at::kFloat);
      o = cx.model.user_repr(seq, &masks);
    } else {
      o = cx.model.user_repr(seq);
    }
    o = o.to(at::kFloat).contiguous();
    const float* op = o.data_ptr<float>();
    block.data.insert(block.data.end(), op, op + B * d);
    block.rows += static_cast<uint64_t>(B);
    if (static_cast<int64_t>(block.rows) >= cx.chunk_rows) flush(begin + B);
    if (cx.progress) cx.progress->advance(B);
  }
  flush(rows);
  if (cx.progress) cx.progress->finish();
}

}  // namespace

nlohmann::json export_teacher(const core::RunConfig& cfg, const data::Dataset& ds, const std::string& teacher_path,
                              const std::string& targets_path, core::ProgressReporter* progress) {
  const TeacherExportConfig& ec = cfg.teacher.export_;
  apply_teacher_threads(cfg);
  std::unique_ptr<SasrecModel> model = load_teacher_model(teacher_path, ec.weights);
  const auto& shape = model->shape();
  if (shape.num_items != ds.num_items()) {
    throw DataError(fmt::format("'{}' has {} items but the dataset has {}: the teacher was trained on another dataset",
                                teacher_path, shape.num_items, ds.num_items()));
  }
  const int64_t U = ds.num_users(), d = shape.hidden;
  std::vector<int64_t> train_length(U), prefix_offsets(U + 1, 0);
  for (int64_t u = 0; u < U; ++u) {
    train_length[u] = ds.train_end[u] - ds.offsets[u];
    prefix_offsets[u + 1] = prefix_offsets[u] + train_length[u];
  }
  const int64_t P = prefix_offsets[U];
  at::Tensor E = model->item_emb().detach().to(at::kFloat).contiguous();

  h5::WriteOptions chunked;
  chunked.chunk_rows = static_cast<uint64_t>(ec.chunk_rows);
  const uint64_t seed = teacher_seed(cfg);
  BackgroundRowWriter writer(
      targets_path,
      [&](h5::Group& root) {
        root.set_attr("llmsrec_schema", "llmsrec.targets");
        root.set_attr("schema_version", int64_t{1});
        root.set_attr("config", cfg.resolved_yaml);
        root.set_attr("created_by", core::version_string());
        root.set_attr("teacher", teacher_path);
        root.set_attr("weights", ec.weights);
        root.set_attr("teacher_mode", ec.teacher_mode);
        root.set_attr("hidden", d);
        root.set_attr("maxlen", shape.maxlen);
        root.set_attr("num_users", U);
        root.set_attr("num_items", ds.num_items());
        root.set_attr("all_prefixes", static_cast<int64_t>(ec.all_prefixes));
        h5::Group items = root.create_group("items");
        items.write("embedding", E.data_ptr<float>(), {static_cast<uint64_t>(E.size(0)), static_cast<uint64_t>(d)});
        h5::Group users = root.create_group("users");
        users.write("train_length", train_length);
        for (const char* name : {"o_train_minus_last", "o_train", "o_train_valid"}) {
          users.create_dataset<float>(name, {static_cast<uint64_t>(U), static_cast<uint64_t>(d)}, chunked);
        }
        if (ec.all_prefixes) {
          h5::Group pre = root.create_group("prefixes");
          pre.write("offsets", prefix_offsets);
          pre.create_dataset<float>("o", {static_cast<uint64_t>(P), static_cast<uint64_t>(d)}, chunked);
        }
      },
      ec.queue_chunks);

  ExportContext cx{*model, ds, writer, ec.batch, ec.chunk_rows, ec.teacher_mode == "train", seed, progress};
  const std::pair<const char*, TeacherInput> kinds[] = {{"users/o_train_minus_last", TeacherInput::kTrainMinusLast},
                                                        {"users/o_train", TeacherInput::kTrain},
                                                        {"users/o_train_valid", TeacherInput::kTrainValid}};
  uint64_t key = 0;
  for (const auto& [name, kind] : kinds) {
    const auto input_kind = kind;  // structured bindings cannot be captured before C++20 (clang)
    stream_rows(cx, name, U, key++, [&](int64_t u) { return teacher_input(ds, u, input_kind); });
  }
  if (ec.all_prefixes) {
    // Row p belongs to the user whose range holds it; rows are visited in order.
    int64_t u = 0;
    stream_rows(cx, "prefixes/o", P, key++, [&](int64_t p) {
      while (prefix_offsets[u + 1] <= p) ++u;
      return data::Span<int32_t>{ds.items.data() + ds.offsets[u], p - prefix_offsets[u] + 1};
    });
  }
  writer.finish();
  LOG_INFO("teacher export: wrote {} ({} users, {} items, {} prefix rows)", targets_path, U, ds.num_items(),
           ec.all_prefixes ? P : 0);
  return {{"targets", targets_path}, {"users", U}, {"items", ds.num_items()}, {"hidden", d},
          {"prefix_rows", ec.all_prefixes ? P : 0}, {"weights", ec.weights}, {"teacher_mode", ec.teacher_mode}};
}

}  // namespace llmsrec::trainer
