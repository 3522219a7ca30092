#include "checkpoint/h5_inspect.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/error.h"

namespace llmsrec::checkpoint {
namespace {

constexpr char kTempSuffix[] = ".tmp";  // core::AtomicOutput's temp name: NAME.tmp

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

// What an unfinished temp file is, appended to every message about one.
std::string temp_file_story(const std::string& path) {
  const std::string final_name = path.substr(0, path.size() - std::strlen(kTempSuffix));
  return fmt::format("a temp file of a write that has not been committed (its writer is still running, or died); "
                     "the complete file appears as '{}'",
                     final_name);
}

nlohmann::json describe(const std::string& path, const DescribeOptions& options, bool temp) {
  h5::check_not_being_written(path);
  h5::File file = h5::File::open(path);
  nlohmann::json out;
  out["file"] = path;
  out["size_bytes"] = std::filesystem::file_size(path);
  out["attributes"] = attributes_of(file, options.max_attr_chars);
  const bool ours = file.has_attr("llmsrec_schema");
  out["schema"] = ours ? file.attr_string("llmsrec_schema") : "";
  out["llmsrec"] = ours;
  if (!ours) out["note"] = "not an llmsrec file (no llmsrec_schema attribute on /): showing its HDF5 tree only";
  out["complete"] = !temp;
  if (temp) out["warning"] = "incomplete: " + temp_file_story(path);
  nlohmann::json objects = nlohmann::json::array();
  walk(file, "", options, objects);
  out["objects"] = std::move(objects);
  return out;
}

}  // namespace

bool is_temp_file_name(const std::string& path) {
  const size_t n = std::strlen(kTempSuffix);
  return path.size() > n && path.compare(path.size() - n, n, kTempSuffix) == 0;
}

nlohmann::json describe_h5(const std::string& path, const DescribeOptions& options) {
  if (!is_temp_file_name(path)) return describe(path, options, false);
  try {
    return describe(path, options, true);
  } catch (const IoError& e) {
    // A temp file may be empty, half-flushed or locked: say what it is first.
    const std::string why = e.what();
    if (why.find("is incomplete:") != std::string::npos) throw;
    throw IoError(fmt::format("'{}' is incomplete: {} ({})", path, temp_file_story(path), why));
  }
}

}  // namespace llmsrec::checkpoint
