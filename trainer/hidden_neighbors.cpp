#include "trainer/hidden_neighbors.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "checkpoint/h5.h"
#include "core/error.h"
#include "trainer/llmsrec_embed.h"

namespace llmsrec::trainer {
namespace {

namespace h5 = checkpoint::h5;

double norm_of(const float* x, uint64_t d) {
  double s = 0;
  for (uint64_t j = 0; j < d; ++j) s += static_cast<double>(x[j]) * x[j];
  return std::sqrt(s);
}

// Titles of dataset.h5, checked against the item count of the hidden file.
std::vector<std::string> load_titles(const std::string& path, int64_t num_items, const std::string& hidden) {
  const h5::File f = h5::File::open(path);
  if (!f.has_attr("llmsrec_schema") || f.attr_string("llmsrec_schema") != "llmsrec.dataset") {
    throw DataError(fmt::format("'{}' is not a dataset.h5 (pass the one '{}' was made from with --dataset)", path,
                                hidden));
  }
  std::vector<std::string> titles = f.read_strings("items/titles");
  if (static_cast<int64_t>(titles.size()) != num_items + 1) {
    throw DataError(fmt::format("'{}' has {} items but '{}' has {}: another dataset (pass the right one with --dataset)",
                                path, static_cast<int64_t>(titles.size()) - 1, hidden, num_items));
  }
  return titles;
}

}  // namespace

nlohmann::json nearest_items(const NeighborQuery& q) {
  if (q.space != "vector" && q.space != "hidden") {
    throw ConfigError(fmt::format("--space must be 'vector' or 'hidden', found '{}'", q.space));
  }
  if (q.k < 1) throw ConfigError(fmt::format("-k must be >= 1, found {}", q.k));
  const h5::File f = h5::File::open(q.hidden);
  const std::string schema = f.has_attr("llmsrec_schema") ? f.attr_as_text("llmsrec_schema") : "";
  if (schema != kHiddenSchema) {
    throw IoError(fmt::format("'{}' is not a hidden.h5 (llmsrec_schema '{}', expected '{}'); make one with llmsrec embed",
                              q.hidden, schema, kHiddenSchema));
  }
  const std::string name = "items/" + q.space;
  const h5::DatasetInfo info = f.info(name);
  if (info.dims.size() != 2 || info.dims[0] < 2) {
    throw DataError(fmt::format("'{}': {} should be [I+1, d] with I >= 1 items", q.hidden, name));
  }
  const auto rows = static_cast<int64_t>(info.dims[0]);
  const uint64_t d = info.dims[1];
  if (q.item < 1 || q.item >= rows) {
    throw ConfigError(fmt::format("--item {} is out of range: '{}' holds items 1..{}", q.item, q.hidden, rows - 1));
  }
  const std::vector<float> query = f.read_rows<float>(name, static_cast<uint64_t>(q.item), 1);
  const double qn = norm_of(query.data(), d);
  if (!(qn > 0) || !std::isfinite(qn)) {
    throw DataError(fmt::format("'{}': {} row {} has norm {}: cosine is undefined", q.hidden, name, q.item, qn));
  }

  // Min-heap of the best k (cosine, -id): the top is the weakest kept neighbour.
  using Entry = std::pair<double, int64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> best;
  const uint64_t block = std::max<uint64_t>(1, (4u << 20) / (d * sizeof(float)));
  for (int64_t b = 1; b < rows; b += static_cast<int64_t>(block)) {
    const uint64_t n = std::min<uint64_t>(block, static_cast<uint64_t>(rows - b));
    const std::vector<float> x = f.read_rows<float>(name, static_cast<uint64_t>(b), n);
    for (uint64_t r = 0; r < n; ++r) {
      const int64_t id = b + static_cast<int64_t>(r);
      if (id == q.item) continue;
      const float* row = x.data() + r * d;
      const double xn = norm_of(row, d);
      if (!(xn > 0)) continue;
      double dot = 0;
      for (uint64_t j = 0; j < d; ++j) dot += static_cast<double>(query[j]) * row[j];
      const Entry e{std::clamp(dot / (qn * xn), -1.0, 1.0), -id};
      if (static_cast<int64_t>(best.size()) < q.k) best.push(e);
      else if (e > best.top()) { best.pop(); best.push(e); }
    }
  }
  std::vector<Entry> sorted;
  for (; !best.empty(); best.pop()) sorted.push_back(best.top());
  std::reverse(sorted.begin(), sorted.end());

  const std::string dataset = q.dataset.empty() ? (f.has_attr("dataset") ? f.attr_string("dataset") : "") : q.dataset;
  if (dataset.empty()) {
    throw IoError(fmt::format("'{}' does not name its dataset.h5: pass --dataset", q.hidden));
  }
  const std::vector<std::string> titles = load_titles(dataset, rows - 1, q.hidden);
  nlohmann::json out = {{"file", q.hidden}, {"dataset", dataset}, {"space", q.space}, {"item", q.item},
                        {"title", titles[static_cast<size_t>(q.item)]}, {"k", q.k}};
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < sorted.size(); ++i) {
    const int64_t id = -sorted[i].second;
    list.push_back({{"rank", i + 1}, {"item", id}, {"cosine", sorted[i].first},
                    {"title", titles[static_cast<size_t>(id)]}});
  }
  out["neighbors"] = list;
  return out;
}

}  // namespace llmsrec::trainer
