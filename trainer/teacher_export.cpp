#include "trainer/teacher_export.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "checkpoint/row_stream_writer.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_section.h"
#include "trainer/llmsrec_sections.h"
#include "trainer/teacher_config.h"
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

struct ExportContext {
  const SasrecModel& model;
  const data::Dataset& ds;
  checkpoint::RowStreamWriter& writer;
  int64_t batch, chunk_rows;
  bool train_mode;
  uint64_t seed;
  core::ProgressReporter* progress;
};

// Streams O_u for `rows` inputs (input(r) gives row r's history) into the
// writer's dataset number `index` (named `dataset`).
template <typename InputFn>
void stream_rows(const ExportContext& cx, size_t index, const std::string& dataset, int64_t rows, uint64_t stream_key,
                 InputFn input) {
  const int64_t L = cx.model.shape().maxlen, d = cx.model.shape().hidden;
  std::vector<float> block;
  auto flush = [&] {
    if (!block.empty()) cx.writer.push(index, std::move(block));
    block = {};
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
    block.insert(block.end(), op, op + B * d);
    if (static_cast<int64_t>(block.size()) >= cx.chunk_rows * d) flush();
    if (cx.progress) cx.progress->advance(B);
  }
  flush();
  if (cx.progress) cx.progress->finish();
}

}  // namespace

nlohmann::json export_teacher(const TeacherSections& cfg, const data::Dataset& ds, const std::string& teacher_path,
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

  const uint64_t seed = teacher_seed(cfg);
  const std::pair<const char*, TeacherInput> kinds[] = {{"users/o_train_minus_last", TeacherInput::kTrainMinusLast},
                                                        {"users/o_train", TeacherInput::kTrain},
                                                        {"users/o_train_valid", TeacherInput::kTrainValid}};
  std::vector<checkpoint::StreamedDataset> streamed;
  for (const auto& kind : kinds) streamed.push_back({kind.first, static_cast<uint64_t>(U), static_cast<uint64_t>(d)});
  if (ec.all_prefixes) streamed.push_back({"prefixes/o", static_cast<uint64_t>(P), static_cast<uint64_t>(d)});
  checkpoint::RowWriterOptions wo;
  wo.queue_blocks = ec.queue_chunks;
  wo.chunk_rows = static_cast<uint64_t>(ec.chunk_rows);
  wo.atomic = true;
  checkpoint::RowStreamWriter writer(
      targets_path, streamed, wo,
      [&](h5::Group& root) {
        root.set_attr("llmsrec_schema", "llmsrec.targets");
        root.set_attr("schema_version", int64_t{1});
        root.set_attr("config", cfg.run.resolved_yaml);
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
        root.open_group("users").write("train_length", train_length);
        if (ec.all_prefixes) root.open_group("prefixes").write("offsets", prefix_offsets);
      });

  ExportContext cx{*model, ds, writer, ec.batch, ec.chunk_rows, ec.teacher_mode == "train", seed, progress};
  uint64_t key = 0;
  for (const auto& [name, kind] : kinds) {
    const auto input_kind = kind;  // structured bindings cannot be captured before C++20 (clang)
    stream_rows(cx, static_cast<size_t>(key), name, U, key, [&](int64_t u) { return teacher_input(ds, u, input_kind); });
    ++key;
  }
  if (ec.all_prefixes) {
    // Row p belongs to the user whose range holds it; rows are visited in order.
    int64_t u = 0;
    stream_rows(cx, static_cast<size_t>(key), "prefixes/o", P, key, [&](int64_t p) {
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
