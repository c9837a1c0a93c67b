#include "control/tenant_registry.h"

#include <gtest/gtest.h>

#include "control/identity.h"
#include "storage/tenant_key.h"
#include "tests/support/daemon_process.h"
#include "util/coding.h"

namespace recd::control {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = recd::testing::MakeTempDir("recd-reg-");
    Reopen();
  }
  void TearDown() override {
    registry_.reset();
    db_.reset();
    recd::testing::RemoveTree(dir_);
  }
  void Reopen() {
    registry_.reset();
    db_.reset();
    db_ = *storage::Db::Open(dir_, {});
    auto r = TenantRegistry::Open(db_.get(), &clock_);
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = std::move(*r);
  }

  util::ManualClock clock_{1'763'884'800'000};
  std::string dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<TenantRegistry> registry_;
};

TEST_F(RegistryTest, OnboardingIsDurableAndKeysAuthenticate) {
  auto on = registry_->Onboard("acme", "Acme Shop", Tier::kPremium);
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->tenant->iid, 1u);
  Reopen();
  auto t = registry_->Get("acme");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->name, "Acme Shop");
  EXPECT_EQ((*t)->tier, Tier::kPremium);
  Identity identity(registry_.get(), "admin-token-0123456789");
  auto p = identity.AuthenticateTenant("Bearer " + on->server_key);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant->id, "acme");
  EXPECT_EQ(p->scope, Scope::kServer);
  auto i = identity.AuthenticateKey(on->ingest_key);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->scope, Scope::kIngest);
}

TEST_F(RegistryTest, TakenIdIsRefusedAndChangesNothing) {
  ASSERT_TRUE(registry_->Onboard("acme", "", Tier::kStandard).ok());
  auto before = registry_->Snapshot();
  auto again = registry_->Onboard("acme", "Other", Tier::kEnterprise);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  auto after = registry_->Snapshot();
  EXPECT_EQ(after->by_id.size(), 1u);
  EXPECT_EQ(after->keys_by_id.size(), before->keys_by_id.size());
  EXPECT_EQ((*registry_->Get("acme"))->name, "acme");  // name defaults to the id
}

TEST_F(RegistryTest, WrongSecretRevokedKeyAndForgedScopeAreUnauthenticated) {
  auto on = *registry_->Onboard("acme", "", Tier::kStandard);
  Identity identity(registry_.get(), "admin-token-0123456789");
  std::string wrong = on.server_key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(identity.AuthenticateKey(wrong).status().code(), absl::StatusCode::kUnauthenticated);
  // The same key id and secret presented under the other scope.
  std::string forged = on.server_key;
  forged.replace(5, 6, "ingest");
  EXPECT_EQ(identity.AuthenticateKey(forged).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(identity.AuthenticateTenant(on.server_key).ok());  // no "Bearer "
  std::string key_id = on.server_key.substr(12, 12);
  ASSERT_TRUE(registry_->RevokeKey("acme", key_id).ok());
  EXPECT_FALSE(identity.AuthenticateKey(on.server_key).ok());
  EXPECT_TRUE(identity.AuthenticateKey(on.ingest_key).ok());
  Reopen();
  Identity reopened(registry_.get(), "admin-token-0123456789");
  EXPECT_FALSE(reopened.AuthenticateKey(on.server_key).ok());
}

TEST_F(RegistryTest, AdminTokenMustMatchExactly) {
  Identity identity(registry_.get(), "admin-token-0123456789");
  EXPECT_TRUE(identity.CheckAdmin("Bearer admin-token-0123456789").ok());
  EXPECT_TRUE(identity.CheckAdmin("bearer admin-token-0123456789").ok());
  EXPECT_FALSE(identity.CheckAdmin("Bearer admin-token-012345678").ok());
  EXPECT_FALSE(identity.CheckAdmin("").ok());
  EXPECT_FALSE(identity.CheckAdmin("Basic admin-token-0123456789").ok());
}

TEST_F(RegistryTest, OffboardingDeletesTenantDataButNotOthersAndNeverReusesIds) {
  auto a = *registry_->Onboard("acme", "", Tier::kStandard);
  auto b = *registry_->Onboard("beta", "", Tier::kStandard);
  storage::Batch batch = db_->NewBatch();
  batch.Put(storage::Cf::kEvents, storage::TenantKey(a.tenant->iid, "e1"), "x");
  batch.Put(storage::Cf::kEvents, storage::TenantKey(b.tenant->iid, "e1"), "y");
  batch.Put(storage::Cf::kUsage, storage::TenantKey(a.tenant->iid, "u"), std::string(8, '\0'));
  ASSERT_TRUE(db_->Write(batch, false).ok());

  ASSERT_TRUE(registry_->Offboard("acme").ok());
  EXPECT_TRUE(registry_->Offboard("acme").ok());  // idempotent
  EXPECT_EQ(registry_->Get("acme").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(
      db_->Get(storage::Cf::kEvents, storage::TenantKey(a.tenant->iid, "e1"))->has_value());
  EXPECT_TRUE(db_->Get(storage::Cf::kEvents, storage::TenantKey(b.tenant->iid, "e1"))->has_value());
  EXPECT_TRUE(db_->Get(storage::Cf::kUsage, storage::TenantKey(a.tenant->iid, "u"))->has_value());
  Identity identity(registry_.get(), "admin-token-0123456789");
  EXPECT_FALSE(identity.AuthenticateKey(a.server_key).ok());

  Reopen();
  auto again = registry_->Onboard("acme", "", Tier::kStandard);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->tenant->iid, 3u);  // 1 is retired forever
  auto iids = registry_->IidsForName("acme");
  ASSERT_TRUE(iids.ok());
  EXPECT_EQ(*iids, (std::vector<TenantIid>{1, 3}));
}

TEST_F(RegistryTest, FailedUpdateChangesNothing) {
  ASSERT_TRUE(registry_->Onboard("acme", "", Tier::kStandard).ok());
  auto r = registry_->Update("acme", [](Tenant* t) {
    t->tier = Tier::kEnterprise;
    return absl::InvalidArgumentError("no");
  });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ((*registry_->Get("acme"))->tier, Tier::kStandard);
  EXPECT_EQ(registry_->Update("nope", [](Tenant*) { return absl::OkStatus(); }).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TenantId, FollowsTheSpecPattern) {
  EXPECT_TRUE(IsValidTenantId("acme"));
  EXPECT_TRUE(IsValidTenantId("a1-b2"));
  EXPECT_FALSE(IsValidTenantId("a"));
  EXPECT_FALSE(IsValidTenantId("-acme"));
  EXPECT_FALSE(IsValidTenantId("Acme"));
  EXPECT_FALSE(IsValidTenantId(std::string(33, 'a')));
  EXPECT_TRUE(IsValidTenantId(std::string(32, 'a')));
}

}  // namespace
}  // namespace recd::control
