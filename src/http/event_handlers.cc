// Tenant routes of the collector: ingest, a user's events, erasure, export, CORS preflight.
#include "http/api.h"
#include "http/error_response.h"
#include "http/json_body.h"
#include "http/params.h"
#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::http {
namespace {

constexpr int64_t kMaxListLimit = 1000;

bool IsValidIdempotencyKey(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Parses {"events":[...]} into inputs; per-event shape problems become per-event errors.
absl::Status ParseEvents(std::string& body, std::vector<ingest::EventInput>* inputs,
                         std::vector<std::string_view>* shape_errors, size_t max_events) {
  bool seen = false;
  RECD_RETURN_IF_ERROR(VisitJsonObject(body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key != "events") return ConsumeJsonValue(v);  // unknown fields are ignored, if well-formed
    seen = true;
    return VisitArrayValue(v, "events", [&](size_t index, JsonValue ev) -> absl::Status {
      if (index >= max_events) {
        return absl::InvalidArgumentError(util::StrCat(
            "a batch holds at most ", max_events, " events (max_events_per_batch)"));
      }
      ingest::EventInput in;
      std::string_view error;
      simdjson::ondemand::object obj;
      if (ev.get_object().get(obj)) {
        RECD_RETURN_IF_ERROR(ConsumeJsonValue(ev));  // a wrong type, not malformed JSON
        inputs->push_back(in);
        shape_errors->push_back("invalid_event");
        return absl::OkStatus();
      }
      for (auto field : obj) {
        std::string_view k;
        if (field.unescaped_key().get(k)) return absl::InvalidArgumentError("malformed JSON");
        JsonValue fv;
        if (field.value().get(fv)) return absl::InvalidArgumentError("malformed JSON");
        // A value of the wrong type names the event; one that is not JSON refuses the batch.
        auto as_string = [&](std::string_view* out, std::string_view err) -> absl::Status {
          if (!fv.get_string().get(*out)) return absl::OkStatus();
          if (error.empty()) error = err;
          return ConsumeJsonValue(fv);
        };
        if (k == "user") {
          RECD_RETURN_IF_ERROR(as_string(&in.user, "invalid_user"));
        } else if (k == "item") {
          RECD_RETURN_IF_ERROR(as_string(&in.item, "invalid_item"));
        } else if (k == "type") {
          RECD_RETURN_IF_ERROR(as_string(&in.type, "invalid_type"));
        } else if (k == "request_id") {
          RECD_RETURN_IF_ERROR(as_string(&in.request_id, "invalid_request_id"));
        } else if (k == "ts") {
          int64_t ts = 0;
          bool is_null = false;
          if (!fv.is_null().get(is_null) && is_null) continue;
          if (fv.get_int64().get(ts)) {
            in.ts_valid = false;
            RECD_RETURN_IF_ERROR(ConsumeJsonValue(fv));
          } else {
            in.ts = ts;
          }
        } else {
          RECD_RETURN_IF_ERROR(ConsumeJsonValue(fv));  // unknown event fields are ignored too
        }
      }
      inputs->push_back(in);
      shape_errors->push_back(error);
      return absl::OkStatus();
    });
  }));
  if (!seen) return absl::InvalidArgumentError("the body needs an \"events\" array");
  if (inputs->empty()) return absl::InvalidArgumentError("\"events\" must hold at least one event");
  return absl::OkStatus();
}

Response PostEvents(const ApiServices& s, Request& req, const CallContext& ctx) {
  const control::Tenant& tenant = *ctx.principal.tenant;
  const sched::Quotas& quotas = ctx.quotas;
  std::optional<std::string_view> idem = req.Header("idempotency-key");
  if (idem && !IsValidIdempotencyKey(*idem)) {
    return ErrorResponse(absl::InvalidArgumentError(
        "Idempotency-Key must be 1 to 64 visible ASCII characters"));
  }
  std::vector<ingest::EventInput> inputs;
  std::vector<std::string_view> errors;
  absl::Status st =
      ParseEvents(req.body, &inputs, &errors, static_cast<size_t>(quotas.max_events_per_batch));
  if (!st.ok()) return ErrorResponse(st);
  // Admission only checked that the bucket was positive; the batch pays its size now.
  if (s.limiter != nullptr) {
    s.limiter->Charge(tenant.iid, sched::TenantLimiter::Kind::kEvents, quotas.events_per_s,
                      static_cast<double>(inputs.size()));
  }

  const int64_t now = s.clock->NowMs();
  std::vector<ingest::Event> events;
  events.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (errors[i].empty()) errors[i] = ingest::ValidateEvent(inputs[i], now, s.max_future_skew_ms);
    if (!errors[i].empty()) continue;
    const auto& in = inputs[i];
    ingest::Event e;
    e.user = in.user;
    e.item = in.item;
    e.type = in.type;
    e.request_id = in.request_id;
    e.ts = in.ts.value_or(now);
    events.push_back(std::move(e));
  }
  std::string answer;
  util::JsonWriter w(&answer);
  w.BeginObject().Key("accepted").Uint(events.size()).Key("rejected").BeginArray();
  for (size_t i = 0; i < errors.size(); ++i) {
    if (errors[i].empty()) continue;
    w.BeginObject().Key("index").Uint(i).Key("error").String(errors[i]).EndObject();
  }
  w.EndArray().EndObject();

  const TenantIid tid = tenant.iid;
  const bool sync = quotas.durability == sched::Durability::kPower;
  // Event counters are billed in the same batch as the events (exact across crashes), so they
  // stay out of r.usage; a replayed repeat is not billed at all (SPEC 7.5).
  metering::UsageDelta billed;
  billed.events_accepted = events.size();
  billed.events_rejected = inputs.size() - events.size();
  billed.bytes_ingested = req.body.size();
  Response r;
  if (idem) {
    auto begun = s.collector->BeginIdempotent(tid, *idem);
    if (!begun.ok()) return ErrorResponse(begun.status());
    if (begun->has_value()) {
      r = JsonResponse(200, std::move(**begun));
      r.headers.emplace_back("Idempotent-Replay", "true");
    } else {
      ingest::Collector::Idempotent record{std::string(*idem), answer};
      st = s.collector->Append(tid, &events, sync, &record, &billed);
      s.collector->EndIdempotent(tid, *idem);
      if (!st.ok()) return ErrorResponse(st);
      r = JsonResponse(200, std::move(answer));
      r.ingested = {billed.events_accepted, billed.events_rejected};
    }
  } else {
    st = s.collector->Append(tid, &events, sync, nullptr, &billed);
    if (!st.ok()) return ErrorResponse(st);
    r = JsonResponse(200, std::move(answer));
    r.ingested = {billed.events_accepted, billed.events_rejected};
  }
  if (auto origin = req.Header("origin")) {
    r.headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
    r.headers.emplace_back("Vary", "Origin");
  }
  return r;
}

Response PreflightEvents(Request& req, const CallContext&) {
  Response r;
  r.status = 204;
  r.headers = {{"Access-Control-Allow-Origin", std::string(req.Header("origin").value_or("*"))},
               {"Access-Control-Allow-Methods", "POST"},
               {"Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key"},
               {"Access-Control-Max-Age", "86400"},
               {"Vary", "Origin"}};
  return r;
}

Response UserEvents(const ApiServices& s, Request& req, const CallContext& ctx) {
  const std::string& user = req.params[0];
  absl::Status st = CheckId("user", user);
  if (!st.ok()) return ErrorResponse(st);
  // Like k: 1 to 1,000 and within max_k (SPEC 7.4), 50 or max_k when the client names none.
  auto limit = IntParam(req, "limit", 1, kMaxListLimit, std::min<int64_t>(50, ctx.quotas.max_k));
  if (!limit.ok()) return ErrorResponse(limit.status());
  if (*limit > ctx.quotas.max_k) {
    return ErrorResponse(absl::InvalidArgumentError(
        util::StrCat("\"limit\" exceeds this tenant's max_k of ", ctx.quotas.max_k)));
  }
  auto events = s.collector->UserEvents(ctx.principal.tenant->iid, user, *limit);
  if (!events.ok()) return ErrorResponse(events.status());
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("user").String(user).Key("events").BeginArray();
  for (const auto& e : *events) {
    w.BeginObject().Key("item").String(e.item).Key("type").String(e.type).Key("ts").Int(e.ts);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(out));
}

Response EraseUser(const ApiServices& s, Request& req, const CallContext& ctx) {
  absl::Status st = CheckId("user", req.params[0]);
  if (st.ok()) st = s.collector->EraseUser(ctx.principal.tenant->iid, req.params[0]);
  if (!st.ok()) return ErrorResponse(st);
  Response r;
  r.status = 204;
  return r;
}

Response ExportEvents(const ApiServices& s, Request& req, const CallContext& ctx) {
  auto range = ExportRange(req);
  if (!range.ok()) return ErrorResponse(range.status());
  return NdjsonResponse(
      s.collector->Export(ctx.principal.tenant->iid, range->first, range->second));
}

}  // namespace

void AddEventRoutes(Router* router, const ApiServices& services) {
  using Fn = Response (*)(const ApiServices&, Request&, const CallContext&);
  auto bind = [services](Fn fn) {
    return [services, fn](Request& req, const CallContext& ctx) { return fn(services, req, ctx); };
  };
  Route ingest{Method::kPost, "/v1/events", "events_ingest", Auth::kTenantIngest, BodyKind::kJson,
               false, bind(PostEvents)};
  ingest.browser = true;
  ingest.bills_events = true;
  router->Add(std::move(ingest));
  router->Add(Route{Method::kOptions, "/v1/events", "events_preflight", Auth::kNone,
                    BodyKind::kNone, true, PreflightEvents});
  router->Add(Route{Method::kGet, "/v1/users/{user}/events", "user_events", Auth::kTenantServer,
                    BodyKind::kNone, false, bind(UserEvents)});
  router->Add(Route{Method::kDelete, "/v1/users/{user}", "user_erase", Auth::kTenantServer,
                    BodyKind::kNone, false, bind(EraseUser)});
  router->Add(Route{Method::kGet, "/v1/events/export", "events_export", Auth::kTenantServer,
                    BodyKind::kNone, false, bind(ExportEvents)});
}

}  // namespace recd::http
