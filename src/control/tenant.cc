#include "control/tenant.h"

#include "util/coding.h"

namespace recd::control {
namespace {
constexpr char kTenantFormat = 1;
constexpr char kKeyFormat = 1;
}  // namespace

bool IsValidTenantId(std::string_view id) {
  if (id.size() < 2 || id.size() > 32) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id[0])) return false;
  for (char c : id.substr(1)) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

std::string Tenant::Encode() const {
  std::string out;
  out.push_back(kTenantFormat);
  util::PutFixed32BE(&out, iid);
  util::PutLengthPrefixed(&out, id);
  util::PutLengthPrefixed(&out, name);
  out.push_back(static_cast<char>(tier));
  out.push_back(static_cast<char>(status));
  util::PutVarint64(&out, static_cast<uint64_t>(created_ms));
  util::PutLengthPrefixed(&out, active_model);
  util::PutLengthPrefixed(&out, overrides.Encode());
  util::PutVarint64(&out, allowed_origins.size());
  for (const auto& o : allowed_origins) util::PutLengthPrefixed(&out, o);
  return out;
}

absl::StatusOr<Tenant> Tenant::Decode(std::string_view in) {
  auto corrupt = [] { return absl::DataLossError("corrupt tenant record"); };
  if (in.size() < 5 || in[0] != kTenantFormat) return corrupt();
  Tenant t;
  t.iid = util::DecodeFixed32BE(in.data() + 1);
  in.remove_prefix(5);
  std::string_view id, name, model, overrides;
  uint64_t created = 0, n_origins = 0;
  if (!util::GetLengthPrefixed(&in, &id) || !util::GetLengthPrefixed(&in, &name) ||
      in.size() < 2) {
    return corrupt();
  }
  t.tier = static_cast<Tier>(in[0]);
  t.status = static_cast<TenantStatus>(in[1]);
  in.remove_prefix(2);
  if (!util::GetVarint64(&in, &created) || !util::GetLengthPrefixed(&in, &model) ||
      !util::GetLengthPrefixed(&in, &overrides) || !util::GetVarint64(&in, &n_origins)) {
    return corrupt();
  }
  t.id = id;
  t.name = name;
  t.created_ms = static_cast<int64_t>(created);
  t.active_model = model;
  RECD_ASSIGN_OR_RETURN(t.overrides, sched::QuotaOverrides::Decode(overrides));
  t.allowed_origins.clear();
  for (uint64_t i = 0; i < n_origins; ++i) {
    std::string_view o;
    if (!util::GetLengthPrefixed(&in, &o)) return corrupt();
    t.allowed_origins.emplace_back(o);
  }
  return t;
}

std::string ApiKey::EncodeValue() const {
  std::string out;
  out.push_back(kKeyFormat);
  out.push_back(static_cast<char>(scope));
  util::PutLengthPrefixed(&out, sha256);
  util::PutVarint64(&out, static_cast<uint64_t>(created_ms));
  return out;
}

absl::StatusOr<ApiKey> ApiKey::Decode(TenantIid iid, std::string_view key_id,
                                      std::string_view in) {
  if (in.size() < 2 || in[0] != kKeyFormat) return absl::DataLossError("corrupt key record");
  ApiKey k;
  k.iid = iid;
  k.key_id = key_id;
  k.scope = static_cast<Scope>(in[1]);
  in.remove_prefix(2);
  std::string_view hash;
  uint64_t created = 0;
  if (!util::GetLengthPrefixed(&in, &hash) || !util::GetVarint64(&in, &created)) {
    return absl::DataLossError("corrupt key record");
  }
  k.sha256 = hash;
  k.created_ms = static_cast<int64_t>(created);
  return k;
}

}  // namespace recd::control
