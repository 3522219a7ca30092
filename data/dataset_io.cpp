// dataset.h5 reader and writer. Schema: docs/dataset_h5.md (keep both in sync;
// bump kSchemaVersion on any incompatible change).
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "core/version.h"
#include "data/dataset.h"

namespace llmsrec::data {

namespace h5 = checkpoint::h5;

namespace {

constexpr const char* kSchemaName = "llmsrec.dataset";
constexpr int64_t kSchemaVersion = 1;

void write_eval(h5::Group& g, const EvalCandidates& ev) {
  g.write("users", ev.users);
  g.write("targets", ev.targets);
  g.write("negatives", ev.negatives.data(),
          {static_cast<uint64_t>(ev.users.size()), static_cast<uint64_t>(ev.num_negatives)});
  g.set_attr("num_negatives", ev.num_negatives);
}

EvalCandidates read_eval(const h5::Group& g) {
  EvalCandidates ev;
  ev.users = g.read<int64_t>("users");
  ev.targets = g.read<int32_t>("targets");
  std::vector<uint64_t> dims;
  ev.negatives = g.read<int32_t>("negatives", &dims);
  if (dims.size() != 2) {
    throw DataError(fmt::format("{}:{}/negatives: expected a 2-D [users, negatives] matrix, found {} dims", g.file(),
                                g.path(), dims.size()));
  }
  ev.num_negatives = static_cast<int64_t>(dims[1]);
  return ev;
}

std::string sources_json(const std::vector<SourceFile>& sources) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& s : sources) {
    j.push_back({{"path", s.path}, {"bytes", s.bytes}, {"crc32", fmt::format("{:08x}", s.crc32)}});
  }
  return j.dump();
}

std::vector<SourceFile> parse_sources(const std::string& text, const std::string& where) {
  std::vector<SourceFile> out;
  try {
    for (const auto& e : nlohmann::json::parse(text)) {
      SourceFile s;
      s.path = e.at("path").get<std::string>();
      s.bytes = e.at("bytes").get<int64_t>();
      s.crc32 = static_cast<uint32_t>(std::stoul(e.at("crc32").get<std::string>(), nullptr, 16));
      out.push_back(std::move(s));
    }
  } catch (const std::exception& e) {
    throw DataError(fmt::format("{}: attribute 'sources' is not the expected JSON list: {}", where, e.what()));
  }
  return out;
}

}  // namespace

void save_dataset(const Dataset& ds, const std::string& path) {
  validate_dataset(ds, path + " (before writing)");
  h5::AtomicFile out(path);
  h5::Group& root = out.root();
  root.set_attr("llmsrec_schema", kSchemaName);
  root.set_attr("schema_version", kSchemaVersion);
  root.set_attr("created_by", core::version_string());
  root.set_attr("config", ds.resolved_config);
  root.set_attr("name", ds.name);
  root.set_attr("seed", static_cast<int64_t>(ds.seed));
  root.set_attr("time_kind", time_kind_name(ds.time_kind));
  root.set_attr("sources", sources_json(ds.sources));
  root.set_attr("num_users", ds.num_users());
  root.set_attr("num_items", ds.num_items());
  root.set_attr("num_interactions", ds.num_interactions());
  root.set_attr("num_train_interactions", ds.num_train_interactions());
  root.set_attr("num_valid_users", static_cast<int64_t>(ds.valid.users.size()));
  root.set_attr("num_test_users", static_cast<int64_t>(ds.test.users.size()));
  root.set_attr("empty_titles", ds.empty_titles);
  root.set_attr("skipped_lines", ds.skipped_lines);

  auto users = root.create_group("users");
  users.write_strings("raw_ids", ds.user_raw_ids);
  auto items = root.create_group("items");
  items.write_strings("raw_ids", ds.item_raw_ids);
  items.write_strings("titles", ds.item_titles);
  auto seq = root.create_group("sequences");
  seq.write("offsets", ds.offsets);
  seq.write("items", ds.items);
  seq.write("timestamps", ds.timestamps);
  seq.open_object("timestamps").set_attr("units", ds.time_kind == TimeKind::kUnixSeconds
                                                      ? "unix seconds"
                                                      : "position within the user's sequence (no real time)");
  auto split = root.create_group("split");
  split.write("train_end", ds.train_end);
  split.write("valid_end", ds.valid_end);
  auto eval = root.create_group("eval");
  auto valid = eval.create_group("valid");
  write_eval(valid, ds.valid);
  auto test = eval.create_group("test");
  write_eval(test, ds.test);
  out.commit();
}

Dataset load_dataset(const std::string& path) {
  auto f = h5::File::open(path);
  if (!f.has_attr("llmsrec_schema") || f.attr_string("llmsrec_schema") != kSchemaName) {
    throw DataError(fmt::format("'{}' is not a dataset file (attribute llmsrec_schema = '{}', expected '{}'); make one "
                                "with `llmsrec prepare -c CONFIG`",
                                path, f.has_attr("llmsrec_schema") ? f.attr_as_text("llmsrec_schema") : "",
                                kSchemaName));
  }
  int64_t version = f.attr_int("schema_version");
  if (version != kSchemaVersion) {
    throw DataError(fmt::format("'{}': dataset schema version {}, this build reads version {}; re-run `llmsrec "
                                "prepare` with this build",
                                path, version, kSchemaVersion));
  }
  Dataset ds;
  ds.resolved_config = f.attr_string("config");
  ds.name = f.attr_string("name");
  ds.seed = static_cast<uint64_t>(f.attr_int("seed"));
  std::string kind = f.attr_string("time_kind");
  if (kind == "unix_seconds") ds.time_kind = TimeKind::kUnixSeconds;
  else if (kind == "order_index") ds.time_kind = TimeKind::kOrderIndex;
  else throw DataError(fmt::format("'{}': attribute time_kind = '{}', expected unix_seconds or order_index", path, kind));
  ds.sources = parse_sources(f.attr_string("sources"), path);
  ds.empty_titles = f.attr_int("empty_titles");
  ds.skipped_lines = f.attr_int("skipped_lines");

  ds.user_raw_ids = f.read_strings("users/raw_ids");
  ds.item_raw_ids = f.read_strings("items/raw_ids");
  ds.item_titles = f.read_strings("items/titles");
  ds.offsets = f.read<int64_t>("sequences/offsets");
  ds.items = f.read<int32_t>("sequences/items");
  ds.timestamps = f.read<int64_t>("sequences/timestamps");
  ds.train_end = f.read<int64_t>("split/train_end");
  ds.valid_end = f.read<int64_t>("split/valid_end");
  ds.valid = read_eval(f.open_group("eval/valid"));
  ds.test = read_eval(f.open_group("eval/test"));
  validate_dataset(ds, path);
  return ds;
}

}  // namespace llmsrec::data
