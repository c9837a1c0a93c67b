#include "bench/harness/replay.h"

#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "bench/harness/model_gen.h"
#include "gtest/gtest.h"

namespace recd::bench {
namespace {

class TempDir {
 public:
  TempDir() : path_(*MakeTempDir("replay-test")) {}
  ~TempDir() { RemoveTree(path_); }
  std::string Write(const std::string& name, const std::string& text, bool gzip = false) {
    const std::string path = path_ + "/" + name;
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
      gzclose(f);
    } else {
      std::ofstream(path) << text;
    }
    return path;
  }

 private:
  std::string path_;
};

TEST(Csv, SplitsQuotedFieldsWithCommasAndEscapedQuotes) {
  absl::StatusOr<std::vector<std::string>> f =
      SplitCsvRecord(R"(536365,"SET 7 BABUSHKA, NESTING ""BOXES""",,6)");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1], R"(SET 7 BABUSHKA, NESTING "BOXES")");
  EXPECT_EQ((*f)[2], "");
}

TEST(Csv, RefusesUnterminatedQuotesAndJunkAfterAQuote) {
  EXPECT_FALSE(SplitCsvRecord(R"(a,"b)").ok());
  EXPECT_FALSE(SplitCsvRecord(R"(a,"b"c,d)").ok());
}

TEST(DateTime, ParsesRetailInvoiceDatesAsUtc) {
  EXPECT_EQ(*ParseDateTimeUtcMs("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(*ParseDateTimeUtcMs("2010-12-01 08:26:00"), 1291191960000);
  EXPECT_EQ(*ParseDateTimeUtcMs("2010-12-01 08:26"), 1291191960000);
  EXPECT_FALSE(ParseDateTimeUtcMs("2010-13-01 08:26:00").ok());
  EXPECT_FALSE(ParseDateTimeUtcMs("12/1/2010 8:26").ok());
}

TEST(Replay, MovieLensEventsComeBackInTimestampOrder) {
  TempDir dir;
  const std::string path = dir.Write("ratings.csv",
                                     "userId,movieId,rating,timestamp\n"
                                     "1,10,4.0,300\n"
                                     "1,20,3.5,100\r\n"
                                     "2,10,5.0,200\n");
  ReplayReadStats stats;
  absl::StatusOr<std::vector<ReplayEvent>> events = ReadReplayFile(path, "movielens", 0, &stats);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].item, "20");
  EXPECT_EQ((*events)[0].ts_ms, 100'000);
  EXPECT_EQ((*events)[1].user, "2");
  EXPECT_EQ((*events)[2].ts_ms, 300'000);
  EXPECT_EQ(stats.rows, 3);
}

TEST(Replay, LimitKeepsTheEarliestEvents) {
  TempDir dir;
  const std::string path =
      dir.Write("r.csv", "userId,movieId,rating,timestamp\n1,1,1,9\n1,2,1,3\n");
  absl::StatusOr<std::vector<ReplayEvent>> events = ReadReplayFile(path, "movielens", 1);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].item, "2");
}

TEST(Replay, RetailKeepsCustomersPurchasesAndDropsGuestsCancellationsAndReturns) {
  TempDir dir;
  const std::string csv =
      "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
      "536366,22633,\"HAND WARMER, UNION JACK\",6,2010-12-01 08:28:00,1.85,17850,United Kingdom\n"
      "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
      "536367,84879,BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,,United Kingdom\n"
      "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"
      "536380,22961,JAM JAR,-2,2010-12-01 09:41:00,1.45,14527,United Kingdom\n";
  const std::string path = dir.Write("online_retail.csv.gz", csv, /*gzip=*/true);
  ReplayReadStats stats;
  absl::StatusOr<std::vector<ReplayEvent>> events =
      ReadReplayFile(path, "online-retail", 0, &stats);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].item, "85123A");  // earlier invoice first
  EXPECT_EQ((*events)[0].user, "17850");
  EXPECT_EQ((*events)[1].item, "22633");
  EXPECT_EQ(stats.rows, 5);
  EXPECT_EQ(stats.skipped, 3);
}

TEST(Replay, ErrorsNameTheFileAndLine) {
  TempDir dir;
  const std::string bad_header = dir.Write("h.csv", "a,b,c\n1,2,3\n");
  absl::StatusOr<std::vector<ReplayEvent>> e1 = ReadReplayFile(bad_header, "movielens", 0);
  ASSERT_FALSE(e1.ok());
  EXPECT_NE(std::string(e1.status().message()).find(":1: header"), std::string::npos);
  const std::string bad_ts = dir.Write("t.csv", "userId,movieId,rating,timestamp\n1,2,3,x\n");
  absl::StatusOr<std::vector<ReplayEvent>> e2 = ReadReplayFile(bad_ts, "movielens", 0);
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(std::string(e2.status().message()).find("t.csv:2: bad timestamp"), std::string::npos);
  EXPECT_TRUE(
      absl::IsNotFound(ReadReplayFile(dir.Write("x", "") + ".missing", "movielens", 0).status()));
}

}  // namespace
}  // namespace recd::bench
