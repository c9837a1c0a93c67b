#include "bench/harness/request.h"

#include "util/strings.h"

namespace recd::bench {

std::string_view EndpointName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kEvents:
      return "events";
    case Endpoint::kRecommendations:
      return "recommendations";
    case Endpoint::kSimilar:
      return "similar";
    case Endpoint::kUserEvents:
      return "user_events";
    case Endpoint::kOther:
      return "other";
  }
  return "other";
}

std::string_view EndpointRoute(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kEvents:
      return "POST /v1/events";
    case Endpoint::kRecommendations:
      return "GET /v1/recommendations";
    case Endpoint::kSimilar:
      return "GET /v1/items/{item}/similar";
    case Endpoint::kUserEvents:
      return "GET /v1/users/{user}/events";
    case Endpoint::kOther:
      return "other";
  }
  return "other";
}

std::string SerializeRequest(std::string_view method, std::string_view path, const Target& target,
                             std::string_view bearer, std::string_view content_type,
                             std::string_view body) {
  std::string wire;
  wire.reserve(160 + path.size() + body.size());
  util::StrAppend(&wire, method, " ", target.base_path, path,
                  " HTTP/1.1\r\nHost: ", target.host_header, "\r\n");
  if (!bearer.empty()) util::StrAppend(&wire, "Authorization: Bearer ", bearer, "\r\n");
  if (!content_type.empty()) util::StrAppend(&wire, "Content-Type: ", content_type, "\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    util::StrAppend(&wire, "Content-Length: ", body.size(), "\r\n");
  }
  util::StrAppend(&wire, "\r\n", body);
  return wire;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace recd::bench
