#include "checkpoint/h5_inspect.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "checkpoint/h5.h"

namespace llmsrec::checkpoint {
namespace {

nlohmann::json attributes_of(const h5::Object& obj, int64_t max_chars) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& name : obj.attr_names()) {
    std::string text = obj.attr_as_text(name);
    if (max_chars > 0 && static_cast<int64_t>(text.size()) > max_chars) {
      text = text.substr(0, static_cast<size_t>(max_chars)) + "... (" + std::to_string(text.size()) + " chars)";
    }
    out[name] = text;
  }
  return out;
}

nlohmann::json stats_of(const h5::Group& group, const std::string& name, uint64_t count) {
  // Read in row blocks so a big tensor does not need a double copy in memory.
  const h5::DatasetInfo info = group.info(name);
  uint64_t rows = info.dims.empty() ? 1 : info.dims[0];
  uint64_t row_elems = rows ? count / rows : 0;
  double sum = 0, sum_sq = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  uint64_t finite = 0, nan = 0, inf = 0;
  const uint64_t block_rows = std::max<uint64_t>(1, (1u << 20) / std::max<uint64_t>(1, row_elems));
  for (uint64_t r = 0; r < rows; r += block_rows) {
    uint64_t n = std::min(block_rows, rows - r);
    std::vector<double> v = info.dims.empty() ? group.read<double>(name) : group.read_rows<double>(name, r, n);
    for (double x : v) {
      if (std::isnan(x)) { ++nan; continue; }
      if (std::isinf(x)) { ++inf; continue; }
      ++finite;
      sum += x;
      sum_sq += x * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  nlohmann::json s;
  s["count"] = count;
  s["nan"] = nan;
  s["inf"] = inf;
  if (finite > 0) {
    double mean = sum / finite;
    s["mean"] = mean;
    s["std"] = std::sqrt(std::max(0.0, sum_sq / finite - mean * mean));
    s["min"] = lo;
    s["max"] = hi;
  }
  return s;
}

void walk(const h5::Group& group, const std::string& prefix, const DescribeOptions& opt, nlohmann::json& objects) {
  for (const auto& name : group.children()) {
    const std::string path = prefix + "/" + name;
    if (group.is_group(name)) {
      h5::Group sub = group.open_group(name);
      objects.push_back({{"path", path}, {"kind", "group"}, {"attributes", attributes_of(sub, opt.max_attr_chars)}});
      walk(sub, path, opt, objects);
      continue;
    }
    h5::DatasetInfo info = group.info(name);
    uint64_t count = 1;
    for (auto d : info.dims) count *= d;
    nlohmann::json o = {{"path", path},
                        {"kind", "dataset"},
                        {"shape", info.dims},
                        {"dtype", h5::dtype_name(info.dtype)},
                        {"storage_bytes", info.storage_bytes},
                        {"attributes", attributes_of(group.open_object(name), opt.max_attr_chars)}};
    if (!info.chunk.empty()) o["chunk"] = info.chunk;
    if (!info.compression.empty()) o["compression"] = info.compression;
    bool numeric = info.dtype != h5::DType::kString && info.dtype != h5::DType::kOther;
    if (opt.stats && numeric && count > 0 && count <= opt.stats_max_elements) o["stats"] = stats_of(group, name, count);
    objects.push_back(std::move(o));
  }
}

}  // namespace

nlohmann::json describe_h5(const std::string& path, const DescribeOptions& options) {
  h5::File file = h5::File::open(path);
  nlohmann::json out;
  out["file"] = path;
  out["size_bytes"] = std::filesystem::file_size(path);
  out["attributes"] = attributes_of(file, options.max_attr_chars);
  out["schema"] = file.has_attr("llmsrec_schema") ? file.attr_string("llmsrec_schema") : "";
  nlohmann::json objects = nlohmann::json::array();
  walk(file, "", options, objects);
  out["objects"] = std::move(objects);
  return out;
}

}  // namespace llmsrec::checkpoint
