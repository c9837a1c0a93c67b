// Token buckets, the per-tenant limiter and the tier scheduler, with an injected clock.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/synchronization/notification.h"
#include "sched/tier_scheduler.h"
#include "sched/token_bucket.h"
#include "util/clock.h"
#include "util/thread.h"

namespace recd::sched {
namespace {

using Kind = TenantLimiter::Kind;

TEST(TokenBucket, StartsFullWithOneSecondOfItsRate) {
  TokenBucket b;
  b.Refill(10, 0);
  EXPECT_DOUBLE_EQ(b.tokens(), 10);
  b.Refill(10, 5'000'000'000);  // never above capacity
  EXPECT_DOUBLE_EQ(b.tokens(), 10);
}

TEST(TokenBucket, AdmitsWhilePositiveThenMayGoNegative) {
  TokenBucket b;
  b.Refill(100, 0);
  b.Charge(99);
  EXPECT_TRUE(b.Positive());
  b.Charge(50);  // a big batch admitted on one token leaves a debt
  EXPECT_FALSE(b.Positive());
  EXPECT_DOUBLE_EQ(b.tokens(), -49);
  // 49 tokens at 100/s take 490 ms; positive strictly after that.
  EXPECT_EQ(b.RetryAfterMs(100), 491);
  b.Refill(100, 489'000'000);
  EXPECT_FALSE(b.Positive());
  b.Refill(100, 491'000'000);
  EXPECT_TRUE(b.Positive());
}

TEST(TokenBucket, SmallerRateClipsTheTokens) {
  TokenBucket b;
  b.Refill(1000, 0);
  b.Refill(5, 1);
  EXPECT_DOUBLE_EQ(b.tokens(), 5);
}

TEST(TenantLimiter, RefusesWithRetryTimeAndRefillsWithTheClock) {
  util::ManualClock clock(1'000'000);
  TenantLimiter limiter(&clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Admit(7, Kind::kRequests, 3, 1).ok()) << i;
  absl::Status refused = limiter.Admit(7, Kind::kRequests, 3, 1);
  ASSERT_EQ(ErrorCodeOf(refused), "rate_limited");
  EXPECT_EQ(RetryAfterMsOf(refused), 1);  // at 0 tokens the next one is 1 ms away at most
  clock.AdvanceMs(200);  // 0.6 tokens: positive again
  EXPECT_TRUE(limiter.Admit(7, Kind::kRequests, 3, 1).ok());
  EXPECT_FALSE(limiter.Admit(7, Kind::kRequests, 3, 1).ok());
  // Other tenants and the other bucket are untouched.
  EXPECT_TRUE(limiter.Admit(8, Kind::kRequests, 3, 1).ok());
  EXPECT_TRUE(limiter.Admit(7, Kind::kEvents, 3, 0).ok());
}

TEST(TenantLimiter, EventsAreChargedAfterParsing) {
  util::ManualClock clock(0);
  TenantLimiter limiter(&clock);
  ASSERT_TRUE(limiter.Admit(1, Kind::kEvents, 100, 0).ok());
  limiter.Charge(1, Kind::kEvents, 100, 300);  // -200 tokens: 2 s of debt
  absl::Status refused = limiter.Admit(1, Kind::kEvents, 100, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(RetryAfterMsOf(refused), 2001);
  clock.AdvanceMs(2001);
  EXPECT_TRUE(limiter.Admit(1, Kind::kEvents, 100, 0).ok());
}

TEST(TenantLimiter, InFlightCapHoldsUntilReleased) {
  util::ManualClock clock(0);
  TenantLimiter limiter(&clock);
  auto a = limiter.TryHold(3, 2);
  auto b = limiter.TryHold(3, 2);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(limiter.TryHold(3, 2), nullptr);
  EXPECT_EQ(limiter.InFlight(3), 2);
  a.reset();
  EXPECT_NE(limiter.TryHold(3, 2), nullptr);
  limiter.Forget(3);  // a live handle still releases safely
  b.reset();
  EXPECT_EQ(limiter.InFlight(3), 0);
}

TEST(TenantLimiter, TenThousandTenantsAreCheap) {
  util::ManualClock clock(0);
  TenantLimiter limiter(&clock);
  for (TenantIid i = 1; i <= 10'000; ++i) ASSERT_TRUE(limiter.Admit(i, Kind::kRequests, 100, 1).ok());
  EXPECT_EQ(limiter.tenants(), 10'000u);
}

TierSpec Spec(Tier tier, PoolKind kind, int threads = 1, int queue = 4) {
  TierSpec s;
  s.tier = tier;
  s.pool = kind;
  s.threads = threads;
  s.queue = queue;
  s.nice = 0;
  return s;
}

TEST(TierScheduler, SharedTierCostsNoThreadPerTenant) {
  TierScheduler sched(3'600'000);
  const TierSpec standard = Spec(Tier::kStandard, PoolKind::kShared);
  auto a = sched.PoolFor(1, standard);
  auto b = sched.PoolFor(2, standard);
  EXPECT_EQ(a, b);
  EXPECT_EQ(sched.dedicated_pools(), 0u);
  const TierSpec premium = Spec(Tier::kPremium, PoolKind::kDedicated);
  auto p1 = sched.PoolFor(3, premium);
  auto p2 = sched.PoolFor(4, premium);
  EXPECT_NE(p1, p2);
  EXPECT_EQ(sched.PoolFor(3, premium), p1);
  EXPECT_EQ(sched.dedicated_pools(), 2u);
  EXPECT_EQ(p1->name(), "premium-3");
}

int CurrentThreadNice() {
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

// A thread can make itself nicer but, without privileges, never less nice again; so threads
// must not inherit the nice of whoever asked for them (a nice-10 I/O thread creating the
// first premium pool). This holds even when the test runs as root.
TEST(ThreadSpawner, ThreadsGetTheSpawnersNiceNotTheCallers) {
  const int own = CurrentThreadNice();
  util::ThreadSpawner spawner;
  int seen = -100;
  std::thread caller([&] {
    ASSERT_TRUE(util::SetCurrentThreadNice(own + 7).ok());
    std::thread t = spawner.Spawn([&] { seen = CurrentThreadNice(); });
    t.join();
  });
  caller.join();
  EXPECT_EQ(seen, own);
}

TEST(TierScheduler, PoolsCreatedOnANicerThreadGetTheirOwnNice) {
  const int own = CurrentThreadNice();
  TierScheduler sched(3'600'000);
  TierSpec premium = Spec(Tier::kPremium, PoolKind::kDedicated);
  premium.nice = 0;  // the pool leaves its threads' nice alone: they keep what they inherit
  std::shared_ptr<WorkerPool> pool;
  std::thread io([&] {
    ASSERT_TRUE(util::SetCurrentThreadNice(own + 10).ok());
    pool = sched.PoolFor(7, premium);
  });
  io.join();
  ASSERT_NE(pool, nullptr);
  std::atomic<int> seen{-100};
  absl::Notification done;
  ASSERT_TRUE(pool->TrySubmit([&] {
    seen = CurrentThreadNice();
    done.Notify();
  }));
  done.WaitForNotification();
  EXPECT_EQ(seen.load(), own);
}

// The CPUs the calling thread may run on.
util::CpuList CurrentThreadCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof(set), &set), 0);
  util::CpuList cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

TEST(CpuAffinity, ThreadsRunWhereTheyAreToldAndOnlyOnCpusTheProcessHas) {
  EXPECT_EQ(util::CpuListText({}), "any");
  EXPECT_EQ(util::CpuListText({3, 0, 2, 2, 5, 6, 7}), "0,2-3,5-7");
  const util::CpuList all = CurrentThreadCpus();
  ASSERT_FALSE(all.empty());
  EXPECT_TRUE(util::CheckCpus(all).ok());
  EXPECT_EQ(util::CheckCpus({CPU_SETSIZE}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(util::CheckCpus({-1}).code(), absl::StatusCode::kInvalidArgument);
  const int last = all.back();
  std::thread t([&] {
    ASSERT_TRUE(util::SetCurrentThreadCpus({last}).ok());
    EXPECT_EQ(CurrentThreadCpus(), util::CpuList{last});
    // A thread started here inherits the set.
    std::thread child([&] { EXPECT_EQ(CurrentThreadCpus(), util::CpuList{last}); });
    child.join();
    if (all.back() != CPU_SETSIZE - 1) {
      EXPECT_EQ(util::SetCurrentThreadCpus({CPU_SETSIZE - 1}).code(),
                absl::StatusCode::kInvalidArgument);
    }
    EXPECT_EQ(CurrentThreadCpus(), util::CpuList{last}) << "a refused set changes nothing";
  });
  t.join();
  EXPECT_EQ(CurrentThreadCpus(), all) << "only the calling thread moves";
}

TEST(TierScheduler, PoolThreadsRunOnTheTiersCpus) {
  const util::CpuList all = CurrentThreadCpus();
  if (all.size() < 2) GTEST_SKIP() << "needs two CPUs to move a pool between sets";
  TierScheduler sched(3'600'000);
  TierSpec premium = Spec(Tier::kPremium, PoolKind::kShared);
  premium.cpus = {all.front()};
  std::shared_ptr<WorkerPool> pool = sched.PoolFor(7, premium);
  util::CpuList seen;
  absl::Notification done;
  ASSERT_TRUE(pool->TrySubmit([&] {
    seen = CurrentThreadCpus();
    done.Notify();
  }));
  done.WaitForNotification();
  EXPECT_EQ(seen, util::CpuList{all.front()});
  // A reload that changes the set builds a new pool (new work goes there).
  TierSpec moved = premium;
  moved.cpus = all;
  EXPECT_NE(sched.PoolFor(7, moved), pool);
}

TEST(QuotaOverrides, EveryFieldRoundTripsAndPoolSettingsGiveAPoolOfItsOwn) {
  QuotaOverrides o;
  ASSERT_TRUE(SetQuotaField(&o, "recommendations_per_s", false, 7.5, std::nullopt).ok());
  ASSERT_TRUE(SetQuotaField(&o, "max_k", false, 20, std::nullopt).ok());
  ASSERT_TRUE(SetQuotaField(&o, "durability", false, std::nullopt, "power").ok());
  ASSERT_TRUE(SetQuotaField(&o, "threads", false, 3, std::nullopt).ok());
  ASSERT_TRUE(SetQuotaField(&o, "queue", false, 9, std::nullopt).ok());
  ASSERT_TRUE(SetQuotaField(&o, "nice", false, 12, std::nullopt).ok());
  ASSERT_TRUE(SetQuotaField(&o, "pool", false, std::nullopt, "dedicated").ok());
  for (const char* f : {"events_per_s", "max_events_per_batch", "deadline_ms", "retention_days",
                        "max_model_bytes", "max_inflight"}) {
    ASSERT_TRUE(SetQuotaField(&o, f, false, 5, std::nullopt).ok()) << f;
  }
  ASSERT_TRUE(SetQuotaField(&o, "model_memory", false, std::nullopt, "locked").ok());
  QuotaOverrides zero;
  ASSERT_TRUE(SetQuotaField(&zero, "events_per_s", false, -0.0, std::nullopt).ok());
  EXPECT_FALSE(std::signbit(*zero.events_per_s)) << "-0 is stored as 0";
  EXPECT_FALSE(SetQuotaField(&o, "nice", false, 20, std::nullopt).ok());
  EXPECT_FALSE(SetQuotaField(&o, "pool", false, std::nullopt, "solo").ok());
  EXPECT_FALSE(SetQuotaField(&o, "cpus", false, 1, std::nullopt).ok()) << "per tier only";
  auto decoded = QuotaOverrides::Decode(o.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->Encode(), o.Encode());
  EXPECT_EQ(decoded->pool, PoolKind::kDedicated);
  EXPECT_EQ(decoded->model_memory, ModelMemory::kLocked);
  EXPECT_EQ(decoded->max_inflight, 5);
  EXPECT_EQ(decoded->deadline_ms, 5);
  // A stored pool setting out of range is damage, not a setting.
  std::string bad_nice = o.Encode();
  bad_nice.back() = 20;  // the last field written is nice (tag, varint 12)
  EXPECT_EQ(QuotaOverrides::Decode(bad_nice).status().code(), absl::StatusCode::kDataLoss);
  TierSpec standard = Spec(Tier::kStandard, PoolKind::kShared, 2, 512);
  standard.nice = 10;
  const TierSpec mine = decoded->ApplyTo(standard);
  EXPECT_EQ(mine.pool, PoolKind::kDedicated);
  EXPECT_EQ(mine.threads, 3);
  EXPECT_EQ(mine.queue, 9);
  EXPECT_EQ(mine.nice, 12);
  EXPECT_EQ(mine.quotas.recommendations_per_s, 7.5);
  EXPECT_EQ(mine.quotas.max_k, 20);
  EXPECT_EQ(mine.quotas.durability, Durability::kPower);
  EXPECT_TRUE(decoded->Check().ok());
  ASSERT_TRUE(SetQuotaField(&*decoded, "pool", false, std::nullopt, "shared").ok());
  EXPECT_EQ(decoded->Check().code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"threads", "queue", "nice"}) {
    ASSERT_TRUE(SetQuotaField(&*decoded, field, true, std::nullopt, std::nullopt).ok());
  }
  EXPECT_TRUE(decoded->Check().ok());
  EXPECT_EQ(decoded->ApplyTo(standard).pool, PoolKind::kShared);
  EXPECT_EQ(QuotaOverrides::Decode(std::string(1, '\x7f')).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(TierScheduler, RetiredPoolRunsItsQueueBeforeItIsJoined) {
  TierScheduler sched(3'600'000);
  auto pool = sched.PoolFor(5, Spec(Tier::kPremium, PoolKind::kDedicated, 1, 8));
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool->TrySubmit([&] {
    release.WaitForNotification();
    ++ran;
  }));
  ASSERT_TRUE(pool->TrySubmit([&] { ++ran; }));
  // The tenant moved down to a shared tier.
  sched.SetTierLookup([](TenantIid) {
    return std::optional<TierScheduler::Placement>({Tier::kStandard, false});
  });
  sched.Maintain();
  EXPECT_EQ(sched.dedicated_pools(), 0u);
  EXPECT_EQ(sched.retired_pools(), 1u);
  sched.Maintain();  // still held by us: not joined
  EXPECT_EQ(sched.retired_pools(), 1u);
  release.Notify();
  pool.reset();
  sched.Maintain();
  EXPECT_EQ(sched.retired_pools(), 0u);
  EXPECT_EQ(ran.load(), 2);
}

TEST(TierScheduler, ChangedSpecGetsAFreshPool) {
  TierScheduler sched(3'600'000);
  auto before = sched.PoolFor(1, Spec(Tier::kStandard, PoolKind::kShared, 1, 4));
  auto after = sched.PoolFor(1, Spec(Tier::kStandard, PoolKind::kShared, 2, 8));
  EXPECT_NE(before, after);
  EXPECT_EQ(after->capacity(), 8u);
  EXPECT_EQ(sched.retired_pools(), 1u);
}

TEST(TierScheduler, OffboardingRetiresTheDedicatedPool) {
  TierScheduler sched(3'600'000);
  sched.PoolFor(9, Spec(Tier::kEnterprise, PoolKind::kDedicated));
  sched.Retire(9);
  EXPECT_EQ(sched.dedicated_pools(), 0u);
  sched.Maintain();
  EXPECT_EQ(sched.retired_pools(), 0u);
  sched.Shutdown();
  EXPECT_EQ(sched.PoolFor(9, Spec(Tier::kEnterprise, PoolKind::kDedicated)), nullptr);
}

}  // namespace
}  // namespace recd::sched
