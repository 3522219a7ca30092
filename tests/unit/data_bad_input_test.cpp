// Bad input gives a typed error naming file:line and what was expected; with
// data.skip_bad_lines the lines are skipped and counted.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "app/run_config.h"
#include "data_fixtures.h"

namespace {

using namespace llmsrec::data;
using namespace llmsrec::data::testing;

std::string tsv_error(const std::string& dir) {
  return error_of([&] { read_tsv(config_for("tsv", dir)); });
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(DataBadInput, TsvLineErrorsNameFileAndLine) {
  std::string dir = temp_dir();
  std::string path = write_file(dir, "interactions.tsv", "user_id\titem_id\ttimestamp\nu\ta\t1\nu\tb\n");
  std::string err = tsv_error(dir);
  EXPECT_HAS(err, path + ":3: expected 3 tab-separated columns (as in the header), found 2");
  EXPECT_HAS(err, "data.skip_bad_lines");

  write_file(dir, "interactions.tsv", "user_id\titem_id\ttimestamp\nu\ta\t1\nu\tb\t2\nu\tc\tyesterday\n");
  EXPECT_HAS(tsv_error(dir), path + ":4: timestamp 'yesterday' is not an integer");

  write_file(dir, "interactions.tsv", "user_id\titem_id\ttimestamp\nu\xff\xfe\ta\t1\n");
  EXPECT_HAS(tsv_error(dir), path + ":2: user_id 'u\\xff\\xfe' is not valid UTF-8");

  write_file(dir, "interactions.tsv", "user\titem\n");
  EXPECT_HAS(tsv_error(dir), path + ":1: expected the header 'user_id<TAB>item_id<TAB>timestamp'");

  write_file(dir, "interactions.tsv", "");
  EXPECT_HAS(tsv_error(dir), path + ": empty file, expected the header");

  write_file(dir, "interactions.tsv", "user_id\titem_id\ttimestamp\n");
  EXPECT_HAS(tsv_error(dir), path + ": no interactions after the header");
}

TEST(DataBadInput, TitlesFile) {
  std::string dir = temp_dir();
  write_file(dir, "interactions.tsv", "user_id\titem_id\nu\ta\n");
  std::string items = write_file(dir, "items.tsv", "item_id\ttitle\na\tCaf\xe9\n");
  EXPECT_HAS(tsv_error(dir), items + ":2: title 'Caf\\xe9' is not valid UTF-8");
  write_file(dir, "items.tsv", "item_id\ttitle\na\tx\ty\n");
  EXPECT_HAS(tsv_error(dir), items + ":2: expected 2 tab-separated columns (item_id, title)");
}

TEST(DataBadInput, MissingFilesAreConfigErrors) {
  std::string dir = temp_dir();
  try {
    read_tsv(config_for("tsv", dir));
    FAIL() << "expected ConfigError";
  } catch (const llmsrec::ConfigError& e) {
    EXPECT_HAS(std::string(e.what()), dir + "/interactions.tsv' not found");
  }
  DataConfig cfg = config_for("tsv", dir);
  write_file(dir, "interactions.tsv", "user_id\titem_id\nu\ta\n");
  cfg.items_file = "titles.tsv";  // named explicitly: must exist
  std::string err = error_of([&] { read_tsv(cfg); });
  EXPECT_HAS(err, "config key 'data.items_file'");
  EXPECT_HAS(std::string(error_of([&] { read_amazon2023_jsonl(config_for("amazon2023_jsonl", dir)); })),
             "no review *.jsonl[.gz] file (not meta_*) in");
}

TEST(DataBadInput, JsonlAndCsvAndMovieLens) {
  std::string dir = temp_dir();
  std::string reviews = write_file(dir, "Books.jsonl",
                                   "{\"user_id\": \"U1\", \"parent_asin\": \"P1\", \"timestamp\": 1}\n{\"user_id\": \"U1\",\n");
  std::string err = error_of([&] { read_amazon2023_jsonl(config_for("amazon2023_jsonl", dir)); });
  EXPECT_HAS(err, reviews + ":2: expected one JSON object per line");
  write_file(dir, "Books.jsonl", "{\"user_id\": \"U1\", \"parent_asin\": \"P1\", \"timestamp\": \"soon\"}\n");
  err = error_of([&] { read_amazon2023_jsonl(config_for("amazon2023_jsonl", dir)); });
  EXPECT_HAS(err, reviews + ":1: expected non-empty strings \"user_id\", \"parent_asin\" and an integer \"timestamp\"");

  std::string dir2 = temp_dir() + "_csv";
  std::filesystem::create_directories(dir2);
  std::string train = write_file(dir2, "x.train.csv", "user_id,parent_asin,rating,timestamp\nU,A,5,1\nU,B,5\n");
  write_file(dir2, "x.valid.csv", "user_id,parent_asin,rating,timestamp\n");
  write_file(dir2, "x.test.csv", "user_id,parent_asin,rating,timestamp\n");
  err = error_of([&] { read_amazon2023_csv(config_for("amazon2023_csv", dir2)); });
  EXPECT_HAS(err, train + ":3: expected 4 comma-separated columns");

  std::string dir3 = temp_dir() + "_ml";
  std::filesystem::create_directories(dir3);
  std::string ratings = write_file(dir3, "u.data", "1\t2\t3\t4\n1\tx\t3\t4\n");
  write_file(dir3, "u.item", "2|T|\n");
  err = error_of([&] { read_movielens(config_for("movielens", dir3)); });
  EXPECT_HAS(err, ratings + ":2: expected integer user and item ids");
}

TEST(DataBadInput, SkipBadLinesCountsAndReports) {
  std::string dir = temp_dir();
  write_file(dir, "interactions.tsv",
             "user_id\titem_id\ttimestamp\nu\ta\t1\nu\tb\nu\tc\tnope\nu\tc\t3\n\xff\tz\t1\nu\td\t4\n");
  auto cfg = llmsrec::app::load_run_config(
      "", {"data.format=tsv", "data.path=" + dir, "data.skip_bad_lines=true", "data.k_core=0",
           "data.eval_negatives=0", "run.dir=" + dir + "/run"});
  llmsrec::core::NullProgress progress;
  auto result = prepare(cfg.data, cfg.run, progress);
  auto summary = prepare_summary(result);
  EXPECT_EQ(summary["skipped_lines"], 3);
  EXPECT_EQ(summary["interactions"], 3);
  EXPECT_EQ(load_dataset(result.output).skipped_lines, 3);
}

}  // namespace
