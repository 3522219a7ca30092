#include "cluster/live_metrics.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::cluster {
namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Label values escape backslash, double quote and newline (exposition format).
std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

void LiveMetrics::set(const std::string& name, double value, const MetricLabels& labels) {
  LLMSREC_ASSERT(valid_name(name), "invalid metric name '" + name + "'");
  for (const auto& [k, v] : labels) LLMSREC_ASSERT(valid_name(k), "invalid label name '" + k + "'");
  std::lock_guard<std::mutex> lock(mutex_);
  families_[name].series[labels] = value;
}

void LiveMetrics::describe(const std::string& name, const std::string& help) {
  LLMSREC_ASSERT(valid_name(name), "invalid metric name '" + name + "'");
  std::lock_guard<std::mutex> lock(mutex_);
  families_[name].help = help;
}

void LiveMetrics::erase(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  families_.erase(name);
}

std::string LiveMetrics::prometheus_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) continue;
    const std::string full = "llmsrec_" + name;
    if (!family.help.empty()) out += fmt::format("# HELP {} {}\n", full, family.help);
    out += fmt::format("# TYPE {} gauge\n", full);
    for (const auto& [labels, value] : family.series) {
      out += full;
      if (!labels.empty()) {
        out += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
          out += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escape_label(labels[i].second));
        }
        out += '}';
      }
      out += ' ' + format_value(value) + '\n';
    }
  }
  return out;
}

nlohmann::json LiveMetrics::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) continue;
    auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    if (family.series.size() == 1 && family.series.begin()->first.empty()) {
      out[name] = finite(family.series.begin()->second);
      continue;
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [labels, value] : family.series) {
      nlohmann::json l = nlohmann::json::object();
      for (const auto& [k, v] : labels) l[k] = v;
      rows.push_back({{"labels", l}, {"value", finite(value)}});
    }
    out[name] = rows;
  }
  return out;
}

}  // namespace llmsrec::cluster
