// The control plane through the real binary: onboarding, keys, patches, offboarding, restarts,
// and every error the foundation answers, each time checking that nothing stored changed.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/test_env.h"

namespace recd::testing {
namespace {

using ControlPlane = DaemonTest;

std::string TenantList(HttpClient* c) {
  return c->Send("GET", "/v1/admin/tenants", "",
                 {{"Authorization", std::string("Bearer ") + DaemonProcess::kAdminToken}})
      .body;
}

TEST_F(ControlPlane, OnboardingAnswersTenantAndBothKeys) {
  HttpResult r = AdminCall("POST", "/v1/admin/tenants", R"({"id":"acme","name":"Acme Shop"})");
  ASSERT_EQ(r.status, 201) << r.body;
  Json j(r.body);
  EXPECT_EQ(Str(j["tenant"]["id"]), "acme");
  EXPECT_EQ(Str(j["tenant"]["name"]), "Acme Shop");
  EXPECT_EQ(Str(j["tenant"]["tier"]), "standard");
  EXPECT_EQ(Str(j["tenant"]["status"]), "active");
  EXPECT_TRUE(j["tenant"]["active_model"].is_null());
  EXPECT_EQ(int64_t(j["tenant"]["quotas"]["max_k"]), 1000);
  std::string server = Str(j["keys"]["server"]);
  std::string ingest = Str(j["keys"]["ingest"]);
  EXPECT_EQ(server.rfind("recd_server_", 0), 0u);
  EXPECT_EQ(ingest.rfind("recd_ingest_", 0), 0u);
  EXPECT_EQ(server.size(), std::string("recd_server_").size() + 12 + 1 + 32);

  HttpResult one = AdminCall("GET", "/v1/admin/tenants/acme");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(Str(Json(one.body)["tenant"]["name"]), "Acme Shop");
  EXPECT_FALSE(r.Header("x-request-id").empty());
}

TEST_F(ControlPlane, ListIsOrderedAndPaged) {
  for (const char* id : {"cc", "aa", "bb"}) Onboard(id);
  HttpResult page = AdminCall("GET", "/v1/admin/tenants?limit=2");
  ASSERT_EQ(page.status, 200);
  Json j(page.body);
  auto tenants = simdjson::dom::array(j["tenants"]);
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(Str(tenants.at(0)["id"]), "aa");
  EXPECT_EQ(Str(tenants.at(1)["id"]), "bb");
  EXPECT_EQ(Str(j["next"]), "bb");
  Json rest(AdminCall("GET", "/v1/admin/tenants?limit=2&after=bb").body);
  EXPECT_EQ(simdjson::dom::array(rest["tenants"]).size(), 1u);
  EXPECT_TRUE(rest["next"].is_null());
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants?limit=0").status, 400);
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants?limit=1001").status, 400);
}

TEST_F(ControlPlane, PatchMovesTierSuspendsAndOverridesQuotas) {
  Onboard("acme");
  HttpResult r = AdminCall("PATCH", "/v1/admin/tenants/acme",
                           R"({"tier":"premium","quotas":{"max_k":50}})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  EXPECT_EQ(Str(j["tenant"]["tier"]), "premium");
  EXPECT_EQ(int64_t(j["tenant"]["quotas"]["max_k"]), 50);
  EXPECT_EQ(double(j["tenant"]["quotas"]["recommendations_per_s"]), 1000);
  r = AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"status":"suspended","quotas":{"max_k":null}})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json k(r.body);
  EXPECT_EQ(Str(k["tenant"]["status"]), "suspended");
  EXPECT_EQ(int64_t(k["tenant"]["quotas"]["max_k"]), 1000);
}

TEST_F(ControlPlane, BadPatchesChangeNothing) {
  Onboard("acme");
  const std::string before = AdminCall("GET", "/v1/admin/tenants/acme").body;
  for (const char* body :
       {R"({"tier":"gold"})", R"({"tier":3})", R"({"status":"gone"})", R"({"colour":"red"})",
        R"({"tier":"premium","quotas":{"max_k":0}})", R"({"tier":"premium","quotas":{"nope":1}})",
        R"({"quotas":{"max_k":"ten"}})", R"({"tier":"premium")", "[]"}) {
    HttpResult r = AdminCall("PATCH", "/v1/admin/tenants/acme", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "invalid_argument");
  }
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme").body, before);
  EXPECT_EQ(AdminCall("PATCH", "/v1/admin/tenants/nope", R"({"tier":"premium"})").status, 404);
}

TEST_F(ControlPlane, KeysRotateAndRevoke) {
  Onboard("acme");
  HttpResult created = AdminCall("POST", "/v1/admin/tenants/acme/keys", R"({"scope":"server"})");
  ASSERT_EQ(created.status, 201) << created.body;
  Json c(created.body);
  std::string key_id = Str(c["key_id"]);
  EXPECT_EQ(Str(c["scope"]), "server");
  EXPECT_EQ(Str(c["key"]).find(key_id), std::string("recd_server_").size());
  HttpResult list = AdminCall("GET", "/v1/admin/tenants/acme/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(simdjson::dom::array(Json(list.body)["keys"]).size(), 3u);
  EXPECT_EQ(list.body.find(Str(c["key"])), std::string::npos) << "secrets are never listed";
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/keys/" + key_id).status, 204);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/keys/" + key_id).status, 204);
  EXPECT_EQ(simdjson::dom::array(Json(AdminCall("GET", "/v1/admin/tenants/acme/keys").body)["keys"])
                .size(),
            2u);
  EXPECT_EQ(AdminCall("POST", "/v1/admin/tenants/acme/keys", R"({"scope":"root"})").status, 400);
  EXPECT_EQ(AdminCall("POST", "/v1/admin/tenants/nope/keys", R"({"scope":"server"})").status, 404);
}

TEST_F(ControlPlane, OffboardingIsIdempotent) {
  Onboard("acme");
  const std::string key_id =
      Str(Json(AdminCall("GET", "/v1/admin/tenants/acme/keys").body)["keys"].at(0)["key_id"]);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme").status, 204);
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme").status, 404);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme").status, 204);
  // Every DELETE is 204 when nothing exists, the tenant included (SPEC 7.3).
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/keys/" + key_id).status, 204);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/models/v1").status, 204);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/never/models/v1").status, 204);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/never/models/-v1").status, 400);
  // The id is free again; the new tenant is a new one.
  EXPECT_EQ(AdminCall("POST", "/v1/admin/tenants", R"({"id":"acme"})").status, 201);
}

TEST_F(ControlPlane, RestartKeepsTenantsAndKeys) {
  Onboard("acme", "enterprise");
  AdminCall("POST", "/v1/admin/tenants/acme/keys", R"({"scope":"ingest"})");
  const std::string tenants = AdminCall("GET", "/v1/admin/tenants").body;
  const std::string keys = AdminCall("GET", "/v1/admin/tenants/acme/keys").body;
  RestartDaemon();
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants").body, tenants);
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme/keys").body, keys);
}

TEST_F(ControlPlane, BadRequestsGetTheirErrorAndChangeNothing) {
  Onboard("acme");
  const std::string before = TenantList(client_.get());
  struct Case {
    std::string method, target, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;
  };
  const std::string big(2 << 20, 'x');
  std::vector<Case> cases = {
      {"POST", "/v1/admin/tenants", R"({"id":"x1"})", {}, 401, "unauthenticated"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1"})", Bearer("wrong-token"), 401,
       "unauthenticated"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1")", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":7})", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1","tier":"gold"})", Admin(), 400,
       "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":"X_1"})", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"name":"no id"})", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1","extra":1})", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1"} trailing)", Admin(), 400, "invalid_argument"},
      {"POST", "/v1/admin/tenants", R"({"id":"acme"})", Admin(), 409, "already_exists"},
      {"POST", "/v1/admin/tenants", R"({"id":"x1","name":")" + big + R"("})", Admin(), 413,
       "too_large"},
      {"GET", "/v1/nothing/here", "", Admin(), 404, "not_found"},
      {"PUT", "/v1/admin/tenants", R"({"id":"x1"})", Admin(), 405, "method_not_allowed"},
      {"GET", "/v1/admin/tenants/none", "", Admin(), 404, "not_found"},
      // A malformed query is a 400, but only after credentials (SPEC 7.4 order).
      {"GET", "/v1/admin/tenants?limit=%zz", "", {}, 401, "unauthenticated"},
      {"GET", "/v1/admin/tenants?limit=%zz", "", Admin(), 400, "invalid_argument"},
      // So is a malformed escape in the path (after the route too).
      {"GET", "/v1/admin/tenants/%zz", "", {}, 401, "unauthenticated"},
      {"GET", "/v1/admin/tenants/%zz", "", Admin(), 400, "invalid_argument"},
      {"GET", "/v1/nothing/%zz", "", Admin(), 404, "not_found"},
      {"GET", "/v1/%61dmin/tenants/%zz", "", Admin(), 400, "invalid_argument"},
      // A tenant key is not an admin token.
      {"POST", "/v1/admin/tenants", R"({"id":"x1"})",
       Bearer("recd_server_aaaaaaaaaaaa_" + std::string(32, 'a')), 401, "unauthenticated"},
  };
  for (const auto& c : cases) {
    HttpResult r = client_->Send(c.method, c.target, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body.substr(0, 60);
    if (r.status == c.status) {
      EXPECT_EQ(Str(Json(r.body)["error"]["code"]), c.code) << r.body;
    }
    if (c.status == 405) {
      EXPECT_EQ(r.Header("allow"), "POST, GET");
    }
  }
  EXPECT_EQ(TenantList(client_.get()), before);
}

// A request the HTTP parser refuses for its syntax gets a 400 naming it (and the connection
// closes), not a silent close; nothing is stored.
TEST_F(ControlPlane, MalformedHttpIsAnswered400) {
  const std::string auth =
      "Authorization: Bearer " + std::string(DaemonProcess::kAdminToken) + "\r\n";
  const std::vector<std::string> requests = {
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: x\r\n" + auth +
          "Content-Length: abc\r\n\r\n{\"id\":\"bad1\"}",
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: x\r\n" + auth +
          "Content-Length: 13\r\nContent-Length: 14\r\n\r\n{\"id\":\"bad2\"}",
      "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: x\r\n" + auth +
          "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"id\":\"bad3\"}\r\n0\r\n\r\n",
  };
  for (const std::string& raw : requests) {
    HttpClient c(daemon_.port());
    HttpResult r = c.SendRaw(raw);
    EXPECT_EQ(r.status, 400) << raw;
    if (r.status == 400) {
      EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "invalid_argument") << r.body;
      EXPECT_NE(r.body.find("malformed HTTP request"), std::string::npos) << r.body;
    }
    EXPECT_EQ(r.Header("connection"), "close") << raw;
  }
  Json list(AdminCall("GET", "/v1/admin/tenants").body);
  EXPECT_EQ(list["tenants"].get_array().size(), 0u) << "nothing was created";
  // A method recd does not know is named as sent.
  HttpClient c(daemon_.port());
  HttpResult foo = c.SendRaw("FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(foo.status, 405);
  EXPECT_NE(foo.body.find("FOO is not allowed on /healthz"), std::string::npos) << foo.body;
  // An error that quotes bytes that are not UTF-8 stays valid JSON.
  HttpResult bad = AdminCall("GET", "/v1/admin/tenants/%ff");
  EXPECT_EQ(bad.status, 404);
  EXPECT_EQ(Str(Json(bad.body)["error"]["code"]), "not_found") << bad.body;
}

TEST_F(ControlPlane, OversizedBodyIsRefusedFromHeadersWithoutReadingIt) {
  // Content-Length announces 10 MiB but only a few bytes follow: the 413 must come anyway.
  HttpResult r = client_->SendRaw(
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      std::string(DaemonProcess::kAdminToken) +
      "\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{\"id\":");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Header("connection"), "close");
}

TEST_F(ControlPlane, ExpectContinueGetsOneHundredThenTheAnswer) {
  const std::string body = R"({"id":"acme"})";
  HttpResult r = client_->SendRaw(
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      std::string(DaemonProcess::kAdminToken) + "\r\nExpect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ControlPlane, RequestIdIsEchoed) {
  HttpResult r = client_->Send("GET", "/healthz", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("x-request-id"), "abc-123");
}

TEST_F(ControlPlane, HealthReadinessAndMetrics) {
  EXPECT_EQ(client_->Send("GET", "/healthz").status, 200);
  EXPECT_EQ(client_->Send("GET", "/readyz").status, 200);
  Onboard("acme");
  HttpResult m = client_->Send("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find(R"(recd_http_requests_total{route="admin_tenant_create",status="201"} 1)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("recd_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("recd_build_info{version="), std::string::npos);
  EXPECT_NE(m.body.find("recd_http_open_connections"), std::string::npos);
}

TEST_F(ControlPlane, SigtermDrainsAndExitsZero) {
  Onboard("acme");
  client_.reset();
  EXPECT_EQ(daemon_.Stop(SIGTERM), 0);
  EXPECT_NE(daemon_.Log().find("stopped cleanly"), std::string::npos);
  StartDaemon();
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme").status, 200);
}

// SIGTERM while the only request in flight is still arriving: it is finished and answered
// (with Connection: close), its events are stored, and the exit does not wait out the grace.
TEST_F(ControlPlane, SigtermFinishesTheLastRequestInFlight) {
  Keys keys = Onboard("acme");
  const std::string body = R"({"events":[{"user":"u1","item":"i1","type":"view"}]})";
  RawConnection conn(daemon_.port());
  conn.Send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + keys.ingest +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + body.substr(0, 10));
  client_.reset();
  // Let the server read the headers (the request counts as in flight from then on).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(daemon_.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  conn.Send(body.substr(10));
  const std::string answer = conn.ReadAnswer();
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 200") << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(daemon_.Stop(0), 0);  // signal 0: only wait for the exit the SIGTERM began
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(5))
      << "the grace period (10 s) is for requests still running, not for this one";
  StartDaemon();
  HttpResult events = client_->Send("GET", "/v1/users/u1/events", "", Bearer(keys.server));
  ASSERT_EQ(events.status, 200);
  EXPECT_NE(events.body.find(R"("item":"i1")"), std::string::npos) << events.body;
}

// Over max_connections a new connection gets 503 overloaded and is closed; freeing one lets
// the next in.
TEST(ConnectionCap, ConnectionsOverTheCapGet503) {
  const std::string dir = MakeTempDir("recd-conncap");
  const std::string config = dir + "/recd.toml";
  FILE* f = std::fopen(config.c_str(), "w");
  std::fputs("max_connections = 2\n", f);
  std::fclose(f);
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"--config", config})) << daemon.Log();
  HttpClient a(daemon.port()), b(daemon.port()), c(daemon.port());
  ASSERT_EQ(a.Send("GET", "/healthz").status, 200);
  ASSERT_EQ(b.Send("GET", "/healthz").status, 200);
  HttpResult refused = c.Send("GET", "/healthz");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("\"overloaded\""), std::string::npos) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  a.Close();
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    c.Close();
    status = c.Send("GET", "/healthz").status;
    if (status != 200) usleep(50'000);
  }
  EXPECT_EQ(status, 200);
  HttpResult metrics = b.Send("GET", "/metrics");
  EXPECT_NE(metrics.body.find("recd_http_connections_refused_total"), std::string::npos);
  RemoveTree(dir);
}

}  // namespace
}  // namespace recd::testing
