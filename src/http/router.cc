#include "http/router.h"

#include "util/strings.h"
#include "util/strings.h"
#include "util/log.h"

namespace recd::http {

void Router::Add(Route route) {
  RECD_CHECK(!route.pattern.empty() && route.pattern[0] == '/') << route.pattern;
  Compiled c;
  for (std::string_view part : util::Split(std::string_view(route.pattern).substr(1), '/')) {
    bool placeholder = part.size() >= 2 && part.front() == '{' && part.back() == '}';
    c.parts.emplace_back(placeholder ? "" : std::string(part));
  }
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(c));
}

RouteMatch Router::Match(Method method, const std::vector<std::string>& segments) const {
  RouteMatch match;
  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& parts = compiled_[i].parts;
    if (parts.size() != segments.size()) continue;
    bool ok = true;
    for (size_t j = 0; j < parts.size() && ok; ++j) {
      // A placeholder matches any non-empty segment.
      ok = parts[j].empty() ? !segments[j].empty() : parts[j] == segments[j];
    }
    if (!ok) continue;
    if (routes_[i].method == method) {
      match.route = &routes_[i];
      for (size_t j = 0; j < parts.size(); ++j) {
        if (parts[j].empty()) match.params.push_back(segments[j]);
      }
      return match;
    }
    allowed.emplace_back(MethodName(routes_[i].method));
  }
  match.allow = util::Join(allowed, ", ");
  return match;
}

}  // namespace recd::http
