#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "cluster/cluster_config.h"
#include "cluster/live_metrics.h"
#include "core/error.h"
#include "app/run_config.h"

using llmsrec::cluster::LiveMetrics;

TEST(LiveMetrics, RendersPrometheusTextWithLabelsAndEscapes) {
  LiveMetrics m;
  m.describe("loss", "training loss by part");
  m.set("step", 12);
  m.set("loss", 0.5, {{"part", "retrieval"}});
  m.set("loss", 0.25, {{"part", "distill"}});
  m.set("weird", std::nan(""), {{"name", "a\"b\\c\nd"}});
  const std::string text = m.prometheus_text();
  EXPECT_NE(text.find("# HELP llmsrec_loss training loss by part\n# TYPE llmsrec_loss gauge\n"), std::string::npos);
  EXPECT_NE(text.find("llmsrec_loss{part=\"retrieval\"} 0.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("llmsrec_loss{part=\"distill\"} 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("llmsrec_step 12\n"), std::string::npos);
  EXPECT_NE(text.find("llmsrec_weird{name=\"a\\\"b\\\\c\\nd\"} NaN\n"), std::string::npos) << text;
  auto j = m.to_json();
  EXPECT_EQ(j["step"].get<double>(), 12);
  EXPECT_EQ(j["loss"].size(), 2u);
  EXPECT_TRUE(j["weird"][0]["value"].is_null());
  m.erase("loss");
  EXPECT_EQ(m.prometheus_text().find("llmsrec_loss"), std::string::npos);
}

TEST(LiveMetrics, ConcurrentWritersAndReaders) {
  LiveMetrics m;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) m.set("step", i, {{"rank", std::to_string(i % 4)}});
    done = true;
  });
  size_t longest = 0;
  while (!done) longest = std::max(longest, m.prometheus_text().size());
  longest = std::max(longest, m.prometheus_text().size());
  writer.join();
  EXPECT_NE(m.prometheus_text().find("llmsrec_step{rank=\"3\"} 19999"), std::string::npos);
  EXPECT_GT(longest, 0u);
}

TEST(ClusterConfig, DefaultsAndValidation) {
  auto cfg = llmsrec::app::load_run_config("", {});
  EXPECT_EQ(cfg.cluster.backend, "auto");
  EXPECT_EQ(cfg.cluster.timeout_s, 300);
  EXPECT_EQ(cfg.cluster.heartbeat_timeout_s, 60);
  EXPECT_EQ(cfg.cluster.control_address, "127.0.0.1");
  EXPECT_EQ(cfg.cluster.control_port, 29400);
  EXPECT_THROW(llmsrec::app::load_run_config("", {"cluster.heartbeat_timeout_s=1", "cluster.heartbeat_interval_s=1"}),
               llmsrec::ConfigError);
  EXPECT_THROW(llmsrec::app::load_run_config("", {"cluster.control_port=70000"}), llmsrec::ConfigError);
  EXPECT_THROW(llmsrec::app::load_run_config("", {"cluster.backend=gloo"}), llmsrec::ConfigError);
  EXPECT_NO_THROW(llmsrec::app::load_run_config("", {"cluster.control_port=-1"}));
}
