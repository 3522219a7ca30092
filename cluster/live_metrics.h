// A small thread-safe registry of live gauges that the training loop updates
// and the control server renders as Prometheus text (/metrics) or JSON
// (/status). Values are the latest ones; there is no history.
//
//   cluster::LiveMetrics metrics;
//   metrics.set("step", 120);
//   metrics.set("loss", 0.41, {{"part", "retrieval"}});
//   std::string text = metrics.prometheus_text();   // llmsrec_loss{part="retrieval"} 0.41
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::cluster {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class LiveMetrics {
 public:
  // Sets gauge `name` (Prometheus name rules: [a-zA-Z_][a-zA-Z0-9_]*; rendered
  // with the prefix "llmsrec_") for `labels` to `value`. Thread-safe.
  void set(const std::string& name, double value, const MetricLabels& labels = {});
  // Optional one-line help text rendered as "# HELP".
  void describe(const std::string& name, const std::string& help);
  // Removes every series of `name` (e.g. per-rank series that are rebuilt).
  void erase(const std::string& name);

  // Prometheus text exposition format 0.0.4, names sorted.
  std::string prometheus_text() const;
  // {"name": value} for unlabelled series, {"name": [{"labels": {...}, "value": v}]} otherwise.
  nlohmann::json to_json() const;

 private:
  struct Family {
    std::string help;
    std::map<MetricLabels, double> series;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace llmsrec::cluster
