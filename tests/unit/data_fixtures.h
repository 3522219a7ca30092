// Helpers for the data tests: a fresh temp directory per test and small
// fixture files (plain or gzip) written by the test itself.
#pragma once

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/progress.h"
#include "data/data_config.h"
#include "data/prepare.h"
#include "data/readers.h"

namespace llmsrec::data::testing {

// A directory unique to the running test, emptied first.
inline std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() / "llmsrec_data_tests" /
             (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

inline std::string write_gz(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  return path;
}

inline DataConfig config_for(const std::string& format, const std::string& dir) {
  DataConfig cfg;
  cfg.format = format;
  cfg.path = dir;
  cfg.k_core = 0;
  cfg.eval_negatives = 0;
  return cfg;
}

inline Dataset build(const RawInteractions& raw, const DataConfig& cfg, uint64_t seed = 1) {
  core::NullProgress progress;
  return build_dataset(raw, cfg, seed, progress);
}

// The message of the DataError/ConfigError `fn` throws ("" when none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace llmsrec::data::testing
