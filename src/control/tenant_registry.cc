#include "control/tenant_registry.h"

#include "storage/tenant_key.h"
#include "util/coding.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/strings.h"

namespace recd::control {
namespace {

constexpr std::string_view kNextIidKey = "next_tenant_iid";
constexpr std::string_view kFormerPrefix = "former/";
constexpr size_t kKeyIdLen = 12;
constexpr size_t kSecretLen = 32;

// Families whose keys all start with the tenant id and go with the tenant when offboarded.
constexpr storage::Cf kTenantDataFamilies[] = {
    storage::Cf::kKeys,        storage::Cf::kEvents,      storage::Cf::kHistory,
    storage::Cf::kImpressions, storage::Cf::kIdempotency, storage::Cf::kState};

std::string FormerKey(std::string_view id, TenantIid iid) {
  std::string k = util::StrCat(kFormerPrefix, id, "/");
  util::PutFixed32BE(&k, iid);
  return k;
}

}  // namespace

std::string KeyRecordKey(TenantIid iid, std::string_view key_id) {
  return storage::TenantKey(iid, key_id);
}

absl::StatusOr<std::unique_ptr<TenantRegistry>> TenantRegistry::Open(storage::Db* db,
                                                                     const util::Clock* clock) {
  std::unique_ptr<TenantRegistry> r(new TenantRegistry(db, clock));
  RECD_RETURN_IF_ERROR(r->Load());
  return r;
}

absl::Status TenantRegistry::Load() {
  auto table = std::make_shared<TenantTable>();
  {
    auto it = db_->NewIterator(storage::Cf::kRegistry);
    for (it.Seek(""); it.Valid(); it.Next()) {
      RECD_ASSIGN_OR_RETURN(Tenant t, Tenant::Decode(it.value()));
      auto shared = std::make_shared<const Tenant>(std::move(t));
      table->by_iid[shared->iid] = shared;
      table->by_id[shared->id] = std::move(shared);
    }
    RECD_RETURN_IF_ERROR(it.status());
  }
  {
    auto it = db_->NewIterator(storage::Cf::kKeys);
    for (it.Seek(""); it.Valid(); it.Next()) {
      std::string_view k = it.key();
      if (k.size() != storage::kTenantPrefixBytes + kKeyIdLen) {
        return absl::DataLossError("corrupt key index entry");
      }
      RECD_ASSIGN_OR_RETURN(
          ApiKey key,
          ApiKey::Decode(storage::KeyTenant(k), k.substr(storage::kTenantPrefixBytes), it.value()));
      table->keys_by_id[key.key_id] = std::move(key);
    }
    RECD_RETURN_IF_ERROR(it.status());
  }
  RECD_ASSIGN_OR_RETURN(auto next, db_->Get(storage::Cf::kMeta, kNextIidKey));
  absl::MutexLock lock(&admin_mu_);
  if (next.has_value()) {
    if (next->size() != 4) return absl::DataLossError("corrupt tenant id counter");
    next_iid_ = util::DecodeFixed32BE(next->data());
  }
  Publish(std::move(table));
  return absl::OkStatus();
}

std::shared_ptr<const TenantTable> TenantRegistry::Snapshot() const {
  absl::MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

void TenantRegistry::Publish(std::shared_ptr<const TenantTable> table) {
  absl::MutexLock lock(&snapshot_mu_);
  snapshot_ = std::move(table);
}

void TenantRegistry::AddListener(OffboardListener* listener) { listeners_.push_back(listener); }

TenantRegistry::CreatedKey TenantRegistry::NewKey(TenantIid iid, Scope scope) const {
  CreatedKey created;
  created.key.iid = iid;
  created.key.scope = scope;
  created.key.key_id = util::RandomString(kKeyIdLen, util::kBase32Lower);
  created.key.created_ms = clock_->NowMs();
  created.text = util::StrCat("recd_", ScopeName(scope), "_", created.key.key_id, "_",
                              util::RandomString(kSecretLen, util::kBase62));
  created.key.sha256 = util::Sha256(created.text);
  return created;
}

absl::StatusOr<TenantRegistry::Onboarded> TenantRegistry::Onboard(std::string_view id,
                                                                  std::string_view name,
                                                                  Tier tier) {
  absl::MutexLock lock(&admin_mu_);
  auto current = Snapshot();
  if (current->by_id.contains(util::ToAbsl(id))) {
    return absl::AlreadyExistsError(util::StrCat("tenant \"", id, "\" already exists"));
  }
  Tenant t;
  t.iid = next_iid_;
  t.id = id;
  t.name = name.empty() ? std::string(id) : std::string(name);
  t.tier = tier;
  t.created_ms = clock_->NowMs();
  CreatedKey server = NewKey(t.iid, Scope::kServer);
  CreatedKey ingest = NewKey(t.iid, Scope::kIngest);
  // Key ids are 60 random bits; a collision is astronomically unlikely but cheap to rule out.
  if (current->keys_by_id.contains(server.key.key_id) ||
      current->keys_by_id.contains(ingest.key.key_id) ||
      server.key.key_id == ingest.key.key_id) {
    return absl::InternalError("key id collision; retry");
  }

  storage::Batch batch = db_->NewBatch();
  batch.Put(storage::Cf::kRegistry, t.id, t.Encode());
  batch.Put(storage::Cf::kKeys, KeyRecordKey(t.iid, server.key.key_id), server.key.EncodeValue());
  batch.Put(storage::Cf::kKeys, KeyRecordKey(t.iid, ingest.key.key_id), ingest.key.EncodeValue());
  std::string next;
  util::PutFixed32BE(&next, t.iid + 1);
  batch.Put(storage::Cf::kMeta, kNextIidKey, next);
  batch.Put(storage::Cf::kMeta, FormerKey(t.id, t.iid), "");
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
  ++next_iid_;

  auto table = std::make_shared<TenantTable>(*current);
  auto shared = std::make_shared<const Tenant>(std::move(t));
  table->by_id[shared->id] = shared;
  table->by_iid[shared->iid] = shared;
  table->keys_by_id[server.key.key_id] = server.key;
  table->keys_by_id[ingest.key.key_id] = ingest.key;
  Publish(std::move(table));
  RECD_LOG(Info) << "onboarded tenant " << shared->id << " (iid " << shared->iid << ", "
                 << TierName(shared->tier) << ")";
  return Onboarded{shared, std::move(server.text), std::move(ingest.text)};
}

absl::StatusOr<std::shared_ptr<const Tenant>> TenantRegistry::Get(std::string_view id) const {
  auto table = Snapshot();
  auto it = table->by_id.find(util::ToAbsl(id));
  if (it == table->by_id.end()) {
    return absl::NotFoundError(util::StrCat("tenant \"", id, "\" not found"));
  }
  return it->second;
}

absl::StatusOr<std::shared_ptr<const Tenant>> TenantRegistry::Update(
    std::string_view id, absl::FunctionRef<absl::Status(Tenant*)> mutate) {
  absl::MutexLock lock(&admin_mu_);
  auto current = Snapshot();
  auto it = current->by_id.find(util::ToAbsl(id));
  if (it == current->by_id.end()) {
    return absl::NotFoundError(util::StrCat("tenant \"", id, "\" not found"));
  }
  Tenant t = *it->second;
  RECD_RETURN_IF_ERROR(mutate(&t));
  RECD_CHECK(t.iid == it->second->iid && t.id == it->second->id) << "identity is immutable";
  storage::Batch batch = db_->NewBatch();
  batch.Put(storage::Cf::kRegistry, t.id, t.Encode());
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
  auto table = std::make_shared<TenantTable>(*current);
  auto shared = std::make_shared<const Tenant>(std::move(t));
  table->by_id[shared->id] = shared;
  table->by_iid[shared->iid] = shared;
  Publish(std::move(table));
  return shared;
}

absl::Status TenantRegistry::Offboard(std::string_view id) {
  absl::MutexLock lock(&admin_mu_);
  auto current = Snapshot();
  auto it = current->by_id.find(util::ToAbsl(id));
  if (it == current->by_id.end()) return absl::OkStatus();
  const TenantIid iid = it->second->iid;
  const std::string prefix = storage::TenantKey(iid);
  const std::string end = storage::PrefixSuccessor(prefix);

  storage::Batch batch = db_->NewBatch();
  batch.Delete(storage::Cf::kRegistry, id);
  for (storage::Cf cf : kTenantDataFamilies) batch.DeleteRange(cf, prefix, end);
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));

  auto table = std::make_shared<TenantTable>(*current);
  table->by_id.erase(util::ToAbsl(id));
  table->by_iid.erase(iid);
  absl::erase_if(table->keys_by_id, [iid](const auto& kv) { return kv.second.iid == iid; });
  Publish(std::move(table));
  for (auto* l : listeners_) l->OnOffboarded(iid);
  // Range tombstones hide the data at once; compaction reclaims the space in the background.
  for (storage::Cf cf : kTenantDataFamilies) (void)db_->CompactRange(cf, prefix, end);
  RECD_LOG(Info) << "offboarded tenant " << id << " (iid " << iid << ")";
  return absl::OkStatus();
}

absl::StatusOr<TenantRegistry::CreatedKey> TenantRegistry::CreateKey(std::string_view id,
                                                                     Scope scope) {
  absl::MutexLock lock(&admin_mu_);
  auto current = Snapshot();
  auto it = current->by_id.find(util::ToAbsl(id));
  if (it == current->by_id.end()) {
    return absl::NotFoundError(util::StrCat("tenant \"", id, "\" not found"));
  }
  CreatedKey created = NewKey(it->second->iid, scope);
  if (current->keys_by_id.contains(created.key.key_id)) {
    return absl::InternalError("key id collision; retry");
  }
  storage::Batch batch = db_->NewBatch();
  batch.Put(storage::Cf::kKeys, KeyRecordKey(created.key.iid, created.key.key_id),
            created.key.EncodeValue());
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
  auto table = std::make_shared<TenantTable>(*current);
  table->keys_by_id[created.key.key_id] = created.key;
  Publish(std::move(table));
  return created;
}

absl::StatusOr<std::vector<ApiKey>> TenantRegistry::ListKeys(std::string_view id) const {
  RECD_ASSIGN_OR_RETURN(auto tenant, Get(id));
  std::vector<ApiKey> keys;
  auto table = Snapshot();
  for (const auto& [key_id, key] : table->keys_by_id) {
    if (key.iid == tenant->iid) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end(), [](const ApiKey& a, const ApiKey& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.key_id < b.key_id;
  });
  return keys;
}

absl::Status TenantRegistry::RevokeKey(std::string_view id, std::string_view key_id) {
  absl::MutexLock lock(&admin_mu_);
  auto current = Snapshot();
  auto it = current->by_id.find(util::ToAbsl(id));
  // Erasure is idempotent (SPEC 7.3): no tenant, no key, nothing to do (an offboarded
  // tenant's keys went with it).
  if (it == current->by_id.end()) return absl::OkStatus();
  auto key = current->keys_by_id.find(util::ToAbsl(key_id));
  if (key == current->keys_by_id.end() || key->second.iid != it->second->iid) {
    return absl::OkStatus();  // Revocation is idempotent; another tenant's key is not ours.
  }
  storage::Batch batch = db_->NewBatch();
  batch.Delete(storage::Cf::kKeys, KeyRecordKey(it->second->iid, key_id));
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
  auto table = std::make_shared<TenantTable>(*current);
  table->keys_by_id.erase(util::ToAbsl(key_id));
  Publish(std::move(table));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TenantIid>> TenantRegistry::IidsForName(std::string_view id) const {
  std::string prefix = util::StrCat(kFormerPrefix, id, "/");
  std::vector<TenantIid> iids;
  auto it = db_->NewIterator(storage::Cf::kMeta);
  for (it.Seek(prefix); it.Valid() && it.key().starts_with(prefix); it.Next()) {
    std::string_view rest = it.key().substr(prefix.size());
    if (rest.size() == 4) iids.push_back(util::DecodeFixed32BE(rest.data()));
  }
  RECD_RETURN_IF_ERROR(it.status());
  if (iids.empty()) return absl::NotFoundError(util::StrCat("tenant \"", id, "\" not found"));
  return iids;
}

}  // namespace recd::control
