#include "bench/harness/target.h"

#include <cctype>

#include "bench/harness/units.h"
#include "util/strings.h"

namespace recd::bench {
namespace {

bool IsValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Target> ParseTarget(std::string_view url) {
  const std::string shown = util::StrCat("\"", url, "\"");
  std::string_view rest = url;
  if (util::ToLower(rest).starts_with("https://")) {
    return absl::InvalidArgumentError(util::StrCat(
        "target ", shown, ": https is not supported; point the harness at recd's own http port"));
  }
  if (!ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError(
        util::StrCat("target ", shown, ": must start with http:// (e.g. http://127.0.0.1:8080)"));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        util::StrCat("target ", shown, ": a query or fragment is not allowed"));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        util::StrCat("target ", shown, ": user info is not allowed; use --admin-token"));
  }
  Target target;
  std::string_view port_text;
  if (ConsumePrefix(&authority, "[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(util::StrCat("target ", shown, ": unclosed '[' in host"));
    }
    target.host = std::string(authority.substr(0, close));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !ConsumePrefix(&after, ":")) {
      return absl::InvalidArgumentError(util::StrCat("target ", shown, ": junk after ']'"));
    }
    port_text = after;
    if (target.host.empty() ||
        target.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return absl::InvalidArgumentError(
          util::StrCat("target ", shown, ": bad IPv6 address \"", target.host, "\""));
    }
  } else {
    const size_t colon = authority.find(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return absl::InvalidArgumentError(util::StrCat("target ", shown, ": empty port"));
      }
    }
    if (!IsValidHostName(target.host)) {
      return absl::InvalidArgumentError(
          util::StrCat("target ", shown, ": bad host \"", target.host, "\""));
    }
  }
  if (!port_text.empty()) {
    int port = 0;
    if (!util::ParseInt(port_text, &port) || port < 1 || port > 65535 ||
        port_text.find_first_not_of("0123456789") != std::string_view::npos) {
      return absl::InvalidArgumentError(
          util::StrCat("target ", shown, ": port \"", port_text, "\" is not in 1..65535"));
    }
    target.port = static_cast<uint16_t>(port);
  }
  while (ConsumeSuffix(&path, "/")) {
  }
  target.base_path = std::string(path);
  const bool v6 = target.host.find(':') != std::string::npos;
  target.host_header = util::StrCat(v6 ? "[" : "", target.host, v6 ? "]" : "", ":", target.port);
  return target;
}

bool IsLoopbackHost(std::string_view host) {
  if (util::EqualsIgnoreCase(host, "localhost") || host == "::1") return true;
  std::vector<std::string_view> parts = util::Split(host, '.');
  if (parts.size() != 4) return false;
  for (std::string_view part : parts) {
    int octet = 0;
    if (part.empty() || part.size() > 3 || !util::ParseInt(part, &octet) || octet < 0 ||
        octet > 255) {
      return false;
    }
  }
  return parts[0] == "127";
}

}  // namespace recd::bench
