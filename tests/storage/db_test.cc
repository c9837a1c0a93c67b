#include "storage/db.h"

#include <gtest/gtest.h>

#include <cstring>

#include "storage/tenant_key.h"
#include "tests/support/daemon_process.h"

namespace recd::storage {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = recd::testing::MakeTempDir("recd-db-"); }
  void TearDown() override { recd::testing::RemoveTree(dir_); }
  std::string dir_;
};

std::string U64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

TEST_F(DbTest, BatchIsAtomicAndSurvivesReopen) {
  {
    auto db = Db::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    Batch b = (*db)->NewBatch();
    b.Put(Cf::kRegistry, "a", "1");
    b.Put(Cf::kEvents, "a", "2");
    ASSERT_TRUE((*db)->Write(b, true).ok());
  }
  auto db = Db::Open(dir_, {});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->Get(Cf::kRegistry, "a")->value_or(""), "1");
  EXPECT_EQ((*db)->Get(Cf::kEvents, "a")->value_or(""), "2");
  EXPECT_FALSE((*db)->Get(Cf::kKeys, "a")->has_value());  // families are separate
}

TEST_F(DbTest, SecondOpenOfTheSameDirectoryFails) {
  auto db = Db::Open(dir_, {});
  ASSERT_TRUE(db.ok());
  auto again = Db::Open(dir_, {});
  EXPECT_FALSE(again.ok());
}

TEST_F(DbTest, RangeDeleteRemovesExactlyThePrefix) {
  auto db = *Db::Open(dir_, {});
  Batch b = db->NewBatch();
  for (const char* k : {"p1", "p2", "q1", "p"}) b.Put(Cf::kEvents, std::string("\x01") + k, "v");
  b.Put(Cf::kEvents, "\x02p", "other tenant");
  ASSERT_TRUE(db->Write(b, false).ok());
  Batch d = db->NewBatch();
  d.DeleteRange(Cf::kEvents, "\x01p", PrefixSuccessor("\x01p"));
  ASSERT_TRUE(db->Write(d, false).ok());
  std::vector<std::string> left;
  auto it = db->NewIterator(Cf::kEvents);
  for (it.Seek(""); it.Valid(); it.Next()) left.emplace_back(it.key());
  EXPECT_EQ(left, (std::vector<std::string>{"\x01q1", "\x02p"}));
}

TEST_F(DbTest, UsageMergeAddsCounters) {
  auto db = *Db::Open(dir_, {});
  for (int i = 0; i < 3; ++i) {
    Batch b = db->NewBatch();
    b.Merge(Cf::kUsage, "k", U64(5));
    ASSERT_TRUE(db->Write(b, false).ok());
  }
  auto v = db->Get(Cf::kUsage, "k");
  ASSERT_TRUE(v.ok() && v->has_value());
  uint64_t n = 0;
  std::memcpy(&n, (*v)->data(), 8);
  EXPECT_EQ(n, 15u);
}

TEST_F(DbTest, IteratorUpperBoundStopsAtPrefixEnd) {
  auto db = *Db::Open(dir_, {});
  Batch b = db->NewBatch();
  b.Put(Cf::kHistory, "a1", "");
  b.Put(Cf::kHistory, "a2", "");
  b.Put(Cf::kHistory, "b1", "");
  ASSERT_TRUE(db->Write(b, false).ok());
  auto it = db->NewIterator(Cf::kHistory, nullptr, "b");
  int n = 0;
  for (it.Seek("a"); it.Valid(); it.Next()) ++n;
  EXPECT_EQ(n, 2);
}

// The prefix is on disk in every tenant-data family: it must never change.
TEST(TenantKey, PrefixIsTheBigEndianIidAndReadsBack) {
  EXPECT_EQ(TenantKey(0x01020304), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(TenantKey(7, "k1"), std::string("\x00\x00\x00\x07k1", 6));
  std::string k = "x";
  PutTenantPrefix(&k, 0xfffffffe);
  EXPECT_EQ(k, std::string("x\xff\xff\xff\xfe", 5));
  EXPECT_EQ(KeyTenant(TenantKey(0xfffffffe, "rest")), 0xfffffffeu);
  EXPECT_EQ(KeyTenant(std::string("\x00\x01\x02", 3)), 0u);  // too short for a prefix
  // Byte order is numeric order, so one tenant's keys are one range.
  EXPECT_LT(TenantKey(255, "\xff"), TenantKey(256));
}

}  // namespace
}  // namespace recd::storage
