#include "checkpoint/checkpoint_store.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"

namespace llmsrec::checkpoint {
namespace fs = std::filesystem;

namespace {
constexpr const char* kSchema = "llmsrec.checkpoint";
constexpr int64_t kSchemaVersion = 1;

// Creates the intermediate groups of "a/b" (for a tensor named "a/b/c").
void ensure_groups(h5::Group& root, const std::string& parent) {
  std::string built;
  size_t pos = 0;
  while (pos <= parent.size()) {
    size_t next = parent.find('/', pos);
    if (next == std::string::npos) next = parent.size();
    built += (built.empty() ? "" : "/") + parent.substr(pos, next - pos);
    if (!root.exists(built)) root.create_group(built);
    pos = next + 1;
  }
}

void write_tensor(h5::Group& root, const std::string& name, const at::Tensor& t) {
  if (auto slash = name.rfind('/'); slash != std::string::npos) ensure_groups(root, name.substr(0, slash));
  at::Tensor c = t.detach().cpu().contiguous();
  std::vector<uint64_t> dims(c.sizes().begin(), c.sizes().end());
  switch (c.scalar_type()) {
    case at::kDouble: root.write(name, c.data_ptr<double>(), dims); break;
    case at::kLong: root.write(name, c.data_ptr<int64_t>(), dims); break;
    case at::kInt: root.write(name, c.data_ptr<int32_t>(), dims); break;
    case at::kFloat: root.write(name, c.data_ptr<float>(), dims); break;
    case at::kBFloat16:
    case at::kHalf: {
      at::Tensor f = c.to(at::kFloat);
      root.write(name, f.data_ptr<float>(), dims);
      break;
    }
    default: throw ShapeError(fmt::format("checkpoint: tensor '{}' has unsupported dtype {}", name,
                                          c10::toString(c.scalar_type())));
  }
}

void collect(const h5::Group& g, const std::string& prefix, TrainingState& state) {
  for (const auto& child : g.children()) {
    std::string name = prefix.empty() ? child : prefix + "/" + child;
    if (g.is_group(child)) {
      collect(g.open_group(child), name, state);
      continue;
    }
    h5::DatasetInfo info = g.info(child);
    std::vector<int64_t> sizes(info.dims.begin(), info.dims.end());
    at::Tensor t;
    switch (info.dtype) {
      case h5::DType::kFloat64: {
        auto v = g.read<double>(child);
        t = at::from_blob(v.data(), sizes, at::kDouble).clone();
        break;
      }
      case h5::DType::kInt64: {
        auto v = g.read<int64_t>(child);
        t = at::from_blob(v.data(), sizes, at::kLong).clone();
        break;
      }
      case h5::DType::kInt32: {
        auto v = g.read<int32_t>(child);
        t = at::from_blob(v.data(), sizes, at::kInt).clone();
        break;
      }
      default: {
        auto v = g.read<float>(child);
        t = at::from_blob(v.data(), sizes, at::kFloat).clone();
      }
    }
    state.tensors.emplace_back(name, t);
  }
}

int64_t step_of(const std::string& filename) {
  static const std::regex re(R"(ckpt-(\d+)\.h5)");
  std::smatch m;
  if (std::regex_match(filename, m, re)) return std::stoll(m[1]);
  return -1;
}
}  // namespace

const at::Tensor& TrainingState::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors) if (n == name) return t;
  throw IoError(fmt::format("checkpoint has no tensor '{}'", name));
}

CheckpointStore::CheckpointStore(std::string dir, int keep_last) : dir_(std::move(dir)), keep_last_(keep_last) {
  if (keep_last_ < 1) throw ConfigError(fmt::format("checkpoint keep_last must be >= 1, found {}", keep_last_));
}

std::string CheckpointStore::save(int64_t step, const TrainingState& state, const std::string& config_yaml) const {
  const std::string path = (fs::path(dir_) / fmt::format("ckpt-{:08d}.h5", step)).string();
  try {
    write_checkpoint(path, step, state, config_yaml);
  } catch (const Error& e) {
    // The temp file is gone (AtomicFile), so `latest` and the files it names are as before.
    int64_t needed = 0;
    for (const auto& [name, t] : state.tensors) needed += t.numel() * static_cast<int64_t>(t.element_size());
    std::error_code ec;
    const auto space = fs::space(dir_, ec);
    const auto previous = latest_path();
    throw IoError(fmt::format("checkpoint of step {} not written: {}. It needs about {} bytes; '{}' has {} free. "
                              "{}; free space (or move run.dir), then --resume continues from it",
                              step, e.what(), needed, dir_, ec ? std::string("?") : std::to_string(space.available),
                              previous ? fmt::format("The previous checkpoint '{}' is intact and still latest", *previous)
                                       : std::string("No earlier checkpoint exists")));
  }
  core::write_file_atomic((fs::path(dir_) / "latest").string(), fs::path(path).filename().string() + "\n");
  auto all = list();
  for (size_t i = 0; i + static_cast<size_t>(keep_last_) < all.size(); ++i) fs::remove(all[i]);
  return path;
}

void CheckpointStore::write_checkpoint(const std::string& path, int64_t step, const TrainingState& state,
                                       const std::string& config_yaml) const {
  {
    h5::AtomicFile out(path);
    h5::Group& root = out.root();
    root.set_attr("llmsrec_schema", kSchema);
    root.set_attr("schema_version", kSchemaVersion);
    root.set_attr("config", config_yaml);
    root.set_attr("created_by", core::version_string());
    nlohmann::json versions;
    for (const auto& [k, v] : core::version_table()) versions[k] = v;
    root.set_attr("versions", versions.dump());
    root.set_attr("state", state.meta.dump());
    root.set_attr("step", step);
    h5::Group tensors = root.create_group("tensors");
    for (const auto& [name, t] : state.tensors) write_tensor(tensors, name, t);
    out.commit();
  }
}

std::optional<std::string> CheckpointStore::latest_path() const {
  std::ifstream in(fs::path(dir_) / "latest");
  std::string name;
  if (!in || !std::getline(in, name) || name.empty()) return std::nullopt;
  auto path = fs::path(dir_) / name;
  if (!fs::exists(path)) return std::nullopt;
  return path.string();
}

std::vector<std::string> CheckpointStore::list() const {
  std::vector<std::pair<int64_t, std::string>> found;
  if (fs::exists(dir_)) {
    for (const auto& e : fs::directory_iterator(dir_)) {
      int64_t s = step_of(e.path().filename().string());
      if (s >= 0) found.emplace_back(s, e.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::optional<std::pair<std::string, TrainingState>> CheckpointStore::newest_readable_before(
    const std::string& path, std::vector<std::string>* skipped) const {
  const int64_t limit = step_of(fs::path(path).filename().string());
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (limit >= 0 && step_of(fs::path(*it).filename().string()) >= limit) continue;
    try {
      return std::make_pair(*it, load(*it));
    } catch (const Error& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  return std::nullopt;
}

TrainingState CheckpointStore::load(const std::string& path) {
  auto f = h5::File::open(path);
  if (!f.has_attr("llmsrec_schema") || f.attr_string("llmsrec_schema") != kSchema) {
    throw IoError(fmt::format("'{}' is not an llmsrec checkpoint (schema attribute '{}' expected '{}')", path,
                              f.has_attr("llmsrec_schema") ? f.attr_string("llmsrec_schema") : "", kSchema));
  }
  if (f.attr_int("schema_version") > kSchemaVersion) {
    throw IoError(fmt::format("'{}': checkpoint schema version {} is newer than this llmsrec reads ({}); upgrade llmsrec",
                              path, f.attr_int("schema_version"), kSchemaVersion));
  }
  TrainingState state;
  try {
    state.meta = nlohmann::json::parse(f.attr_string("state"));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("'{}': state attribute is not valid JSON: {}", path, e.what()));
  }
  collect(f.open_group("tensors"), "", state);
  return state;
}

}  // namespace llmsrec::checkpoint
