#include "checkpoint/h5_diff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "checkpoint/h5.h"
#include "checkpoint/h5_inspect.h"

namespace llmsrec::checkpoint {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

// A line diff that is good enough for configs (keys are unique per line path).
nlohmann::json config_diff(const std::string& a, const std::string& b) {
  auto la = lines_of(a), lb = lines_of(b);
  std::multiset<std::string> sa(la.begin(), la.end()), sb(lb.begin(), lb.end());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : la) if (!sb.count(l)) out.push_back("- " + l);
  for (const auto& l : lb) if (!sa.count(l)) out.push_back("+ " + l);
  return out;
}

}  // namespace

nlohmann::json diff_h5(const std::string& a, const std::string& b) {
  nlohmann::json da = describe_h5(a, {.max_attr_chars = 0}), db = describe_h5(b, {.max_attr_chars = 0});
  std::map<std::string, nlohmann::json> objs_a, objs_b;
  for (const auto& o : da["objects"]) if (o["kind"] == "dataset") objs_a[o["path"]] = o;
  for (const auto& o : db["objects"]) if (o["kind"] == "dataset") objs_b[o["path"]] = o;
  h5::check_not_being_written(a);
  h5::check_not_being_written(b);
  h5::File fa = h5::File::open(a), fb = h5::File::open(b);
  nlohmann::json rows = nlohmann::json::array();
  double max_abs = 0, max_rel = 0;
  bool identical = true;
  for (const auto& [path, oa] : objs_a) {
    auto it = objs_b.find(path);
    if (it == objs_b.end()) {
      rows.push_back({{"path", path}, {"only_in", a}});
      identical = false;
      continue;
    }
    const auto& ob = it->second;
    if (oa["shape"] != ob["shape"]) {
      rows.push_back({{"path", path}, {"shape_a", oa["shape"]}, {"shape_b", ob["shape"]}});
      identical = false;
      continue;
    }
    if (oa["dtype"] == "string" || ob["dtype"] == "string" || oa["dtype"] == "other") {
      bool same = fa.read_strings(path.substr(1)) == fb.read_strings(path.substr(1));
      rows.push_back({{"path", path}, {"strings_equal", same}});
      identical &= same;
      continue;
    }
    std::vector<double> va = fa.read<double>(path.substr(1)), vb = fb.read<double>(path.substr(1));
    double d_abs = 0, d_rel = 0, scale = 0;
    for (size_t i = 0; i < va.size(); ++i) {
      scale = std::max(scale, std::fabs(va[i]));
      const double d = std::fabs(va[i] - vb[i]);
      if (std::isnan(va[i]) != std::isnan(vb[i])) { d_abs = INFINITY; break; }
      d_abs = std::max(d_abs, d);
      d_rel = std::max(d_rel, d / std::max(std::fabs(va[i]), std::fabs(vb[i])) * (d > 0));
    }
    // max_rel: worst elementwise |a-b|/max(|a|,|b|); scale: max |a| (for tensor-relative tolerances).
    rows.push_back({{"path", path}, {"max_abs", d_abs}, {"max_rel", d_rel}, {"scale", scale}, {"elements", va.size()}});
    max_abs = std::max(max_abs, d_abs);
    max_rel = std::max(max_rel, d_rel);
    identical &= d_abs == 0;
  }
  for (const auto& [path, ob] : objs_b) {
    if (!objs_a.count(path)) {
      rows.push_back({{"path", path}, {"only_in", b}});
      identical = false;
    }
  }
  auto config_of = [](const nlohmann::json& d) {
    return d["attributes"].contains("config") ? d["attributes"]["config"].get<std::string>() : std::string();
  };
  return {{"a", a}, {"b", b}, {"datasets", rows}, {"max_abs", max_abs}, {"max_rel", max_rel},
          {"identical", identical}, {"config_diff", config_diff(config_of(da), config_of(db))}};
}

}  // namespace llmsrec::checkpoint
