// Tenant routes of the recommender (SPEC 2, 7.1, 7.3, 7.4): recommendations for a user,
// items similar to an item, and the impression export.
#include <optional>

#include "http/api.h"
#include "http/error_response.h"
#include "http/json_body.h"
#include "http/params.h"
#include "ingest/event.h"
#include "util/json_writer.h"
#include "util/log.h"
#include "util/strings.h"

namespace recd::http {
namespace {

constexpr int64_t kMaxK = 1000;
constexpr size_t kMaxExclude = 1000;
constexpr size_t kMaxContextItems = 100;

// k within 1..1,000 and the tier's max_k (SPEC 7.4, 7.6): above a limit is 400 naming it.
absl::StatusOr<uint32_t> CheckK(int64_t k, const sched::Quotas& quotas) {
  if (k < 1 || k > kMaxK) return absl::InvalidArgumentError("\"k\" must be from 1 to 1000");
  if (k > quotas.max_k) {
    return absl::InvalidArgumentError(
        util::StrCat("\"k\" exceeds this tenant's max_k of ", quotas.max_k));
  }
  return static_cast<uint32_t>(k);
}

// The k of a request that names none: 10, or the tenant's max_k when that is lower (the
// client asked for no number, so nothing is clamped).
int64_t DefaultK(const sched::Quotas& quotas) { return std::min<int64_t>(10, quotas.max_k); }

absl::Status AddIds(std::string_view field, std::string_view id, size_t max,
                    std::vector<std::string>* out) {
  if (out->size() >= max) {
    return absl::InvalidArgumentError(
        util::StrCat("\"", field, "\" holds at most ", max, " ids"));
  }
  RECD_RETURN_IF_ERROR(CheckId(util::StrCat("each \"", field, "\" entry"), id));
  out->emplace_back(id);
  return absl::OkStatus();
}

struct RecommendParams {
  std::string user;
  std::optional<int64_t> k;  // DefaultK when absent
  std::vector<std::string> exclude;
  bool exclude_seen = true;
  std::vector<std::string> context_items;
};

absl::StatusOr<RecommendParams> ParseQueryParams(const Request& req) {
  RecommendParams p;
  auto user = req.Query("user");
  if (!user) return absl::InvalidArgumentError("query parameter \"user\" is required");
  p.user = std::string(*user);
  if (req.Query("k")) {
    RECD_ASSIGN_OR_RETURN(p.k, IntParam(req, "k", 1, kMaxK, 10));
  }
  for (std::string_view id : req.QueryAll("exclude")) {
    RECD_RETURN_IF_ERROR(AddIds("exclude", id, kMaxExclude, &p.exclude));
  }
  for (std::string_view id : req.QueryAll("context_items")) {
    RECD_RETURN_IF_ERROR(AddIds("context_items", id, kMaxContextItems, &p.context_items));
  }
  if (auto seen = req.Query("exclude_seen")) {
    if (*seen == "true" || *seen == "1") {
      p.exclude_seen = true;
    } else if (*seen == "false" || *seen == "0") {
      p.exclude_seen = false;
    } else {
      return absl::InvalidArgumentError("\"exclude_seen\" must be true or false");
    }
  }
  return p;
}

absl::StatusOr<RecommendParams> ParseBody(std::string& body) {
  RecommendParams p;
  bool has_user = false;
  RECD_RETURN_IF_ERROR(VisitJsonObject(body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key == "user") {
      RECD_ASSIGN_OR_RETURN(std::string_view u, GetString(v, "user"));
      p.user = std::string(u);
      has_user = true;
    } else if (key == "k") {
      RECD_ASSIGN_OR_RETURN(p.k, GetInt(v, "k"));
    } else if (key == "exclude_seen") {
      RECD_ASSIGN_OR_RETURN(p.exclude_seen, GetBool(v, "exclude_seen"));
    } else if (key == "exclude" || key == "context_items") {
      const bool exclude = key == "exclude";
      const std::string_view field = exclude ? "exclude" : "context_items";
      return VisitArrayValue(v, field, [&](size_t, JsonValue item) -> absl::Status {
        std::string_view id;
        if (item.get_string().get(id)) {
          return absl::InvalidArgumentError(
              util::StrCat("each \"", field, "\" entry must be a string"));
        }
        return AddIds(field, id, exclude ? kMaxExclude : kMaxContextItems,
                      exclude ? &p.exclude : &p.context_items);
      });
    } else {
      return absl::InvalidArgumentError(util::StrCat("unknown field \"", key, "\""));
    }
    return absl::OkStatus();
  }));
  if (!has_user) return absl::InvalidArgumentError("\"user\" is required");
  return p;
}

std::string RenderRecommendation(const recommend::Recommendation& rec,
                                 std::string_view request_id) {
  std::string out;
  out.reserve(64 + rec.items.size() * 48);
  util::JsonWriter w(&out);
  w.BeginObject().Key("items").BeginArray();
  for (const auto& item : rec.items) {
    w.BeginObject().Key("item").String(item.item).Key("score").Double(item.score).EndObject();
  }
  w.EndArray().Key("model_version");
  if (rec.model_version.empty()) {
    w.Null();
  } else {
    w.String(rec.model_version);
  }
  w.Key("strategy").String(recommend::StrategyName(rec.strategy));
  w.Key("request_id").String(request_id).EndObject();
  return out;
}

Response Recommend(const ApiServices& s, Request& req, const CallContext& ctx) {
  const control::Tenant& tenant = *ctx.principal.tenant;
  auto params = req.method == Method::kPost ? ParseBody(req.body) : ParseQueryParams(req);
  if (!params.ok()) return ErrorResponse(params.status());
  absl::Status st = CheckId("\"user\"", params->user);
  if (!st.ok()) return ErrorResponse(st);
  auto k = CheckK(params->k.value_or(DefaultK(ctx.quotas)), ctx.quotas);
  if (!k.ok()) return ErrorResponse(k.status());

  recommend::RecommendQuery q;
  q.user = params->user;
  q.k = *k;
  q.exclude = params->exclude;
  q.exclude_seen = params->exclude_seen;
  q.context_items = params->context_items;
  q.now_ms = req.admitted_unix_ms;
  auto rec = s.recommender->Recommend(tenant, q);
  if (!rec.ok()) return ErrorResponse(rec.status());
  if (s.impressions != nullptr) {
    s.impressions->Record(tenant.iid, s.clock->NowMs(), req.request_id, params->user, *rec);
  }
  Response r = JsonResponse(200, RenderRecommendation(*rec, req.request_id));
  r.usage.recommendations = 1;
  r.usage.items_scored = rec->items_scored;
  return r;
}

Response Similar(const ApiServices& s, Request& req, const CallContext& ctx) {
  const control::Tenant& tenant = *ctx.principal.tenant;
  absl::Status st = CheckId("item", req.params[0]);
  if (!st.ok()) return ErrorResponse(st);
  auto k_param = IntParam(req, "k", 1, kMaxK, DefaultK(ctx.quotas));
  if (!k_param.ok()) return ErrorResponse(k_param.status());
  auto k = CheckK(*k_param, ctx.quotas);
  if (!k.ok()) return ErrorResponse(k.status());
  auto rec = s.recommender->Similar(tenant, req.params[0], *k, req.admitted_unix_ms);
  if (!rec.ok()) return ErrorResponse(rec.status());
  Response r = JsonResponse(200, RenderRecommendation(*rec, req.request_id));
  r.usage.similar = 1;
  r.usage.items_scored = rec->items_scored;
  return r;
}

Response ExportImpressions(const ApiServices& s, Request& req, const CallContext& ctx) {
  auto range = ExportRange(req);
  if (!range.ok()) return ErrorResponse(range.status());
  // What this tenant was served before the call is in the export: wait for the writer.
  s.impressions->Flush();
  return NdjsonResponse(
      s.impressions->Export(ctx.principal.tenant->iid, range->first, range->second));
}

}  // namespace

void AddRecommendRoutes(Router* router, const ApiServices& services) {
  using Fn = Response (*)(const ApiServices&, Request&, const CallContext&);
  auto bind = [services](Fn fn) {
    return [services, fn](Request& req, const CallContext& ctx) { return fn(services, req, ctx); };
  };
  router->Add(Route{Method::kGet, "/v1/recommendations", "recommendations", Auth::kTenantServer,
                    BodyKind::kNone, false, bind(Recommend)});
  router->Add(Route{Method::kPost, "/v1/recommendations", "recommendations", Auth::kTenantServer,
                    BodyKind::kJson, false, bind(Recommend)});
  router->Add(Route{Method::kGet, "/v1/items/{item}/similar", "similar", Auth::kTenantServer,
                    BodyKind::kNone, false, bind(Similar)});
  router->Add(Route{Method::kGet, "/v1/impressions/export", "impressions_export",
                    Auth::kTenantServer, BodyKind::kNone, false, bind(ExportImpressions)});
}

}  // namespace recd::http
