// Control-plane routes (admin token): tenants and keys.
#include <algorithm>

#include "util/strings.h"
#include "http/api.h"
#include "http/error_response.h"
#include "http/json_body.h"
#include "http/params.h"
#include "util/json_writer.h"
#include "util/log.h"
#include "util/text.h"

namespace recd::http {
namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr int64_t kMaxListLimit = 1000;

// What the tenant runs under: its tier's settings with its overrides applied.
void WriteQuotas(util::JsonWriter& w, const sched::TierSpec& spec) {
  const sched::Quotas& q = spec.quotas;
  // One key and its value a line.
  // clang-format off
  w.BeginObject()
      .Key("pool").String(spec.pool == sched::PoolKind::kShared ? "shared" : "dedicated")
      .Key("threads").Int(spec.threads)
      .Key("queue").Int(spec.queue)
      .Key("nice").Int(spec.nice)
      .Key("recommendations_per_s").Double(q.recommendations_per_s)
      .Key("events_per_s").Double(q.events_per_s)
      .Key("max_k").Int(q.max_k)
      .Key("max_events_per_batch").Int(q.max_events_per_batch)
      .Key("deadline_ms").Int(q.deadline_ms)
      .Key("retention_days").Int(q.retention_days)
      .Key("durability").String(sched::DurabilityName(q.durability))
      .Key("model_memory").String(sched::ModelMemoryName(q.model_memory))
      .Key("max_model_bytes").Int(q.max_model_bytes)
      .Key("max_inflight").Int(q.max_inflight)
      .EndObject();
  // clang-format on
}

void WriteTenant(util::JsonWriter& w, const control::Tenant& t, const sched::TierTable& tiers) {
  w.BeginObject()
      .Key("id").String(t.id)
      .Key("name").String(t.name)
      .Key("tier").String(TierName(t.tier))
      .Key("status").String(TenantStatusName(t.status))
      .Key("created").String(util::FormatIsoTimestamp(t.created_ms))
      .Key("active_model");
  if (t.active_model.empty()) {
    w.Null();
  } else {
    w.String(t.active_model);
  }
  w.Key("quotas");
  WriteQuotas(w, t.overrides.ApplyTo(tiers.Get(t.tier)));
  w.Key("allowed_origins").BeginArray();
  for (const auto& o : t.allowed_origins) w.String(o);
  w.EndArray().EndObject();
}

std::string TenantEnvelope(const control::Tenant& t, const sched::TierTable& tiers) {
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("tenant");
  WriteTenant(w, t, tiers);
  w.EndObject();
  return out;
}

absl::Status UnknownField(std::string_view key) {
  return absl::InvalidArgumentError(util::StrCat("unknown field \"", key, "\""));
}

absl::StatusOr<std::string> ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !util::IsValidId(name)) {
    return absl::InvalidArgumentError(
        util::StrCat("\"name\" must be 1 to ", kMaxNameBytes,
                     " bytes of UTF-8 without control characters"));
  }
  return std::string(name);
}

absl::StatusOr<Tier> ParseTierField(JsonValue v) {
  RECD_ASSIGN_OR_RETURN(std::string_view s, GetString(v, "tier"));
  auto tier = ParseTier(s);
  if (!tier) {
    return absl::InvalidArgumentError(
        util::StrCat("\"tier\" must be standard, premium or enterprise, not \"", s, "\""));
  }
  return *tier;
}

absl::StatusOr<std::vector<std::string>> ParseOrigins(JsonValue v) {
  std::vector<std::string> origins;
  RECD_RETURN_IF_ERROR(VisitArrayValue(v, "allowed_origins", [&](size_t, JsonValue item) {
    RECD_ASSIGN_OR_RETURN(std::string_view o, GetString(item, "allowed_origins[]"));
    if (o.empty() || o.size() > 256 || !util::IsValidId(o)) {
      return absl::InvalidArgumentError("allowed_origins entries must be 1 to 256 bytes");
    }
    origins.emplace_back(o);
    return absl::OkStatus();
  }));
  if (origins.size() > 100) return absl::InvalidArgumentError("at most 100 allowed_origins");
  return origins;
}

// ---- handlers ----

Response CreateTenant(const ApiServices& s, Request& req) {
  std::optional<std::string> id, name;
  Tier tier = Tier::kStandard;
  absl::Status st = VisitJsonObject(req.body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key == "id") {
      RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(v, "id"));
      id = std::string(sv);
    } else if (key == "name") {
      RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(v, "name"));
      RECD_ASSIGN_OR_RETURN(name, ValidName(sv));
    } else if (key == "tier") {
      RECD_ASSIGN_OR_RETURN(tier, ParseTierField(v));
    } else {
      return UnknownField(key);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  if (!id) return ErrorResponse(absl::InvalidArgumentError("\"id\" is required"));
  if (!control::IsValidTenantId(*id)) {
    return ErrorResponse(absl::InvalidArgumentError(
        util::StrCat("\"id\" must match [a-z0-9][a-z0-9-]{1,31}, not \"", *id, "\"")));
  }
  auto onboarded = s.registry->Onboard(*id, name.value_or(""), tier);
  if (!onboarded.ok()) return ErrorResponse(onboarded.status());
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("tenant");
  WriteTenant(w, *onboarded->tenant, *s.tiers->Get());
  w.Key("keys").BeginObject().Key("server").String(onboarded->server_key).Key("ingest").String(
      onboarded->ingest_key);
  w.EndObject().EndObject();
  return JsonResponse(201, std::move(out));
}

Response ListTenants(const ApiServices& s, Request& req) {
  auto parsed_limit = IntParam(req, "limit", 1, kMaxListLimit, kMaxListLimit);
  if (!parsed_limit.ok()) return ErrorResponse(parsed_limit.status());
  const int64_t limit = *parsed_limit;
  std::string after(req.Query("after").value_or(""));
  auto table = s.registry->Snapshot();
  std::vector<const control::Tenant*> tenants;
  tenants.reserve(table->by_id.size());
  for (const auto& [id, t] : table->by_id) {
    if (id > after) tenants.push_back(t.get());
  }
  std::sort(tenants.begin(), tenants.end(),
            [](const auto* a, const auto* b) { return a->id < b->id; });
  const bool more = tenants.size() > static_cast<size_t>(limit);
  if (more) tenants.resize(limit);
  auto tiers = s.tiers->Get();
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("tenants").BeginArray();
  for (const auto* t : tenants) WriteTenant(w, *t, *tiers);
  w.EndArray().Key("next");
  if (more) {
    w.String(tenants.back()->id);
  } else {
    w.Null();
  }
  w.EndObject();
  return JsonResponse(200, std::move(out));
}

Response GetTenant(const ApiServices& s, Request& req) {
  auto t = s.registry->Get(req.params[0]);
  if (!t.ok()) return ErrorResponse(t.status());
  return JsonResponse(200, TenantEnvelope(**t, *s.tiers->Get()));
}

Response PatchTenant(const ApiServices& s, Request& req) {
  // Parse everything first: a bad field must change nothing.
  std::optional<Tier> tier;
  std::optional<TenantStatus> status;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> origins;
  struct QuotaEdit {
    std::string name;
    bool clear;
    std::optional<double> number;
    std::optional<std::string> text;
  };
  std::vector<QuotaEdit> quota_edits;
  absl::Status st = VisitJsonObject(req.body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key == "tier") {
      RECD_ASSIGN_OR_RETURN(tier, ParseTierField(v));
    } else if (key == "status") {
      RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(v, "status"));
      status = ParseTenantStatus(sv);
      if (!status) return absl::InvalidArgumentError("\"status\" must be active or suspended");
    } else if (key == "name") {
      RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(v, "name"));
      RECD_ASSIGN_OR_RETURN(name, ValidName(sv));
    } else if (key == "allowed_origins") {
      RECD_ASSIGN_OR_RETURN(origins, ParseOrigins(v));
    } else if (key == "quotas") {
      return VisitObjectValue(v, "quotas", [&](std::string_view qk, JsonValue qv) -> absl::Status {
        QuotaEdit edit{std::string(qk), IsNull(qv), std::nullopt, std::nullopt};
        if (!edit.clear) {
          simdjson::ondemand::json_type type;
          if (qv.type().get(type)) return absl::InvalidArgumentError("malformed JSON");
          if (type == simdjson::ondemand::json_type::string) {
            RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(qv, qk));
            edit.text = std::string(sv);
          } else {
            RECD_ASSIGN_OR_RETURN(edit.number, GetNumber(qv, util::StrCat("quotas.", qk)));
          }
        }
        quota_edits.push_back(std::move(edit));
        return absl::OkStatus();
      });
    } else {
      return UnknownField(key);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  auto updated = s.registry->Update(req.params[0], [&](control::Tenant* t) -> absl::Status {
    sched::QuotaOverrides overrides = t->overrides;
    for (const auto& e : quota_edits) {
      std::optional<std::string_view> text;
      if (e.text) text = *e.text;
      RECD_RETURN_IF_ERROR(sched::SetQuotaField(&overrides, e.name, e.clear, e.number, text));
    }
    RECD_RETURN_IF_ERROR(overrides.Check());
    t->overrides = overrides;
    if (tier) t->tier = *tier;
    if (status) t->status = *status;
    if (name) t->name = *name;
    if (origins) t->allowed_origins = *origins;
    return absl::OkStatus();
  });
  if (!updated.ok()) return ErrorResponse(updated.status());
  // A new tier or model_memory override changes how the live model is held (mapped, prefetched,
  // locked): apply it now rather than at the next activation.
  if (s.model_store != nullptr && (tier || !quota_edits.empty())) {
    if (absl::Status remapped = s.model_store->ApplyMemoryPolicy(req.params[0]); !remapped.ok()) {
      RECD_LOG(Warning) << "tenant " << req.params[0]
                        << ": live model keeps its old memory policy: " << remapped;
    }
  }
  return JsonResponse(200, TenantEnvelope(**updated, *s.tiers->Get()));
}

Response DeleteTenant(const ApiServices& s, Request& req) {
  absl::Status st = s.registry->Offboard(req.params[0]);
  if (!st.ok()) return ErrorResponse(st);
  Response r;
  r.status = 204;
  return r;
}

void WriteKey(util::JsonWriter& w, const control::ApiKey& k) {
  w.Key("key_id").String(k.key_id).Key("scope").String(ScopeName(k.scope)).Key("created").String(
      util::FormatIsoTimestamp(k.created_ms));
}

Response CreateKey(const ApiServices& s, Request& req) {
  std::optional<Scope> scope;
  absl::Status st = VisitJsonObject(req.body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key != "scope") return UnknownField(key);
    RECD_ASSIGN_OR_RETURN(std::string_view sv, GetString(v, "scope"));
    scope = ParseScope(sv);
    if (!scope) return absl::InvalidArgumentError("\"scope\" must be server or ingest");
    return absl::OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  if (!scope) return ErrorResponse(absl::InvalidArgumentError("\"scope\" is required"));
  auto created = s.registry->CreateKey(req.params[0], *scope);
  if (!created.ok()) return ErrorResponse(created.status());
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject();
  WriteKey(w, created->key);
  w.Key("key").String(created->text).EndObject();
  return JsonResponse(201, std::move(out));
}

Response ListKeys(const ApiServices& s, Request& req) {
  auto keys = s.registry->ListKeys(req.params[0]);
  if (!keys.ok()) return ErrorResponse(keys.status());
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("keys").BeginArray();
  for (const auto& k : *keys) {
    w.BeginObject();
    WriteKey(w, k);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(out));
}

Response RevokeKey(const ApiServices& s, Request& req) {
  absl::Status st = s.registry->RevokeKey(req.params[0], req.params[1]);
  if (!st.ok()) return ErrorResponse(st);
  Response r;
  r.status = 204;
  return r;
}

}  // namespace

void AddAdminRoutes(Router* router, const ApiServices& services) {
  auto bind = [services](Response (*fn)(const ApiServices&, Request&)) {
    return [services, fn](Request& req, const CallContext&) { return fn(services, req); };
  };
  auto add = [&](Method m, std::string pattern, std::string name, BodyKind body,
                 Response (*fn)(const ApiServices&, Request&)) {
    router->Add(Route{m, std::move(pattern), std::move(name), Auth::kAdmin, body, false, bind(fn)});
  };
  add(Method::kPost, "/v1/admin/tenants", "admin_tenant_create", BodyKind::kJson, CreateTenant);
  add(Method::kGet, "/v1/admin/tenants", "admin_tenant_list", BodyKind::kNone, ListTenants);
  add(Method::kGet, "/v1/admin/tenants/{id}", "admin_tenant_get", BodyKind::kNone, GetTenant);
  add(Method::kPatch, "/v1/admin/tenants/{id}", "admin_tenant_patch", BodyKind::kJson, PatchTenant);
  add(Method::kDelete, "/v1/admin/tenants/{id}", "admin_tenant_delete", BodyKind::kNone,
      DeleteTenant);
  add(Method::kPost, "/v1/admin/tenants/{id}/keys", "admin_key_create", BodyKind::kJson, CreateKey);
  add(Method::kGet, "/v1/admin/tenants/{id}/keys", "admin_key_list", BodyKind::kNone, ListKeys);
  add(Method::kDelete, "/v1/admin/tenants/{id}/keys/{key_id}", "admin_key_revoke",
      BodyKind::kNone, RevokeKey);
  AddUsageRoutes(router, services);
}

}  // namespace recd::http
