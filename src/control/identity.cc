#include "control/identity.h"

#include "util/strings.h"
#include "util/crypto.h"

namespace recd::control {

std::string Identity::util_sha(std::string_view s) { return util::Sha256(s); }

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      !util::EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
    return {};
  }
  return util::StripWhitespace(authorization.substr(kBearer.size()));
}

absl::Status Identity::CheckAdmin(std::string_view authorization) const {
  std::string_view token = BearerToken(authorization);
  if (token.empty()) return absl::UnauthenticatedError("missing admin token (Authorization: Bearer)");
  if (!util::ConstantTimeEquals(util::Sha256(token), admin_token_sha_)) {
    return absl::UnauthenticatedError("invalid admin token");
  }
  return absl::OkStatus();
}

absl::StatusOr<TenantPrincipal> Identity::AuthenticateTenant(std::string_view authorization) const {
  std::string_view token = BearerToken(authorization);
  if (token.empty()) return absl::UnauthenticatedError("missing API key (Authorization: Bearer)");
  return AuthenticateKey(token);
}

absl::StatusOr<TenantPrincipal> Identity::AuthenticateKey(std::string_view key) const {
  // recd_<scope>_<key_id 12>_<secret 32>
  auto invalid = [] { return absl::UnauthenticatedError("invalid API key"); };
  if (!key.starts_with("recd_")) return invalid();
  std::string_view rest = key.substr(5);
  size_t a = rest.find('_');
  if (a == std::string_view::npos) return invalid();
  auto scope = ParseScope(rest.substr(0, a));
  std::string_view after = rest.substr(a + 1);
  size_t b = after.find('_');
  if (!scope || b != 12 || after.size() != 12 + 1 + 32) return invalid();
  std::string_view key_id = after.substr(0, b);

  auto table = registry_->Snapshot();
  auto it = table->keys_by_id.find(util::ToAbsl(key_id));
  if (it == table->keys_by_id.end()) return invalid();
  if (!util::ConstantTimeEquals(util::Sha256(key), it->second.sha256) ||
      it->second.scope != *scope) {
    return invalid();
  }
  auto tenant = table->by_iid.find(it->second.iid);
  if (tenant == table->by_iid.end()) return invalid();
  return TenantPrincipal{tenant->second, it->second.scope};
}

}  // namespace recd::control
