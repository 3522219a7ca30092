// Each reader on a small fixture written here: ids, order, titles, time units, splits.
#include <gtest/gtest.h>

#include "data_fixtures.h"

namespace {

using namespace llmsrec::data;
using namespace llmsrec::data::testing;

std::vector<std::string> titles_of_user(const Dataset& ds, int64_t u) {
  std::vector<std::string> out;
  for (int32_t it : ds.user_items(u)) out.push_back(ds.item_titles[it]);
  return out;
}

TEST(DataReaders, TsvWithTitles) {
  std::string dir = temp_dir();
  write_file(dir, "interactions.tsv",
             "user_id\titem_id\ttimestamp\r\n"  // CRLF tolerated
             "alice\tB1\t1600000300\r\nalice\tB2\t1600000100\r\nbob\tB1\t1600000000\r\nalice\tB3\t1600000200\r\n");
  write_file(dir, "items.tsv", "item_id\ttitle\nB1\tThe Hobbit\nB2\t  \nB9\tNever seen\n");
  auto raw = read_tsv(config_for("tsv", dir));
  EXPECT_EQ(raw.sources.size(), 2u);
  EXPECT_GT(raw.sources[0].crc32, 0u);
  EXPECT_EQ(raw.sources[0].bytes, 109);
  Dataset ds = build(raw, config_for("tsv", dir));
  ASSERT_EQ(ds.num_users(), 2);
  EXPECT_EQ(ds.user_raw_ids, (std::vector<std::string>{"alice", "bob"}));
  // alice sorted by time: B2 (100), B3 (200), B1 (300)
  EXPECT_EQ(titles_of_user(ds, 0), (std::vector<std::string>{"Empty title", "Empty title", "The Hobbit"}));
  EXPECT_EQ(ds.item_raw_ids[ds.user_items(0)[0]], "B2");
  EXPECT_EQ(ds.empty_titles, 2) << "B2 (blank title) and B3 (no row)";
  EXPECT_EQ(ds.time_kind, TimeKind::kUnixSeconds);
  EXPECT_EQ(ds.num_items(), 3) << "B9 has a title but no interaction";
}

TEST(DataReaders, TsvWithoutTimestampsOrItems) {
  std::string dir = temp_dir();
  write_file(dir, "interactions.tsv", "user_id\titem_id\nu\ta\nu\tb\nu\tc\n");
  Dataset ds = build(read_tsv(config_for("tsv", dir)), config_for("tsv", dir));
  EXPECT_EQ(ds.time_kind, TimeKind::kOrderIndex);
  EXPECT_EQ(ds.user_timestamps(0)[2], 2);
  EXPECT_EQ(ds.empty_titles, 3);
  EXPECT_EQ(ds.item_titles[1], "Empty title");
}

TEST(DataReaders, Amazon2023JsonlGzip) {
  std::string dir = temp_dir();
  write_gz(dir, "Books.jsonl.gz",
           "{\"rating\": 5.0, \"user_id\": \"U1\", \"parent_asin\": \"P2\", \"timestamp\": 1588687728923}\n"
           "{\"rating\": 4.0, \"user_id\": \"U1\", \"parent_asin\": \"P1\", \"timestamp\": 1588600000000}\n"
           "\n"
           "{\"user_id\": \"U2\", \"parent_asin\": \"P1\", \"timestamp\": 1500000000000, \"text\": \"caf\\u00e9\"}\n");
  write_gz(dir, "meta_Books.jsonl.gz",
           "{\"parent_asin\": \"P1\", \"title\": \"Caf\\u00e9 stories\", \"price\": null}\n"
           "{\"parent_asin\": \"P2\", \"title\": \"\"}\n"
           "{\"parent_asin\": \"P3\", \"title\": \"Unused\"}\n");
  auto raw = read_amazon2023_jsonl(config_for("amazon2023_jsonl", dir));
  ASSERT_EQ(raw.rows.size(), 3u);
  Dataset ds = build(raw, config_for("amazon2023_jsonl", dir));
  EXPECT_EQ(ds.time_kind, TimeKind::kUnixSeconds);
  EXPECT_EQ(ds.user_timestamps(0)[0], 1588600000) << "ms -> s, sorted";
  EXPECT_EQ(titles_of_user(ds, 0), (std::vector<std::string>{"Caf\xc3\xa9 stories", "Empty title"}));
  EXPECT_EQ(ds.empty_titles, 1);
  EXPECT_EQ(ds.num_items(), 2);
}

TEST(DataReaders, Amazon2023CsvKeepsTheSplit) {
  std::string dir = temp_dir();
  write_file(dir, "Toys.train.csv",
             "user_id,parent_asin,rating,timestamp\nU1,A,5.0,100\nU1,B,4.0,200\nU1,C,3.0,300\nU2,A,1.0,50\nU2,F,1,40\nU2,G,1,45\n");
  write_file(dir, "Toys.valid.csv", "user_id,parent_asin,rating,timestamp\nU1,D,5.0,10\n");  // earlier, still valid
  write_file(dir, "Toys.test.csv", "user_id,parent_asin,rating,timestamp\nU1,\"E\",2.0,400\nU2,B,5.0,60\n");
  DataConfig cfg = config_for("amazon2023_csv", dir);
  cfg.eval_negatives = 1;
  Dataset ds = build(read_amazon2023_csv(cfg), cfg);
  ASSERT_EQ(ds.num_users(), 2);
  EXPECT_EQ(ds.train_items(0).size(), 3);
  ASSERT_EQ(ds.valid_items(0).size(), 1);
  EXPECT_EQ(ds.item_raw_ids[ds.valid_items(0)[0]], "D");
  EXPECT_EQ(ds.item_raw_ids[ds.test_items(0)[0]], "E");
  // U2: train and test, no valid, no valid (the source said so; leave-last-out would make it train-only)
  EXPECT_EQ(ds.train_items(1).size(), 3);
  EXPECT_TRUE(ds.valid_items(1).empty());
  EXPECT_EQ(ds.test_items(1).size(), 1);
  EXPECT_EQ(ds.valid.users, (std::vector<int64_t>{0}));
  EXPECT_EQ(ds.test.users, (std::vector<int64_t>{0, 1}));
}

TEST(DataReaders, MovieLens100kLatin1) {
  std::string dir = temp_dir();
  write_file(dir, "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t4\t881250000\n");
  write_file(dir, "u.item",
             "242|Kolya (1996)|24-Jan-1997||http://x|0|0\n302|L.A. Confidential (1997)|01-Jan-1997||x|0\n"
             "303|Les Mis\xe9rables (1995)|01-Jan-1995||x|0\n");
  Dataset ds = build(read_movielens(config_for("movielens", dir)), config_for("movielens", dir));
  ASSERT_EQ(ds.num_users(), 2);
  EXPECT_EQ(titles_of_user(ds, 0), (std::vector<std::string>{"L.A. Confidential (1997)", "Kolya (1996)"}));
  EXPECT_EQ(ds.time_kind, TimeKind::kUnixSeconds);
}

TEST(DataReaders, MovieLens1mDatConvertsLatin1) {
  std::string dir = temp_dir();
  write_file(dir, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n");
  write_file(dir, "movies.dat", "1193::Mis\xe9rables, Les (1995)::Drama\n661::James and the Giant Peach (1996)::Animation\n");
  Dataset ds = build(read_movielens(config_for("movielens", dir)), config_for("movielens", dir));
  EXPECT_EQ(titles_of_user(ds, 0)[0], "Mis\xc3\xa9rables, Les (1995)");
  EXPECT_EQ(ds.user_raw_ids[0], "1");
  EXPECT_EQ(ds.item_raw_ids[1], "1193");
}

}  // namespace

namespace {

TEST(DataIds, NumericOneToNKeepsRawIdsOtherwiseFirstAppearance) {
  using namespace llmsrec::data;
  RawInteractions raw;
  auto add = [&](const char* u, const char* i, int64_t ts) {
    raw.rows.push_back({raw.users.intern(u), raw.items.intern(i), ts, 0});
  };
  add("1", "3", 0), add("1", "1", 1), add("2", "2", 0);
  Dataset ds = llmsrec::data::testing::build(raw, llmsrec::data::testing::config_for("tsv", ""));
  EXPECT_EQ(ds.item_raw_ids, (std::vector<std::string>{"", "1", "2", "3"}));
  EXPECT_EQ(ds.items, (std::vector<int32_t>{3, 1, 2}));
  add("2", "07", 1);  // not canonical 1..I: first appearance
  ds = llmsrec::data::testing::build(raw, llmsrec::data::testing::config_for("tsv", ""));
  EXPECT_EQ(ds.item_raw_ids, (std::vector<std::string>{"", "3", "1", "2", "07"}));
}

}  // namespace
