#include "bench/harness/workload.h"

#include <algorithm>

#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::bench {
namespace {

std::vector<std::pair<std::string, double>> DefaultEventTypes() {
  return {{"view", 0.70}, {"click", 0.20}, {"add_to_cart", 0.07}, {"purchase", 0.03}};
}

}  // namespace

std::string SyntheticItemId(int64_t rank) { return util::StrCat("i", rank); }

SyntheticSource::SyntheticSource(SyntheticConfig config)
    : config_(std::move(config)),
      rng_(config_.seed),
      users_(config_.users, config_.user_zipf),
      items_(config_.items, config_.item_zipf),
      // Indexed like Endpoint: kEvents, kRecommendations, kSimilar, kUserEvents.
      endpoint_({config_.events, config_.recommend, config_.similar, config_.user_events}) {
  if (config_.event_types.empty()) config_.event_types = DefaultEventTypes();
  std::vector<double> weights;
  for (const auto& [type, weight] : config_.event_types) weights.push_back(weight);
  event_type_ = std::discrete_distribution<int>(weights.begin(), weights.end());
}

std::string SyntheticSource::EventsBody(int n) {
  std::string body;
  body.reserve(static_cast<size_t>(n) * 56 + 16);
  body.append("{\"events\":[");
  for (int i = 0; i < n; ++i) {
    if (i > 0) body.push_back(',');
    // Ids are plain ASCII, so no escaping is needed; time is left to the server.
    util::StrAppend(&body, "{\"user\":\"u", users_.Sample(rng_), "\",\"item\":\"i",
                    items_.Sample(rng_), "\",\"type\":\"",
                    config_.event_types[static_cast<size_t>(event_type_(rng_))].first, "\"}");
  }
  body.append("]}");
  return body;
}

bool SyntheticSource::Next(OutgoingRequest* out) {
  if (config_.max_events >= 0 && events_sent_ >= config_.max_events) return false;
  const Endpoint endpoint = static_cast<Endpoint>(endpoint_(rng_));
  out->endpoint = endpoint;
  out->events = 0;
  switch (endpoint) {
    case Endpoint::kEvents: {
      int n = config_.batch;
      if (config_.max_events >= 0) {
        n = static_cast<int>(std::min<int64_t>(n, config_.max_events - events_sent_));
      }
      events_sent_ += n;
      out->events = n;
      out->wire = SerializeRequest("POST", "/v1/events", config_.target, config_.ingest_key,
                                   "application/json", EventsBody(n));
      break;
    }
    case Endpoint::kRecommendations:
      out->wire = SerializeRequest(
          "GET", util::StrCat("/v1/recommendations?user=u", users_.Sample(rng_), "&k=", config_.k),
          config_.target, config_.server_key, "", "");
      break;
    case Endpoint::kUserEvents:
      out->wire = SerializeRequest(
          "GET",
          util::StrCat("/v1/users/u", users_.Sample(rng_), "/events?limit=", config_.history_limit),
          config_.target, config_.server_key, "", "");
      break;
    default:
      out->endpoint = Endpoint::kSimilar;
      out->wire = SerializeRequest(
          "GET", util::StrCat("/v1/items/i", items_.Sample(rng_), "/similar?k=", config_.k),
          config_.target, config_.server_key, "", "");
      break;
  }
  return true;
}

ReplaySource::ReplaySource(Target target, std::string ingest_key,
                           std::shared_ptr<ReplayShared> shared, int batch, std::string event_type)
    : target_(std::move(target)),
      ingest_key_(std::move(ingest_key)),
      shared_(std::move(shared)),
      batch_(batch),
      event_type_(std::move(event_type)) {}

bool ReplaySource::Next(OutgoingRequest* out) {
  const int64_t size = static_cast<int64_t>(shared_->events->size());
  const int64_t begin = shared_->cursor.fetch_add(batch_, std::memory_order_relaxed);
  if (begin >= size) return false;
  const int64_t end = std::min<int64_t>(begin + batch_, size);
  std::string body;
  util::JsonWriter json(&body);
  json.BeginObject().Key("events").BeginArray();
  for (int64_t i = begin; i < end; ++i) {
    const ReplayEvent& e = (*shared_->events)[static_cast<size_t>(i)];
    json.BeginObject().Key("user").String(e.user).Key("item").String(e.item);
    json.Key("type").String(event_type_).Key("ts").Int(e.ts_ms).EndObject();
  }
  json.EndArray().EndObject();
  out->endpoint = Endpoint::kEvents;
  out->events = end - begin;
  out->wire =
      SerializeRequest("POST", "/v1/events", target_, ingest_key_, "application/json", body);
  return true;
}

}  // namespace recd::bench
