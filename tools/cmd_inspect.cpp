// `llmsrec inspect FILE`: tree, attributes, shapes, dtypes, chunking and
// (with --stats) per-dataset statistics of any llmsrec HDF5 file.
#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "checkpoint/h5_diff.h"
#include "checkpoint/h5_inspect.h"
#include "core/error.h"
#include "data/dataset.h"
#include "tools/command.h"

namespace {

std::string shape_text(const nlohmann::json& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i].get<uint64_t>());
  return s + (shape.size() == 1 ? ",)" : ")");
}

class InspectCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("files", files_,
                   "FILE: an HDF5 file written by llmsrec (dataset.h5, teacher.h5, ckpt-*.h5, ...); "
                   "or: diff A.h5 B.h5 (per-tensor max abs/rel difference, config diff); "
                   "see also 'inspect neighbors' and 'inspect export'")
        ->expected(1, 3);  // not required(): the nested commands parse this app too
    app.add_flag("--stats", stats_, "per-dataset mean/std/min/max and NaN/Inf counts");
    app.add_flag("--full-attributes", full_attrs_, "print long attributes (configs) in full");
  }

  nlohmann::json run() override {
    if (files_.empty()) throw llmsrec::ConfigError("usage: llmsrec inspect FILE (or: inspect diff A.h5 B.h5)");
    if (files_.front() == "diff") {
      if (files_.size() != 3) throw llmsrec::ConfigError("usage: llmsrec inspect diff A.h5 B.h5");
      diff_mode_ = true;
      return llmsrec::checkpoint::diff_h5(files_[1], files_[2]);
    }
    if (files_.size() != 1) throw llmsrec::ConfigError("usage: llmsrec inspect FILE (or: inspect diff A.h5 B.h5)");
    file_ = files_.front();
    llmsrec::checkpoint::DescribeOptions opt;
    opt.stats = stats_;
    if (full_attrs_ || common.json) opt.max_attr_chars = 0;
    nlohmann::json d = llmsrec::checkpoint::describe_h5(file_, opt);
    if (d["schema"] == "llmsrec.dataset") d["dataset"] = dataset_summary(file_);
    return d;
  }

  // Counts and a few users with their histories, titles included.
  static nlohmann::json dataset_summary(const std::string& path) {
    const llmsrec::data::Dataset ds = llmsrec::data::load_dataset(path);
    nlohmann::json out = {{"users", ds.num_users()},
                          {"items", ds.num_items()},
                          {"interactions", ds.num_interactions()},
                          {"train_interactions", ds.num_train_interactions()},
                          {"valid_users", ds.valid.users.size()},
                          {"test_users", ds.test.users.size()},
                          {"eval_negatives", ds.valid.num_negatives},
                          {"time_kind", llmsrec::data::time_kind_name(ds.time_kind)}};
    nlohmann::json examples = nlohmann::json::array();
    for (int64_t u = 0; u < std::min<int64_t>(3, ds.num_users()); ++u) {
      nlohmann::json hist = nlohmann::json::array();
      auto items = ds.user_items(u);
      auto ts = ds.user_timestamps(u);
      for (int64_t j = 0; j < items.size(); ++j) {
        const int64_t pos = ds.offsets[u] + j;
        const char* part = pos < ds.train_end[u] ? "train" : pos < ds.valid_end[u] ? "valid" : "test";
        hist.push_back({{"item", items[j]}, {"timestamp", ts[j]}, {"split", part}, {"title", ds.item_titles[items[j]]}});
      }
      examples.push_back({{"user", u}, {"raw_id", ds.user_raw_ids[u]}, {"history", hist}});
    }
    out["examples"] = examples;
    return out;
  }

  void print_human(const nlohmann::json& d) override {
    if (diff_mode_) return print_diff(d);
    std::cout << fmt::format("{} ({} bytes){}\n", d["file"].get<std::string>(), d["size_bytes"].get<uint64_t>(),
                             d["schema"].get<std::string>().empty() ? "" : ", schema " + d["schema"].get<std::string>());
    for (const char* key : {"warning", "note"}) {  // incomplete temp file; foreign (non-llmsrec) file
      if (d.contains(key)) std::cout << "  " << key << ": " << d[key].get<std::string>() << "\n";
    }
    print_attributes(d["attributes"], "  ");
    if (d.contains("dataset")) print_dataset(d["dataset"]);
    for (const auto& o : d["objects"]) {
      const std::string path = o["path"];
      const auto depth = std::count(path.begin(), path.end(), '/');
      const std::string indent(static_cast<size_t>(depth) * 2, ' ');
      if (o["kind"] == "group") {
        std::cout << indent << path << "/\n";
      } else {
        std::string extra;
        if (o.contains("chunk")) extra += " chunk " + shape_text(o["chunk"]);
        if (o.contains("compression")) extra += " " + o["compression"].get<std::string>();
        std::cout << fmt::format("{}{} {} {}{}\n", indent, path, o["dtype"].get<std::string>(), shape_text(o["shape"]),
                                 extra);
        if (o.contains("stats")) {
          const auto& s = o["stats"];
          if (s.contains("mean")) {
            std::cout << fmt::format("{}  mean {:.6g} std {:.6g} min {:.6g} max {:.6g} nan {} inf {}\n", indent,
                                     s["mean"].get<double>(), s["std"].get<double>(), s["min"].get<double>(),
                                     s["max"].get<double>(), s["nan"].get<uint64_t>(), s["inf"].get<uint64_t>());
          } else {
            std::cout << fmt::format("{}  nan {} inf {} (no finite values)\n", indent, s["nan"].get<uint64_t>(),
                                     s["inf"].get<uint64_t>());
          }
        }
      }
      print_attributes(o["attributes"], indent + "  ");
    }
  }

 private:
  static void print_dataset(const nlohmann::json& ds) {
    std::cout << fmt::format("  {} users, {} items, {} interactions ({} train), {} valid / {} test users, {} negatives, "
                             "timestamps: {}\n",
                             ds["users"].get<int64_t>(), ds["items"].get<int64_t>(), ds["interactions"].get<int64_t>(),
                             ds["train_interactions"].get<int64_t>(), ds["valid_users"].get<int64_t>(),
                             ds["test_users"].get<int64_t>(), ds["eval_negatives"].get<int64_t>(),
                             ds["time_kind"].get<std::string>());
    for (const auto& e : ds["examples"]) {
      std::cout << fmt::format("  user {} ({}):\n", e["user"].get<int64_t>(), e["raw_id"].get<std::string>());
      for (const auto& h : e["history"]) {
        std::cout << fmt::format("    [{:<5}] t={:<11} item {:<6} {}\n", h["split"].get<std::string>(),
                                 h["timestamp"].get<int64_t>(), h["item"].get<int>(), h["title"].get<std::string>());
      }
    }
  }

  static void print_diff(const nlohmann::json& d) {
    for (const auto& r : d["datasets"]) {
      if (r.contains("max_abs")) {
        std::cout << fmt::format("{:<48} max_abs {:.3e} max_rel {:.3e}\n", r["path"].get<std::string>(),
                                 r["max_abs"].get<double>(), r["max_rel"].get<double>());
      } else {
        std::cout << fmt::format("{:<48} {}\n", r["path"].get<std::string>(), r.dump());
      }
    }
    for (const auto& l : d["config_diff"]) std::cout << "config " << l.get<std::string>() << "\n";
    std::cout << fmt::format("overall: max_abs {:.3e} max_rel {:.3e}{}\n", d["max_abs"].get<double>(),
                             d["max_rel"].get<double>(), d["identical"].get<bool>() ? " (identical)" : "");
  }

  static void print_attributes(const nlohmann::json& attrs, const std::string& indent) {
    for (auto it = attrs.begin(); it != attrs.end(); ++it) {
      std::string v = it->get<std::string>();
      if (v.find('\n') != std::string::npos) {
        std::cout << indent << "@" << it.key() << ":\n";
        size_t start = 0;
        while (start < v.size()) {
          size_t end = v.find('\n', start);
          if (end == std::string::npos) end = v.size();
          std::cout << indent << "  | " << v.substr(start, end - start) << "\n";
          start = end + 1;
        }
      } else {
        std::cout << indent << "@" << it.key() << " = " << v << "\n";
      }
    }
  }

  std::vector<std::string> files_;
  std::string file_;
  bool diff_mode_ = false;
  bool stats_ = false;
  bool full_attrs_ = false;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(InspectCommand, "inspect", "show the tree, attributes, shapes and statistics of an llmsrec HDF5 file")
