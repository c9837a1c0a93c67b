#include <gtest/gtest.h>

#include "http/error_response.h"
#include "http/request.h"
#include "http/router.h"

namespace recd::http {
namespace {

Response Ok(Request&, const CallContext&) { return Response{}; }

TEST(Router, MatchesPlaceholdersAndAnswers405WithAllow) {
  Router r;
  r.Add(Route{Method::kGet, "/v1/admin/tenants/{id}", "get", Auth::kAdmin, BodyKind::kNone, false, Ok});
  r.Add(Route{Method::kDelete, "/v1/admin/tenants/{id}", "del", Auth::kAdmin, BodyKind::kNone, false, Ok});
  auto m = r.Match(Method::kGet, {"v1", "admin", "tenants", "acme"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"acme"});
  auto wrong = r.Match(Method::kPost, {"v1", "admin", "tenants", "acme"});
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allow, "GET, DELETE");
  auto none = r.Match(Method::kGet, {"v1", "admin", "tenants"});
  EXPECT_EQ(none.route, nullptr);
  EXPECT_TRUE(none.allow.empty());
  auto empty_segment = r.Match(Method::kGet, {"v1", "admin", "tenants", ""});
  EXPECT_EQ(empty_segment.route, nullptr);
}

TEST(Request, PathIsSplitBeforeDecoding) {
  auto s = SplitPath("/v1/items/a%2Fb/similar");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<std::string>{"v1", "items", "a/b", "similar"}));
  EXPECT_FALSE(SplitPath("/v1/items/%zz").ok());
  EXPECT_FALSE(SplitPath("/v1/items/%4").ok());
}

TEST(Request, QueryIsFormDecodedAndKeepsRepeats) {
  Request r;
  ASSERT_TRUE(ParseQuery("user=u+1&exclude=a&exclude=b%26c&k=10", &r.query).ok());
  EXPECT_EQ(r.Query("user").value(), "u 1");
  EXPECT_EQ(r.QueryAll("exclude"), (std::vector<std::string_view>{"a", "b&c"}));
  EXPECT_FALSE(r.Query("nope").has_value());
  // A malformed pair is an error, and the pairs that decode are kept.
  std::vector<std::pair<std::string, std::string>> partial;
  EXPECT_FALSE(ParseQuery("key=abc&k=%zz", &partial).ok());
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].second, "abc");
}

TEST(ErrorResponse, MapsCodesAndRetryAfter) {
  auto r = ErrorResponse(RateLimitedError("slow down", 1500));
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find(R"("code":"rate_limited")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("retry_after_ms":1500)"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "2");
  EXPECT_EQ(ErrorResponse(OverloadedError("full")).status, 503);
  EXPECT_EQ(ErrorResponse(SuspendedError("s")).status, 403);
  EXPECT_EQ(ErrorResponse(TooLargeError("big")).status, 413);
  EXPECT_EQ(ErrorResponse(absl::AlreadyExistsError("x")).status, 409);
  EXPECT_EQ(ErrorResponse(absl::FailedPreconditionError("x")).status, 409);
  auto internal = ErrorResponse(absl::DataLossError("secret detail"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_NE(internal.body.find(R"("code":"internal")"), std::string::npos);
}

}  // namespace
}  // namespace recd::http

#include <fstream>
#include <sstream>

#include "http/api.h"

namespace recd::http {
namespace {

// docs/openapi.yaml is kept in step with the router: every route must be described there.
TEST(OpenApi, DescribesEveryRoute) {
  Router router;
  ApiServices services;
  AddOpsRoutes(&router, services);
  AddAdminRoutes(&router, services);
  AddEventRoutes(&router, services);
  AddModelRoutes(&router, services);
  AddRecommendRoutes(&router, services);
  std::ifstream in(RECD_SOURCE_DIR "/docs/openapi.yaml");
  ASSERT_TRUE(in) << "docs/openapi.yaml is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const Route& r : router.routes()) {
    const std::string path_key = "\n  " + r.pattern + ":";
    size_t at = doc.find(path_key);
    ASSERT_NE(at, std::string::npos) << r.pattern << " is not under paths:";
    size_t next = doc.find("\n  /", at + 1);
    std::string block = doc.substr(at, next == std::string::npos ? std::string::npos : next - at);
    std::string method = std::string(MethodName(r.method));
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(block.find("\n    " + method + ":"), std::string::npos)
        << method << " " << r.pattern << " is not described";
  }
}

}  // namespace
}  // namespace recd::http
