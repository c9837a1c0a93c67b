#include "ingest/collector.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/daemon_process.h"

namespace recd::ingest {
namespace {

PopularityWeights Weights(double half_life_s = 86400) {
  PopularityWeights w;
  w.by_type = {{"view", 1}, {"purchase", 5}};
  w.half_life_s = half_life_s;
  return w;
}

std::vector<ScoredItem> TopAll(Popularity& p, TenantIid tid, int64_t now) {
  return p.Top(tid, 100, now, [](std::string_view) { return false; });
}

TEST(Popularity, WeightsDecayByHalfLife) {
  Popularity p(Weights(3600));
  const int64_t t0 = 1'000'000'000'000;
  p.Add(1, "a", "purchase", t0);          // 5, one half-life old at t0+1h
  p.Add(1, "b", "view", t0 + 3'600'000);  // 1, fresh
  p.Add(1, "c", "other", t0 + 3'600'000); // unknown type weighs the default 1
  auto top = TopAll(p, 1, t0 + 3'600'000);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, "a");
  EXPECT_NEAR(top[0].score, 2.5, 1e-9);
  EXPECT_EQ(top[1].item, "b");  // tie with c broken by id
  EXPECT_NEAR(top[1].score, 1.0, 1e-9);
  EXPECT_TRUE(TopAll(p, 2, t0).empty()) << "tenants never see each other's items";
}

TEST(Popularity, ErasureTakesEventsBackAndSkipFilters) {
  Popularity p(Weights());
  p.Add(1, "a", "view", 1000);
  p.Add(1, "b", "purchase", 1000);
  p.Add(1, "b", "purchase", 1000, -1);
  auto top = TopAll(p, 1, 1000);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, "a");
  auto skipped = p.Top(1, 10, 1000, [](std::string_view item) { return item == "a"; });
  EXPECT_TRUE(skipped.empty());
}

TEST(Popularity, SurvivesTimeSpansThatWouldOverflowWithoutRebasing) {
  Popularity p(Weights(60));  // one minute half-life, events ten years apart
  const int64_t t0 = 0, t1 = int64_t{10} * 365 * 86'400'000;
  p.Add(1, "old", "purchase", t0);
  p.Add(1, "new", "view", t1);
  auto top = TopAll(p, 1, t1 + 2001);  // >1 s later: the cached order is rebuilt
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].item, "new");
  EXPECT_TRUE(std::isfinite(top[0].score));
  EXPECT_NEAR(top[0].score, std::exp2(-2001.0 / 60000), 1e-9);
}

TEST(Popularity, CheckpointRoundTrips) {
  Popularity p(Weights());
  p.Add(7, "a", "view", 5000);
  p.Add(7, "b", "purchase", 6000);
  std::string data = p.Serialize(7);
  Popularity q(Weights());
  ASSERT_TRUE(q.Restore(7, data).ok());
  auto x = TopAll(p, 7, 9000), y = TopAll(q, 7, 9000);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].item, y[i].item);
    EXPECT_DOUBLE_EQ(x[i].score, y[i].score);
  }
  Popularity other_half_life(Weights(10));
  EXPECT_FALSE(other_half_life.Restore(7, data).ok());
  EXPECT_FALSE(q.Restore(7, data.substr(0, data.size() - 3)).ok());
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recd::testing::MakeTempDir("recd-col-");
    Open();
  }
  void TearDown() override {
    Close();
    recd::testing::RemoveTree(dir_);
  }
  void Open() {
    retention_ = std::make_unique<Retention>(&clock_);
    retention_->SetLookup([this](TenantIid) -> std::optional<int64_t> { return retention_ms_; });
    storage::DbOptions o;
    o.events_drop = retention_->EventsPredicate();
    o.history_drop = retention_->HistoryPredicate();
    o.idempotency_drop = retention_->IdempotencyPredicate();
    db_ = *storage::Db::Open(dir_, o);
    CollectorOptions co;
    co.popularity = Weights();
    co.checkpoint_interval_ms = 0;
    auto c = Collector::Open(db_.get(), &clock_, retention_.get(), co);
    ASSERT_TRUE(c.ok()) << c.status();
    collector_ = std::move(*c);
  }
  void Close() {
    collector_.reset();
    db_.reset();
  }
  void Append(TenantIid tid, std::vector<Event> events, bool sync = false) {
    ASSERT_TRUE(collector_->Append(tid, &events, sync, nullptr).ok());
  }
  static Event E(std::string user, std::string item, int64_t ts, std::string type = "view") {
    Event e;
    e.user = std::move(user);
    e.item = std::move(item);
    e.type = std::move(type);
    e.ts = ts;
    return e;
  }
  std::vector<std::string> Items(TenantIid tid, const std::string& user, size_t limit = 100) {
    std::vector<std::string> out;
    auto events = collector_->UserEvents(tid, user, limit);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return out;
    const std::vector<Event>& list = *events;
    for (const auto& e : list) out.push_back(e.item);
    return out;
  }
  std::string ExportAll(TenantIid tid) {
    auto cursor = collector_->Export(tid, 0, int64_t{1} << 52);
    std::string out;
    while (*cursor->Next(&out, 10)) {
    }
    return out;
  }

  util::ManualClock clock_{1'763'884'800'000};
  int64_t retention_ms_ = int64_t{30} * 86'400'000;
  std::string dir_;
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(CollectorTest, HistoryIsNewestFirstByTsThenArrival) {
  Append(1, {E("u", "a", 100), E("u", "b", 300), E("u", "c", 200)});
  Append(1, {E("u", "d", 300)});  // same ts as b, arrived later: newer
  EXPECT_EQ(Items(1, "u"), (std::vector<std::string>{"d", "b", "c", "a"}));
  EXPECT_EQ(Items(1, "u", 2), (std::vector<std::string>{"d", "b"}));
  EXPECT_TRUE(Items(1, "u2").empty());
}

TEST_F(CollectorTest, UsersAndTenantsNeverMix) {
  Append(1, {E("u", "a", 1), E("u1", "b", 1)});
  Append(2, {E("u", "z", 1)});
  EXPECT_EQ(Items(1, "u"), std::vector<std::string>{"a"});  // "u" is no prefix of "u1"
  EXPECT_EQ(Items(2, "u"), std::vector<std::string>{"z"});
  EXPECT_EQ(ExportAll(2).find("\"a\""), std::string::npos);
}

TEST_F(CollectorTest, ExportIsOrderedByReceivedWithinTheRange) {
  Append(1, {E("u", "a", 5)});
  clock_.AdvanceMs(10);
  const int64_t middle = clock_.NowMs();
  Append(1, {E("v", "b", 1)});
  clock_.AdvanceMs(10);
  Append(1, {E("w", "c", 3)});
  std::string all = ExportAll(1);
  EXPECT_LT(all.find("\"a\""), all.find("\"b\""));
  EXPECT_LT(all.find("\"b\""), all.find("\"c\""));
  auto cursor = collector_->Export(1, middle, middle + 10);
  std::string part;
  EXPECT_FALSE(*cursor->Next(&part, 1 << 20));
  EXPECT_EQ(part, "{\"user\":\"v\",\"item\":\"b\",\"type\":\"view\",\"ts\":1,\"received\":" +
                      std::to_string(middle) + "}\n");
}

TEST_F(CollectorTest, EraseRemovesTheUserOnlyEverywhere) {
  Append(1, {E("u", "a", 1, "purchase"), E("v", "b", 1), E("u", "c", 2)});
  ASSERT_TRUE(collector_->EraseUser(1, "u").ok());
  EXPECT_TRUE(Items(1, "u").empty());
  EXPECT_EQ(Items(1, "v"), std::vector<std::string>{"b"});
  std::string log = ExportAll(1);
  EXPECT_EQ(log.find("\"u\""), std::string::npos);
  EXPECT_NE(log.find("\"v\""), std::string::npos);
  auto top = collector_->popularity().Top(1, 10, clock_.NowMs(), [](std::string_view) { return false; });
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, "b");
  EXPECT_TRUE(collector_->EraseUser(1, "nobody").ok());
}

TEST_F(CollectorTest, ExpiredEventsAreNeverReadEvenBeforeCompaction) {
  Append(1, {E("u", "old", 1)});
  clock_.AdvanceMs(retention_ms_ + 1);
  Append(1, {E("u", "new", 2)});
  EXPECT_EQ(Items(1, "u"), std::vector<std::string>{"new"});
  EXPECT_EQ(ExportAll(1).find("old"), std::string::npos);
  // Compaction removes it physically through the retention filter, once popularity has let
  // go of it and checkpointed that; before, the log keeps it.
  ASSERT_TRUE(db_->CompactRange(storage::Cf::kEvents, "", "").ok());
  retention_ms_ = int64_t{1000} * 86'400'000;
  EXPECT_NE(ExportAll(1).find("old"), std::string::npos) << "kept until popularity let go";
  retention_ms_ = int64_t{30} * 86'400'000;
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  ASSERT_TRUE(collector_->Checkpoint().ok());
  ASSERT_TRUE(db_->CompactRange(storage::Cf::kEvents, "", "").ok());
  retention_ms_ = int64_t{1000} * 86'400'000;  // even with a longer retention now
  EXPECT_EQ(ExportAll(1).find("old"), std::string::npos);
  EXPECT_NE(ExportAll(1).find("new"), std::string::npos);
}

// SPEC 7.8: popularity is over the retained events. Expired ones are taken back out (exactly:
// the item goes when its last event does), across restarts and compaction, and erasing a
// user afterwards does not take them out twice.
TEST_F(CollectorTest, ExpiredEventsLeavePopularity) {
  auto items = [this](int64_t now) {
    std::vector<std::string> out;
    for (const ScoredItem& s : TopAll(collector_->popularity(), 1, now)) out.push_back(s.item);
    return out;
  };
  Append(1, {E("u", "old", clock_.NowMs(), "purchase"), E("u", "both", clock_.NowMs())});
  clock_.AdvanceMs(retention_ms_ / 2);
  Append(1, {E("v", "both", clock_.NowMs())});
  clock_.AdvanceMs(retention_ms_ / 2 + 1);  // u's events expire, v's do not
  Append(1, {E("w", "new", clock_.NowMs())});
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  EXPECT_EQ(items(clock_.NowMs()), (std::vector<std::string>{"new", "both"}));
  const double both = TopAll(collector_->popularity(), 1, clock_.NowMs())[1].score;
  EXPECT_NEAR(both, std::pow(0.5, retention_ms_ / 2 / 86'400'000.0), 1e-9) << "v's view only";

  // Erasing u now takes nothing out twice: "both" keeps v's view.
  ASSERT_TRUE(collector_->EraseUser(1, "u").ok());
  EXPECT_EQ(items(clock_.NowMs()), (std::vector<std::string>{"new", "both"}));

  // A restart (checkpoint, compaction, replay) gives the same.
  ASSERT_TRUE(collector_->Checkpoint().ok());
  ASSERT_TRUE(db_->CompactRange(storage::Cf::kEvents, "", "").ok());
  Close();
  Open();
  EXPECT_EQ(items(clock_.NowMs()), (std::vector<std::string>{"new", "both"}));
  EXPECT_NEAR(TopAll(collector_->popularity(), 1, clock_.NowMs())[1].score, both, 1e-9);
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  EXPECT_NEAR(TopAll(collector_->popularity(), 1, clock_.NowMs())[1].score, both, 1e-9);

  // Later v's view expires too, and "both" goes.
  clock_.AdvanceMs(retention_ms_ / 2);
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  EXPECT_EQ(items(clock_.NowMs()), std::vector<std::string>{"new"});
}

// Events that expired while recd was down (or before expiry was tracked) are taken out after
// the restart, from the log, even without a checkpoint.
TEST_F(CollectorTest, EventsThatExpiredWhileStoppedLeavePopularityAfterTheRestart) {
  Append(1, {E("u", "old", clock_.NowMs())});
  clock_.AdvanceMs(1000);
  Append(1, {E("u", "fresh", clock_.NowMs())});
  Close();
  clock_.AdvanceMs(retention_ms_ - 500);  // "old" expired while stopped
  Open();
  auto top = TopAll(collector_->popularity(), 1, clock_.NowMs());
  ASSERT_EQ(top.size(), 2u);
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  clock_.AdvanceMs(1000);  // the ranked view is rebuilt at most once a second
  top = TopAll(collector_->popularity(), 1, clock_.NowMs());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, "fresh");
}

// Impressions share the log's key layout and retention, but popularity never counts them:
// they expire at the cutoff, without waiting for an expiry point the events may never get.
TEST_F(CollectorTest, ImpressionsExpireWithoutWaitingForPopularity) {
  const std::string old_key = LogKey(1, clock_.NowMs() - retention_ms_ - 1, 3);
  const std::string fresh_key = LogKey(1, clock_.NowMs() - retention_ms_ + 1000, 4);
  EXPECT_TRUE(retention_->ImpressionsPredicate()->ShouldDrop(old_key, ""));
  EXPECT_FALSE(retention_->ImpressionsPredicate()->ShouldDrop(fresh_key, ""));
  EXPECT_FALSE(retention_->EventsPredicate()->ShouldDrop(old_key, ""))
      << "a log event waits until popularity has let go of it";
}

// A clock set before the retention period (a host booting near 1970) expires nothing, and
// popularity is intact once the clock is right again.
TEST_F(CollectorTest, AClockBeforeTheRetentionPeriodExpiresNothing) {
  Append(1, {E("u", "a", clock_.NowMs())});
  const int64_t now = clock_.NowMs();
  Close();
  clock_.SetMs(1000);
  Open();  // after a restart the next expiry time is unknown, so the pass looks
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  clock_.SetMs(now + 1000);
  ASSERT_TRUE(collector_->ExpireEvents().ok());
  auto top = TopAll(collector_->popularity(), 1, clock_.NowMs());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, "a");
}

TEST_F(CollectorTest, HistoryCompactionDropsExpiredEventsAndKeepsUnreadableOnes) {
  Append(1, {E("u", "old", 1)});
  clock_.AdvanceMs(retention_ms_ + 1);
  Append(1, {E("u", "new", 2)});
  ASSERT_TRUE(db_->CompactRange(storage::Cf::kHistory, "", "").ok());
  retention_ms_ = int64_t{1000} * 86'400'000;  // reads would show "old" again if it were kept
  EXPECT_EQ(Items(1, "u"), std::vector<std::string>{"new"});

  // The filter reads only `received`, and keeps any record it cannot read.
  retention_ms_ = 1;
  Event e = E("u", "i", 5);
  e.received = 10;
  const std::string key = HistoryKey(1, "u", 5, 7);
  const std::string value = EncodeHistoryValue(e);
  const auto filter = retention_->HistoryPredicate();
  EXPECT_TRUE(filter->ShouldDrop(key, value));
  EXPECT_FALSE(filter->ShouldDrop(key, value.substr(0, value.size() - 1)));
  EXPECT_FALSE(filter->ShouldDrop(key.substr(0, 20), value));
  int64_t received = 0;
  ASSERT_TRUE(DecodeHistoryReceived(key, value, &received));
  EXPECT_EQ(received, 10);
}

TEST_F(CollectorTest, RestartRestoresPopularityFromCheckpointAndLogTail) {
  Append(1, {E("u", "a", clock_.NowMs(), "purchase"), E("u", "b", clock_.NowMs())});
  ASSERT_TRUE(collector_->Checkpoint().ok());
  Append(1, {E("v", "b", clock_.NowMs()), E("v", "b", clock_.NowMs()), E("v", "c", clock_.NowMs())});
  auto before = collector_->popularity().Top(1, 10, clock_.NowMs() + 5000, [](auto) { return false; });
  Close();
  Open();
  auto after = collector_->popularity().Top(1, 10, clock_.NowMs() + 5000, [](auto) { return false; });
  ASSERT_EQ(before.size(), 3u);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].item, before[i].item);
    EXPECT_NEAR(after[i].score, before[i].score, 1e-9);
  }
  // Sequence numbers continue after the restart: nothing is overwritten.
  Append(1, {E("w", "d", 1)});
  EXPECT_EQ(Items(1, "v").size(), 3u);
  EXPECT_EQ(Items(1, "w").size(), 1u);
}

TEST_F(CollectorTest, IdempotencyReplaysTheAnswerAndRefusesConcurrentRepeats) {
  auto first = collector_->BeginIdempotent(1, "k1");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  EXPECT_EQ(collector_->BeginIdempotent(1, "k1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<Event> events{E("u", "a", 1)};
  Collector::Idempotent record{"k1", "{\"accepted\":1}"};
  ASSERT_TRUE(collector_->Append(1, &events, true, &record).ok());
  collector_->EndIdempotent(1, "k1");
  auto repeat = collector_->BeginIdempotent(1, "k1");
  ASSERT_TRUE(repeat.ok() && repeat->has_value());
  EXPECT_EQ(**repeat, "{\"accepted\":1}");
  auto other_tenant = collector_->BeginIdempotent(2, "k1");
  ASSERT_TRUE(other_tenant.ok());
  EXPECT_FALSE(other_tenant->has_value());
  collector_->EndIdempotent(2, "k1");
  clock_.AdvanceMs(25 * 3600 * 1000);
  auto expired = collector_->BeginIdempotent(1, "k1");
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(expired->has_value());
  collector_->EndIdempotent(1, "k1");
  // Compaction removes the record for good (the log and history stay: retention is longer).
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(db_->CompactRange(storage::Cf::kIdempotency, "", "").ok());
  auto it = db_->NewIterator(storage::Cf::kIdempotency);
  it.Seek("");
  EXPECT_FALSE(it.Valid()) << "an idempotency record outlived its 24 h window";
  EXPECT_EQ(collector_->UserEvents(1, "u", 10)->size(), 1u);
}

TEST(ValidateEvent, NamesEachProblem) {
  EventInput ok{"u", "i", "view", "", 5, true};
  EXPECT_EQ(ValidateEvent(ok, 1000, 300'000), "");
  auto with = [&](auto mutate) {
    EventInput e = ok;
    mutate(e);
    return std::string(ValidateEvent(e, 1000, 300'000));
  };
  EXPECT_EQ(with([](EventInput& e) { e.user = ""; }), "invalid_user");
  EXPECT_EQ(with([](EventInput& e) { e.item = std::string_view("a\x01", 2); }), "invalid_item");
  static const std::string long_id(129, 'x');
  EXPECT_EQ(with([](EventInput& e) { e.item = long_id; }), "invalid_item");
  EXPECT_EQ(with([](EventInput& e) { e.type = "Add"; }), "invalid_type");
  EXPECT_EQ(with([](EventInput& e) { e.type = ""; }), "invalid_type");
  EXPECT_EQ(with([](EventInput& e) { e.ts = -1; }), "invalid_ts");
  EXPECT_EQ(with([](EventInput& e) { e.ts = kMaxTs; }), "invalid_ts");
  EXPECT_EQ(with([](EventInput& e) { e.ts_valid = false; }), "invalid_ts");
  EXPECT_EQ(with([](EventInput& e) { e.ts = 1000 + 300'001; }), "ts_in_future");
  EXPECT_EQ(with([](EventInput& e) { e.ts = 0; }), "");  // backfills have no lower bound
}

}  // namespace
}  // namespace recd::ingest
