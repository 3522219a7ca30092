#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "app/run_config.h"

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "llmsrec_config_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& file, const std::vector<std::string>& overrides) {
  try {
    llmsrec::app::load_run_config(file, overrides);
  } catch (const llmsrec::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsWithoutFile) {
  auto cfg = llmsrec::app::load_run_config("", {});
  EXPECT_EQ(cfg.data.k_core, 5);
  EXPECT_EQ(cfg.run.dir, "runs/default");
  EXPECT_EQ(cfg.run.output_path("dataset.h5"), "runs/default/dataset.h5");
}

TEST(Config, FileValuesAndRunDirFromFileName) {
  auto path = write_temp("mydata.yaml", "data:\n  k_core: 10\n  format: synthetic\n");
  auto cfg = llmsrec::app::load_run_config(path, {});
  EXPECT_EQ(cfg.data.k_core, 10);
  EXPECT_EQ(cfg.run.dir, "runs/mydata");
}

TEST(Config, OverridesWinOverFile) {
  auto path = write_temp("ov.yaml", "data:\n  k_core: 10\n");
  auto cfg = llmsrec::app::load_run_config(path, {"data.k_core=0", "run.dir=/tmp/x", "run.seed=7"});
  EXPECT_EQ(cfg.data.k_core, 0);
  EXPECT_EQ(cfg.run.seed, 7);
  EXPECT_EQ(cfg.run.output_path("dataset.h5"), "/tmp/x/dataset.h5");
  EXPECT_NE(cfg.run.resolved_yaml.find("k_core: 0"), std::string::npos) << cfg.run.resolved_yaml;
}

TEST(Config, UnknownKeyNamesPathAndLine) {
  auto path = write_temp("typo.yaml", "run:\n  seed: 1\ndata:\n  format: synthetic\n  kcore: 3\n");
  std::string err = error_of(path, {});
  EXPECT_NE(err.find("typo.yaml:5"), std::string::npos) << err;
  EXPECT_NE(err.find("data.kcore"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'data.k_core'"), std::string::npos) << err;
}

TEST(Config, UnknownSectionIsAnError) {
  auto path = write_temp("section.yaml", "dta:\n  k_core: 3\n");
  std::string err = error_of(path, {});
  EXPECT_NE(err.find("section.yaml:1"), std::string::npos) << err;
  EXPECT_NE(err.find("'dta'"), std::string::npos) << err;
}

TEST(Config, WrongTypeNamesKeyAndLine) {
  auto path = write_temp("type.yaml", "data:\n  k_core: five\n");
  std::string err = error_of(path, {});
  EXPECT_NE(err.find("type.yaml:2"), std::string::npos) << err;
  EXPECT_NE(err.find("data.k_core"), std::string::npos) << err;
  EXPECT_NE(err.find("five"), std::string::npos) << err;
}

TEST(Config, FractionIsNotAnInteger) {
  EXPECT_NE(error_of("", {"data.k_core=1.5"}).find("expected an integer"), std::string::npos);
}

TEST(Config, BadOverrideKeyNamesTheOverride) {
  std::string err = error_of("", {"data.nope=1"});
  EXPECT_NE(err.find("--set data.nope=1"), std::string::npos) << err;
}

TEST(Config, OverrideIntoValueIsAnError) {
  std::string err = error_of("", {"data.k_core.x=1"});
  EXPECT_NE(err.find("--set data.k_core.x=1"), std::string::npos) << err;
  EXPECT_NE(err.find("expected an integer"), std::string::npos) << err;
  auto path = write_temp("value.yaml", "data:\n  k_core: 3\n");
  err = error_of(path, {"data.k_core.x=1"});
  EXPECT_NE(err.find("is a value, not a section"), std::string::npos) << err;
}

TEST(Config, ChoiceRejectsUnknownValue) {
  std::string err = error_of("", {"data.format=parquet"});
  EXPECT_NE(err.find("'parquet' is not one of"), std::string::npos) << err;
}

TEST(Config, ValidateRejectsNegative) {
  std::string err = error_of("", {"data.k_core=-1"});
  EXPECT_NE(err.find("data.k_core"), std::string::npos) << err;
}

TEST(Config, SyntaxErrorHasLineAndColumn) {
  auto path = write_temp("syntax.yaml", "data:\n  k_core: [1, 2\n");
  std::string err = error_of(path, {});
  EXPECT_NE(err.find("syntax.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("YAML syntax error"), std::string::npos) << err;
}

TEST(Config, MissingFileIsAConfigError) {
  EXPECT_NE(error_of("/nonexistent/cfg.yaml", {}).find("cannot be opened"), std::string::npos);
}

TEST(Config, ResolvedYamlRoundTrips) {
  auto cfg = llmsrec::app::load_run_config("", {"data.k_core=3", "run.seed=99"});
  auto path = write_temp("roundtrip.yaml", cfg.run.resolved_yaml);
  auto again = llmsrec::app::load_run_config(path, {});
  EXPECT_EQ(again.run.resolved_yaml, cfg.run.resolved_yaml);
  EXPECT_EQ(llmsrec::core::config_hash(again), llmsrec::core::config_hash(cfg));
}

}  // namespace
