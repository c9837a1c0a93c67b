// GET /v1/admin/tenants/{id}/usage?from=YYYY-MM-DD&to=YYYY-MM-DD (SPEC 2, 7.6): billed usage per
// UTC day, both ends inclusive, every day present. Offboarded tenants stay readable: the usage
// of every internal id that ever carried the name is summed.
#include "http/api.h"
#include "http/error_response.h"
#include "util/json_writer.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::http {
namespace {

constexpr int64_t kMaxUsageSpanDays = 366;

absl::StatusOr<int64_t> DateParam(const Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) {
    return absl::InvalidArgumentError(
        util::StrCat("query parameter \"", name, "\" is required (YYYY-MM-DD)"));
  }
  auto day = util::ParseIsoDate(*v);
  if (!day) {
    return absl::InvalidArgumentError(
        util::StrCat("\"", name, "\" must be a date as YYYY-MM-DD, not \"", *v, "\""));
  }
  if (*day < 0 || *day > int64_t{UINT32_MAX} - 1) {
    return absl::InvalidArgumentError(util::StrCat("\"", name, "\" is out of range"));
  }
  return *day;
}

Response GetUsage(const ApiServices& s, Request& req) {
  auto from = DateParam(req, "from");
  if (!from.ok()) return ErrorResponse(from.status());
  auto to = DateParam(req, "to");
  if (!to.ok()) return ErrorResponse(to.status());
  if (*to < *from) {
    return ErrorResponse(absl::InvalidArgumentError("\"to\" must not be before \"from\""));
  }
  if (*to - *from > kMaxUsageSpanDays) {
    return ErrorResponse(absl::InvalidArgumentError(util::StrCat(
        "\"from\" and \"to\" may be at most ", kMaxUsageSpanDays, " days apart")));
  }
  auto iids = s.registry->IidsForName(req.params[0]);
  if (!iids.ok()) return ErrorResponse(iids.status());
  auto days = s.usage->Read(*iids, *from, *to);
  if (!days.ok()) return ErrorResponse(days.status());
  using metering::UsageCounter;
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("tenant").String(req.params[0]).Key("days").BeginArray();
  for (const metering::DayUsage& d : *days) {
    w.BeginObject()
        .Key("date").String(util::FormatIsoDate(d.day))
        .Key("events_accepted").Uint(d[UsageCounter::kEventsAccepted])
        .Key("events_rejected").Uint(d[UsageCounter::kEventsRejected])
        .Key("bytes_ingested").Uint(d[UsageCounter::kBytesIngested])
        .Key("recommendations").Uint(d[UsageCounter::kRecommendations])
        .Key("similar").Uint(d[UsageCounter::kSimilar])
        .Key("items_scored").Uint(d[UsageCounter::kItemsScored])
        // CPU is summed in ns and floored to whole ms per day.
        .Key("cpu_ms").Uint(d[UsageCounter::kCpuNs] / 1'000'000)
        .Key("requests_refused").Uint(d[UsageCounter::kRequestsRefused])
        .EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(out));
}

}  // namespace

void AddUsageRoutes(Router* router, const ApiServices& services) {
  router->Add(Route{Method::kGet, "/v1/admin/tenants/{id}/usage", "admin_tenant_usage",
                    Auth::kAdmin, BodyKind::kNone, false,
                    [services](Request& req, const CallContext&) {
                      if (services.usage == nullptr) {
                        return ErrorResponse(absl::UnavailableError("usage metering is off"));
                      }
                      return GetUsage(services, req);
                    }});
}

}  // namespace recd::http
