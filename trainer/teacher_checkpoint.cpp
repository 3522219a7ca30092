#include "trainer/teacher_checkpoint.h"

#include <ATen/ATen.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "core/version.h"
#include "models/sasrec/sasrec_model.h"
#include "trainer/adam.h"

namespace llmsrec::trainer {

namespace h5 = checkpoint::h5;
using models::sasrec::SasrecModel;
using models::sasrec::SasrecShape;

namespace {

constexpr const char* kSchema = "llmsrec.teacher";
constexpr int64_t kSchemaVersion = 1;

void write_tensor(h5::Group& g, const std::string& name, const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kFloat).contiguous();
  std::vector<uint64_t> dims(c.sizes().begin(), c.sizes().end());
  g.write(name, c.data_ptr<float>(), dims);
}

void read_tensor(const h5::Group& g, const std::string& name, at::Tensor& into) {
  std::vector<uint64_t> dims;
  std::vector<float> v = g.read<float>(name, &dims);
  std::vector<int64_t> found(dims.begin(), dims.end());
  if (found != into.sizes().vec()) {
    throw ShapeError(fmt::format("{}:{}/{}: expected shape {}, found {}", g.file(), g.path(), name,
                                 fmt::join(into.sizes(), "x"), fmt::join(found, "x")));
  }
  at::NoGradGuard no_grad;
  into.copy_(at::from_blob(v.data(), into.sizes(), at::kFloat));
}

void check_schema(const h5::File& f) {
  if (!f.has_attr("llmsrec_schema") || f.attr_string("llmsrec_schema") != kSchema) {
    throw IoError(fmt::format("'{}' is not a teacher checkpoint (llmsrec_schema != {}); make one with `llmsrec teacher train`",
                              f.file(), kSchema));
  }
  if (f.attr_int("schema_version") != kSchemaVersion) {
    throw IoError(fmt::format("'{}': teacher schema_version {} is not supported (expected {})", f.file(),
                              f.attr_int("schema_version"), kSchemaVersion));
  }
}

}  // namespace

void save_teacher(const std::string& path, const TeacherMeta& meta, const SasrecModel& model,
                  const std::vector<at::Tensor>& best, Adam* adam) {
  const auto& params = model.params();
  LLMSREC_ASSERT(best.size() == params.size(), "best weights do not match the model");
  h5::AtomicFile out(path);
  h5::Group& root = out.root();
  root.set_attr("llmsrec_schema", kSchema);
  root.set_attr("schema_version", kSchemaVersion);
  root.set_attr("config", meta.config);
  root.set_attr("created_by", core::version_string());
  root.set_attr("epoch", meta.epoch);
  root.set_attr("steps", meta.steps);
  root.set_attr("seed", static_cast<int64_t>(meta.seed));
  root.set_attr("best_epoch", meta.best_epoch);
  root.set_attr("best_valid_ndcg10", meta.best_valid_ndcg10);
  root.set_attr("history", meta.history.dump());
  root.set_attr("rng", "stateless: streams keyed by (seed, epoch, batch) via core::stream_seed");
  const SasrecShape& s = model.shape();
  root.set_attr("num_items", s.num_items);
  root.set_attr("hidden", s.hidden);
  root.set_attr("maxlen", s.maxlen);
  root.set_attr("blocks", s.blocks);
  root.set_attr("heads", s.heads);
  root.set_attr("dropout", s.dropout);
  root.set_attr("mask_padding_keys", static_cast<int64_t>(s.mask_padding_keys));
  root.set_attr("attn_out_proj", static_cast<int64_t>(s.attn_out_proj));
  root.set_attr("block", std::string(block_style_name(s.block)));
  h5::Group last = root.create_group("last");
  h5::Group bestg = root.create_group("best");
  for (size_t i = 0; i < params.size(); ++i) {
    write_tensor(last, params[i].first, params[i].second);
    write_tensor(bestg, params[i].first, best[i]);
  }
  if (adam) {
    h5::Group a = root.create_group("adam");
    h5::Group m = a.create_group("m"), v = a.create_group("v");
    for (size_t i = 0; i < params.size(); ++i) {
      write_tensor(m, params[i].first, adam->exp_avg()[i]);
      write_tensor(v, params[i].first, adam->exp_avg_sq()[i]);
    }
  }
  out.commit();
}

SasrecShape read_teacher_shape(const std::string& path) {
  h5::File f = h5::File::open(path);
  check_schema(f);
  SasrecShape s;
  s.num_items = f.attr_int("num_items");
  s.hidden = f.attr_int("hidden");
  s.maxlen = f.attr_int("maxlen");
  s.blocks = f.attr_int("blocks");
  s.heads = f.attr_int("heads");
  s.dropout = f.attr_double("dropout");
  s.mask_padding_keys = f.attr_int("mask_padding_keys") != 0;
  s.attn_out_proj = f.attr_int("attn_out_proj") != 0;
  // Files written before the option existed hold q_residual models.
  if (f.has_attr("block") && !parse_block_style(f.attr_string("block"), &s.block)) {
    throw DataError(fmt::format("'{}': unknown SASRec block style '{}'", path, f.attr_string("block")));
  }
  return s;
}

TeacherMeta load_teacher(const std::string& path, SasrecModel& model, std::vector<at::Tensor>* best,
                         Adam* adam) {
  h5::File f = h5::File::open(path);
  check_schema(f);
  TeacherMeta meta;
  meta.epoch = f.attr_int("epoch");
  meta.steps = f.attr_int("steps");
  meta.seed = static_cast<uint64_t>(f.attr_int("seed"));
  meta.best_epoch = f.attr_int("best_epoch");
  meta.best_valid_ndcg10 = f.attr_double("best_valid_ndcg10");
  meta.history = nlohmann::json::parse(f.attr_string("history"));
  meta.config = f.attr_string("config");
  const auto& params = model.params();
  h5::Group last = f.open_group("last");
  for (const auto& [name, t] : params) {
    at::Tensor into = t;
    read_tensor(last, name, into);
  }
  if (best) {
    h5::Group bg = f.open_group("best");
    best->clear();
    for (const auto& [name, t] : params) {
      at::Tensor b = at::empty_like(t.detach());
      read_tensor(bg, name, b);
      best->push_back(b);
    }
  }
  if (adam) {
    h5::Group m = f.open_group("adam/m"), v = f.open_group("adam/v");
    for (size_t i = 0; i < params.size(); ++i) {
      read_tensor(m, params[i].first, adam->exp_avg()[i]);
      read_tensor(v, params[i].first, adam->exp_avg_sq()[i]);
    }
    adam->set_steps(meta.steps);
  }
  return meta;
}

std::unique_ptr<SasrecModel> load_teacher_model(const std::string& path, const std::string& which) {
  if (which != "best" && which != "last") {
    throw ConfigError(fmt::format("teacher weights '{}': expected best or last", which));
  }
  auto model = std::make_unique<SasrecModel>(read_teacher_shape(path));
  h5::File f = h5::File::open(path);
  h5::Group g = f.open_group(which);
  for (const auto& [name, t] : model->params()) {
    at::Tensor into = t;
    read_tensor(g, name, into);
  }
  return model;
}

}  // namespace llmsrec::trainer
