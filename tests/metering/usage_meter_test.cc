// The usage meter against a real RocksDB: merges add, days split by the UTC clock, tenants
// never mix, buffered counters are read and survive a clean stop.
#include "metering/usage_meter.h"

#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "util/text.h"

namespace recd::metering {
namespace {

class UsageMeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recd::testing::MakeTempDir("recd-usage-");
    Open();
  }
  void TearDown() override {
    meter_.reset();
    db_.reset();
    recd::testing::RemoveTree(dir_);
  }
  void Open() {
    auto db = storage::Db::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    meter_ = std::make_unique<UsageMeter>(db_.get(), &clock_, 3'600'000);
  }
  void Reopen() {
    meter_.reset();
    db_.reset();
    Open();
  }

  const int64_t day0_ = util::DaysFromCivil(2026, 11, 1);
  util::ManualClock clock_{day0_ * 86'400'000 + 1000};
  std::string dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<UsageMeter> meter_;
};

UsageDelta Recs(uint64_t n, uint64_t cpu_ns) {
  UsageDelta d;
  d.recommendations = n;
  d.items_scored = 100 * n;
  d.cpu_ns = cpu_ns;
  return d;
}

TEST_F(UsageMeterTest, BufferedCountsAreReadAndZeroDaysFilled) {
  meter_->Record(1, Recs(2, 1'500'000));
  meter_->Record(1, Recs(1, 600'000));
  auto days = meter_->Read({1}, day0_ - 1, day0_ + 1);
  ASSERT_TRUE(days.ok()) << days.status();
  ASSERT_EQ(days->size(), 3u);
  EXPECT_EQ((*days)[0][UsageCounter::kRecommendations], 0u);
  EXPECT_EQ((*days)[1][UsageCounter::kRecommendations], 3u);
  EXPECT_EQ((*days)[1][UsageCounter::kItemsScored], 300u);
  EXPECT_EQ((*days)[1][UsageCounter::kCpuNs], 2'100'000u);  // floored to 2 ms when rendered
  EXPECT_EQ((*days)[2].day, day0_ + 1);
}

TEST_F(UsageMeterTest, DaysFollowTheUtcClockAndTenantsNeverMix) {
  meter_->Record(1, Recs(1, 0));
  clock_.AdvanceMs(86'400'000);
  meter_->Record(1, Recs(5, 0));
  meter_->Record(2, Recs(7, 0));
  auto one = meter_->Read({1}, day0_, day0_ + 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0][UsageCounter::kRecommendations], 1u);
  EXPECT_EQ((*one)[1][UsageCounter::kRecommendations], 5u);
  auto two = meter_->Read({2}, day0_, day0_ + 1);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)[0][UsageCounter::kRecommendations], 0u);
  EXPECT_EQ((*two)[1][UsageCounter::kRecommendations], 7u);
  auto both = meter_->Read({1, 2}, day0_ + 1, day0_ + 1);  // a renamed tenant's iids sum
  ASSERT_TRUE(both.ok());
  EXPECT_EQ((*both)[0][UsageCounter::kRecommendations], 12u);
}

TEST_F(UsageMeterTest, StopFlushesAndMergesAddAcrossRestarts) {
  meter_->Record(3, Recs(4, 0));
  Reopen();  // clean stop flushed it
  storage::Batch b = db_->NewBatch();
  UsageDelta events;
  events.events_accepted = 10;
  events.events_rejected = 2;
  AddUsageMerges(&b, 3, day0_, events);  // what the collector adds to its event batch
  ASSERT_TRUE(db_->Write(b, false).ok());
  meter_->Record(3, Recs(1, 0));
  auto days = meter_->Read({3}, day0_, day0_);
  ASSERT_TRUE(days.ok());
  EXPECT_EQ((*days)[0][UsageCounter::kRecommendations], 5u);
  EXPECT_EQ((*days)[0][UsageCounter::kEventsAccepted], 10u);
  EXPECT_EQ((*days)[0][UsageCounter::kEventsRejected], 2u);
}

TEST_F(UsageMeterTest, KeysStartWithTheFixedWidthTenantId) {
  std::string k = UsageKey(0x01020304, day0_, UsageCounter::kSimilar);
  ASSERT_EQ(k.size(), 9u);
  EXPECT_EQ(k.substr(0, 4), std::string("\x01\x02\x03\x04", 4));
}

}  // namespace
}  // namespace recd::metering
