// The model store and recommender through the real binary: upload, validation, versions,
// activation and rollback under load, restart, isolation, and recommendations that follow
// events ingested a moment before.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "support/model_fixtures.h"
#include "tests/integration/test_env.h"

namespace recd::testing {
namespace {

namespace mt = recd::model::testing;

using Headers = std::vector<std::pair<std::string, std::string>>;

class RecommendTest : public DaemonTest {
 protected:
  // Starts the daemon with a config file holding `toml`.
  void StartWithConfig(const std::string& toml) {
    config_dir_ = std::make_unique<mt::TempDir>();
    const std::string config = config_dir_->Sub("recd.toml");
    mt::WriteFile(config, toml);
    StartDaemon({"--config", config});
  }
  std::unique_ptr<mt::TempDir> config_dir_;

  // Uploads a folder written by `spec` as a tar archive.
  HttpResult Upload(const std::string& tenant, const std::string& version,
                    const mt::FolderSpec& spec) {
    mt::TempDir dir;
    mt::WriteGoodFolder(dir.path(), spec);
    return UploadTar(tenant, version, mt::TarOfFolder(dir.path(), "").Finish());
  }
  HttpResult UploadTar(const std::string& tenant, const std::string& version,
                       const std::string& tar, const std::string& type = "application/x-tar") {
    Headers h = Admin();
    h.emplace_back("Content-Type", type);
    return client_->Send("PUT", "/v1/admin/tenants/" + tenant + "/models/" + version, tar, h);
  }
  HttpResult Activate(const std::string& tenant, const std::string& version) {
    return AdminCall("POST", "/v1/admin/tenants/" + tenant + "/models/" + version + "/activate");
  }
  std::string ActiveModel(const std::string& tenant) {
    Json j(AdminCall("GET", "/v1/admin/tenants/" + tenant).body);
    simdjson::dom::element v = j["tenant"]["active_model"];
    return v.is_null() ? "" : Str(v);
  }
  HttpResult Recommend(const std::string& key, const std::string& body) {
    return client_->Send("POST", "/v1/recommendations", body, Bearer(key));
  }
  void Ingest(const std::string& key, const std::string& user,
              const std::vector<std::string>& items, const std::string& type = "view") {
    std::string body = R"({"events":[)";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) body += ",";
      body += R"({"user":")" + user + R"(","item":")" + items[i] + R"(","type":")" + type + "\"}";
    }
    body += "]}";
    HttpResult r = client_->Send("POST", "/v1/events", body, Bearer(key));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static std::vector<std::string> Items(const HttpResult& r) {
    Json j(r.body);
    std::vector<std::string> out;
    for (auto e : j["items"].get_array()) out.push_back(Str(e["item"]));
    return out;
  }
  static std::string Strategy(const HttpResult& r) { return Str(Json(r.body)["strategy"]); }

  // The expected top-k of an item_embeddings/dot model with no decay: u = mean of the rows of
  // `seen`, scored against every row in double, seen rows excluded, ties by lower row.
  static std::vector<std::string> ExpectedTopK(const mt::FolderSpec& spec,
                                               const std::vector<uint32_t>& seen, uint32_t k) {
    std::vector<float> y = mt::RandomMatrix(spec.rows, spec.dim, spec.seed);
    std::vector<double> u(spec.dim, 0.0);
    for (uint32_t r : seen) {
      for (uint32_t d = 0; d < spec.dim; ++d) u[d] += y[r * spec.dim + d] / seen.size();
    }
    std::vector<std::pair<double, uint32_t>> scored;
    for (uint32_t r = 0; r < spec.rows; ++r) {
      if (std::find(seen.begin(), seen.end(), r) != seen.end()) continue;
      double s = 0;
      for (uint32_t d = 0; d < spec.dim; ++d) s += u[d] * y[r * spec.dim + d];
      scored.emplace_back(-s, r);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> ids = mt::MakeIds(spec.rows);
    std::vector<std::string> out;
    for (uint32_t i = 0; i < k && i < scored.size(); ++i) out.push_back(ids[scored[i].second]);
    return out;
  }
};

mt::FolderSpec Spec(uint32_t seed, uint32_t rows = 200, uint32_t dim = 24) {
  mt::FolderSpec spec;
  spec.rows = rows;
  spec.dim = dim;
  spec.seed = seed;
  spec.extra = R"("half_life_s":0)";
  return spec;
}

TEST_F(RecommendTest, UploadListActivateDeleteFollowTheSpec) {
  Onboard("acme");
  HttpResult r = Upload("acme", "v1", Spec(1));
  ASSERT_EQ(r.status, 201) << r.body;
  Json m(r.body);
  EXPECT_EQ(Str(m["model"]["version"]), "v1");
  EXPECT_EQ(Str(m["model"]["kind"]), "item_embeddings");
  EXPECT_EQ(Str(m["model"]["metric"]), "dot");
  EXPECT_EQ(int64_t(m["model"]["dim"]), 24);
  EXPECT_EQ(int64_t(m["model"]["items"]), 200);
  EXPECT_GT(int64_t(m["model"]["bytes"]), 200 * 24 * 4);
  EXPECT_EQ(Str(m["model"]["precision"]), "float32");
  EXPECT_FALSE(bool(m["model"]["active"]));
  EXPECT_EQ(ActiveModel("acme"), "") << "an upload does not activate";

  EXPECT_EQ(Upload("acme", "v1", Spec(2)).status, 409) << "versions are immutable";
  EXPECT_EQ(Upload("acme", "-bad", Spec(2)).status, 400);
  EXPECT_EQ(Upload("nobody", "v1", Spec(2)).status, 404);
  ASSERT_EQ(Upload("acme", "v2", Spec(2)).status, 201);

  r = Activate("acme", "v1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(bool(Json(r.body)["model"]["active"]));
  EXPECT_EQ(ActiveModel("acme"), "v1");
  EXPECT_EQ(Activate("acme", "v1").status, 200) << "activating the active one is a no-op";
  EXPECT_EQ(Activate("acme", "v9").status, 404);

  r = AdminCall("GET", "/v1/admin/tenants/acme/models");
  ASSERT_EQ(r.status, 200);
  Json list(r.body);
  std::map<std::string, bool> active;
  for (auto e : list["models"].get_array()) active[Str(e["version"])] = bool(e["active"]);
  EXPECT_EQ(active, (std::map<std::string, bool>{{"v1", true}, {"v2", false}}));

  r = AdminCall("DELETE", "/v1/admin/tenants/acme/models/v1");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "failed_precondition");
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/models/v2").status, 204);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/models/v2").status, 204);
  EXPECT_EQ(Activate("acme", "v2").status, 404);
  EXPECT_EQ(ActiveModel("acme"), "v1");
}

TEST_F(RecommendTest, BadModelsAreRefusedByNameAndChangeNothing) {
  Keys keys = Onboard("acme");
  ASSERT_EQ(Upload("acme", "good", Spec(1)).status, 201);
  ASSERT_EQ(Activate("acme", "good").status, 200);

  struct Case {
    std::string name;
    std::function<void(const std::string&)> damage;  // edits a good folder
    std::string expect;                               // in the error message
  };
  const std::vector<Case> cases = {
      {"nan", [](const std::string& d) {
         std::vector<float> v = mt::RandomMatrix(200, 24, 1);
         v[17] = std::nanf("");
         mt::WriteFile(d + "/item_embeddings.npy", mt::NpyBytes("<f4", false, {200, 24}, mt::F32Bytes(v)));
       }, "item_embeddings.npy"},
      {"shape", [](const std::string& d) {
         mt::WriteFile(d + "/item_embeddings.npy",
                       mt::NpyBytes("<f4", false, {200, 23}, mt::F32Bytes(mt::RandomMatrix(200, 23, 1))));
       }, "item_embeddings.npy"},
      {"dupes", [](const std::string& d) {
         std::vector<std::string> ids = mt::MakeIds(200);
         ids[5] = ids[6];
         mt::WriteFile(d + "/items.txt", mt::ItemsText(ids));
       }, "items.txt"},
      {"unknown-field", [](const std::string& d) {
         mt::WriteFile(d + "/manifest.json", mt::ManifestJson("item_embeddings", "dot", 24,
                                                              "item_embeddings.npy", R"("colour":1)"));
       }, "colour"},
      {"big-endian", [](const std::string& d) {
         mt::WriteFile(d + "/item_embeddings.npy",
                       mt::NpyBytes(">f4", false, {200, 24}, mt::F32Bytes(mt::RandomMatrix(200, 24, 1))));
       }, "item_embeddings.npy"},
      {"truncated", [](const std::string& d) {
         std::string npy = mt::ReadFile(d + "/item_embeddings.npy");
         mt::WriteFile(d + "/item_embeddings.npy", npy.substr(0, npy.size() - 100));
       }, "truncated"},
  };
  for (const Case& c : cases) {
    mt::TempDir dir;
    mt::WriteGoodFolder(dir.path(), Spec(1));
    c.damage(dir.path());
    HttpResult r = UploadTar("acme", "bad-" + c.name, mt::TarOfFolder(dir.path(), "").Finish());
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.expect), std::string::npos) << c.name << ": " << r.body;
    EXPECT_EQ(Activate("acme", "bad-" + c.name).status, 404) << c.name;
  }
  // An archive that escapes its folder, and one cut short.
  HttpResult r = UploadTar("acme", "evil", mt::TarBuilder().AddFile("../manifest.json", "{}").Finish());
  EXPECT_EQ(r.status, 400) << r.body;
  {
    mt::TempDir dir;
    mt::WriteGoodFolder(dir.path(), Spec(1));
    std::string tar = mt::TarOfFolder(dir.path(), "").Finish();
    r = UploadTar("acme", "cut", tar.substr(0, tar.size() / 2));
    EXPECT_EQ(r.status, 400) << r.body;
    // A gzipped upload missing only its last bytes: the archive inside is whole, the gzip
    // trailer (length, CRC) is not.
    const std::string gz = mt::Gzip(tar);
    r = UploadTar("acme", "cut-gz", gz.substr(0, gz.size() - 4), "application/gzip");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("gzip data is truncated"), std::string::npos) << r.body;
    EXPECT_EQ(UploadTar("acme", "whole-gz", gz, "application/gzip").status, 201)
        << "the same archive, whole";
    EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme/models/whole-gz").status, 204);
  }
  EXPECT_EQ(UploadTar("acme", "text", "hello", "text/plain").status, 415);
  // Media types are case-insensitive: this is a tar upload (of a bad archive, so 400).
  EXPECT_EQ(UploadTar("acme", "caps", "hello", "Application/X-Tar").status, 400);

  Json list(AdminCall("GET", "/v1/admin/tenants/acme/models").body);
  EXPECT_EQ(list["models"].get_array().size(), 1u) << "only the good version exists";
  EXPECT_EQ(ActiveModel("acme"), "good");
  r = client_->Send("GET", "/v1/recommendations?user=u1", "", Bearer(keys.server));
  EXPECT_EQ(r.status, 200);
}

TEST_F(RecommendTest, RecommendationsFollowTheEventsJustIngested) {
  Keys keys = Onboard("acme");
  const mt::FolderSpec spec = Spec(7);
  ASSERT_EQ(Upload("acme", "v1", spec).status, 201);

  // No model yet: popular, model_version null, seen items excluded.
  Ingest(keys.ingest, "other", {"sku-3", "sku-3", "sku-9"});
  HttpResult r = Recommend(keys.server, R"({"user":"u1","k":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strategy(r), "popular");
  EXPECT_TRUE(Json(r.body)["model_version"].is_null());
  EXPECT_EQ(Items(r), (std::vector<std::string>{"sku-3", "sku-9"}));
  EXPECT_FALSE(Str(Json(r.body)["request_id"]).empty());

  ASSERT_EQ(Activate("acme", "v1").status, 200);
  r = Recommend(keys.server, R"({"user":"u1","k":5})");
  EXPECT_EQ(Strategy(r), "popular") << "no history yet";
  EXPECT_EQ(Str(Json(r.body)["model_version"]), "v1");

  Ingest(keys.ingest, "u1", {"sku-10", "sku-20"});
  r = Recommend(keys.server, R"({"user":"u1","k":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strategy(r), "personalized");
  EXPECT_EQ(Items(r), ExpectedTopK(spec, {10, 20}, 5));

  Ingest(keys.ingest, "u1", {"sku-30"});
  r = client_->Send("GET", "/v1/recommendations?user=u1&k=5", "", Bearer(keys.server));
  EXPECT_EQ(Items(r), ExpectedTopK(spec, {10, 20, 30}, 5)) << "the event a moment ago counts";

  // exclude, context_items, exclude_seen=false.
  std::vector<std::string> top = ExpectedTopK(spec, {10, 20, 30}, 6);
  r = Recommend(keys.server, R"({"user":"u1","k":5,"exclude":[")" + top[0] + R"(","nope"]})");
  EXPECT_EQ(Items(r), std::vector<std::string>(top.begin() + 1, top.end()));
  r = Recommend(keys.server, R"({"user":"u2","k":5,"context_items":["sku-10","sku-20","sku-30"]})");
  EXPECT_EQ(Items(r), ExpectedTopK(spec, {10, 20, 30}, 5)) << "context items count as events";
  r = Recommend(keys.server, R"({"user":"u1","k":200,"exclude_seen":false})");
  EXPECT_EQ(Items(r).size(), 200u);
  r = Recommend(keys.server, R"({"user":"u1","k":1000})");
  EXPECT_EQ(Items(r).size(), 197u) << "fewer than k is fine";

  // Similar items: the item's own row, itself skipped; unknown item: popular minus itself.
  r = client_->Send("GET", "/v1/items/sku-10/similar?k=3", "", Bearer(keys.server));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strategy(r), "similar");
  EXPECT_EQ(Items(r), ExpectedTopK(spec, {10}, 3));
  r = client_->Send("GET", "/v1/items/sku-3x/similar?k=3", "", Bearer(keys.server));
  EXPECT_EQ(Strategy(r), "popular");
}

// An item without a vector (an all-zero row) imports in a cosine model too, scores 0, and has
// no similar items of its own: its /similar answer is popular, like a user with u = 0.
TEST_F(RecommendTest, AnAllZeroRowImportsAndHasNoSimilarItems) {
  Keys keys = Onboard("acme");
  mt::FolderSpec spec = Spec(3, 50, 8);
  spec.metric = "cosine";
  mt::TempDir dir;
  mt::WriteGoodFolder(dir.path(), spec);
  std::vector<float> y = mt::RandomMatrix(spec.rows, spec.dim, spec.seed);
  for (uint32_t c = 0; c < spec.dim; ++c) y[7 * spec.dim + c] = 0;
  mt::WriteFile(dir.path() + "/item_embeddings.npy",
                mt::NpyBytes("<f4", false, {spec.rows, spec.dim}, mt::F32Bytes(y)));
  HttpResult r = UploadTar("acme", "v1", mt::TarOfFolder(dir.path(), "").Finish());
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  r = client_->Send("GET", "/v1/items/sku-7/similar?k=5", "", Bearer(keys.server));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strategy(r), "popular");
  r = client_->Send("GET", "/v1/items/sku-8/similar?k=50", "", Bearer(keys.server));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strategy(r), "similar");
  bool found = false;
  Json similar(r.body);
  for (auto e : similar["items"].get_array()) {
    if (Str(e["item"]) != "sku-7") continue;
    found = true;
    EXPECT_EQ(double(e["score"]), 0.0);
  }
  EXPECT_TRUE(found) << r.body;
}

TEST_F(RecommendTest, BadRequestsAreRefused) {
  Keys keys = Onboard("acme");
  auto code = [&](const HttpResult& r) { return Str(Json(r.body)["error"]["code"]); };
  for (const std::string& body :
       {std::string(R"({"k":5})"), std::string(R"({"user":"u1","k":0})"),
        std::string(R"({"user":"u1","k":1001})"), std::string(R"({"user":"u1","k":"5"})"),
        std::string(R"({"user":5})"), std::string(R"({"user":"u1","exclude":"a"})"),
        std::string(R"({"user":"u1","exclude_seen":"yes"})"), std::string(R"({"user":"u1","kk":1})"),
        std::string(R"({"user":"u1")"), std::string(R"({"user":""})")}) {
    HttpResult r = Recommend(keys.server, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(code(r), "invalid_argument") << body;
  }
  std::string many = R"({"user":"u1","context_items":[)";
  for (int i = 0; i < 101; ++i) many += (i ? ",\"i" : "\"i") + std::to_string(i) + "\"";
  many += "]}";
  EXPECT_EQ(Recommend(keys.server, many).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/recommendations?k=5", "", Bearer(keys.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/recommendations?user=u1", "", Bearer(keys.ingest)).status, 403);
  EXPECT_EQ(client_->Send("GET", "/v1/recommendations?user=u1").status, 401);
  // max_k of the tenant.
  ASSERT_EQ(AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"quotas":{"max_k":20}})").status, 200);
  HttpResult r = Recommend(keys.server, R"({"user":"u1","k":21})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("max_k"), std::string::npos) << r.body;
  // A max_k below the defaults (k 10, limit 50): a request that names no number gets max_k,
  // one that names a larger number gets 400 naming it.
  ASSERT_EQ(AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"quotas":{"max_k":3}})").status, 200);
  EXPECT_EQ(Recommend(keys.server, R"({"user":"u1"})").status, 200);
  EXPECT_EQ(client_->Send("GET", "/v1/items/sku-1/similar", "", Bearer(keys.server)).status, 200);
  Ingest(keys.ingest, "u1", {"sku-1", "sku-2", "sku-3", "sku-4", "sku-5"});
  r = client_->Send("GET", "/v1/users/u1/events", "", Bearer(keys.server));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body)["events"].get_array().size(), 3u);
  r = client_->Send("GET", "/v1/users/u1/events?limit=4", "", Bearer(keys.server));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("max_k"), std::string::npos) << r.body;
}

TEST_F(RecommendTest, TenantsNeverSeeEachOthersModels) {
  Keys a = Onboard("shop-a");
  Keys b = Onboard("shop-b");
  ASSERT_EQ(Upload("shop-a", "v1", Spec(1)).status, 201);
  ASSERT_EQ(Activate("shop-a", "v1").status, 200);
  Ingest(a.ingest, "u1", {"sku-1"});
  Ingest(b.ingest, "u1", {"sku-1"});
  EXPECT_EQ(Strategy(Recommend(a.server, R"({"user":"u1"})")), "personalized");
  HttpResult r = Recommend(b.server, R"({"user":"u1"})");
  EXPECT_EQ(Strategy(r), "popular");
  EXPECT_TRUE(Json(r.body)["model_version"].is_null());
  EXPECT_EQ(Activate("shop-b", "v1").status, 404) << "shop-a's version is not shop-b's";
  r = client_->Send("GET", "/v1/items/sku-2/similar", "", Bearer(b.server));
  EXPECT_EQ(Strategy(r), "popular");
  EXPECT_EQ(Items(r), std::vector<std::string>{"sku-1"}) << "only shop-b's own popularity";
}

TEST_F(RecommendTest, ActivationAndRollbackUnderLoadNeverFailOrMix) {
  Keys keys = Onboard("acme");
  const mt::FolderSpec s1 = Spec(1), s2 = Spec(2);
  ASSERT_EQ(Upload("acme", "v1", s1).status, 201);
  ASSERT_EQ(Upload("acme", "v2", s2).status, 201);
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  // The reader runs flat out: lift the standard tier's rate limit, which is not under test.
  ASSERT_EQ(AdminCall("PATCH", "/v1/admin/tenants/acme",
                      R"({"quotas":{"recommendations_per_s":1000000}})").status, 200);
  Ingest(keys.ingest, "u1", {"sku-4", "sku-8"});
  const std::map<std::string, std::vector<std::string>> expected = {
      {"v1", ExpectedTopK(s1, {4, 8}, 10)}, {"v2", ExpectedTopK(s2, {4, 8}, 10)}};

  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, bad{0};
  std::set<std::string> seen_versions;
  std::thread reader([&] {
    HttpClient c(daemon_.port());
    while (!stop) {
      HttpResult r = c.Send("GET", "/v1/recommendations?user=u1&k=10", "", Bearer(keys.server));
      if (r.status != 200) {
        ++bad;
        continue;
      }
      Json j(r.body);
      std::string v = Str(j["model_version"]);
      seen_versions.insert(v);
      if (Items(r) != expected.at(v)) ++bad;  // a response from one version only
      ++served;
    }
  });
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Activate("acme", i % 2 ? "v1" : "v2").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(served.load(), 10);
  EXPECT_EQ(seen_versions, (std::set<std::string>{"v1", "v2"}));
}

TEST_F(RecommendTest, RestartMapsTheActiveVersionAgain) {
  Keys keys = Onboard("acme", "premium");
  Keys std_keys = Onboard("small");
  ASSERT_EQ(Upload("acme", "v1", Spec(3)).status, 201);
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  ASSERT_EQ(Upload("small", "v1", Spec(4)).status, 201);
  ASSERT_EQ(Activate("small", "v1").status, 200);
  Ingest(keys.ingest, "u1", {"sku-1"});
  Ingest(std_keys.ingest, "u1", {"sku-1"});
  const auto before = Items(Recommend(keys.server, R"({"user":"u1"})"));
  RestartDaemon();
  HttpResult r = Recommend(keys.server, R"({"user":"u1"})");
  EXPECT_EQ(Strategy(r), "personalized");
  EXPECT_EQ(Items(r), before);
  EXPECT_EQ(Items(r), ExpectedTopK(Spec(3), {1}, 10));
  EXPECT_EQ(Items(Recommend(std_keys.server, R"({"user":"u1"})")), ExpectedTopK(Spec(4), {1}, 10));
}

TEST_F(RecommendTest, OffboardingRemovesModels) {
  Onboard("acme");
  ASSERT_EQ(Upload("acme", "v1", Spec(1)).status, 201);
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  ASSERT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme").status, 204);
  Keys keys = Onboard("acme");
  Json list(AdminCall("GET", "/v1/admin/tenants/acme/models").body);
  EXPECT_EQ(list["models"].get_array().size(), 0u);
  EXPECT_EQ(Strategy(Recommend(keys.server, R"({"user":"u1"})")), "popular");
}

TEST_F(RecommendTest, ImpressionsRecordWhatWasServed) {
  Keys keys = Onboard("acme");
  ASSERT_EQ(Upload("acme", "v1", Spec(1)).status, 201);
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  Ingest(keys.ingest, "u1", {"sku-1"});
  Headers h = Bearer(keys.server);
  h.emplace_back("X-Request-Id", "req-42");
  HttpResult r = client_->Send("GET", "/v1/recommendations?user=u1&k=3", "", h);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Str(Json(r.body)["request_id"]), "req-42");
  r = client_->Send("GET", "/v1/impressions/export?from=0&to=9007199254740991", "",
                    Bearer(keys.server));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  Json line(r.body.substr(0, r.body.find('\n')));
  EXPECT_EQ(Str(line["request_id"]), "req-42");
  EXPECT_EQ(Str(line["user"]), "u1");
  EXPECT_EQ(line["items"].get_array().size(), 3u);
  EXPECT_EQ(Str(line["model_version"]), "v1");
  EXPECT_EQ(Str(line["strategy"]), "personalized");
  Keys other = Onboard("other");
  r = client_->Send("GET", "/v1/impressions/export?from=0&to=9007199254740991", "",
                    Bearer(other.server));
  EXPECT_EQ(r.body, "") << "another tenant's impressions are invisible";
  EXPECT_EQ(client_->Send("GET", "/v1/impressions/export?from=0", "", Bearer(keys.server)).status, 400);
}

TEST_F(RecommendTest, UsageBillsServedRecommendationsAndRowsScored) {
  Keys keys = Onboard("acme");
  ASSERT_EQ(Upload("acme", "v1", Spec(1)).status, 201);  // 200 rows
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  Ingest(keys.ingest, "u1", {"sku-1"});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Recommend(keys.server, R"({"user":"u1"})").status, 200);  // personalized: 200 rows
  }
  ASSERT_EQ(Recommend(keys.server, R"({"user":"nobody"})").status, 200);  // popular: 0 rows
  ASSERT_EQ(client_->Send("GET", "/v1/items/sku-2/similar", "", Bearer(keys.server)).status, 200);
  ASSERT_EQ(client_->Send("GET", "/v1/items/none/similar", "", Bearer(keys.server)).status, 200);
  EXPECT_EQ(Recommend(keys.server, R"({"k":1})").status, 400);  // not billed
  // Request counters are flushed within a second.
  Json day("{}");
  for (int i = 0; i < 50; ++i) {
    HttpResult r = AdminCall("GET", "/v1/admin/tenants/acme/usage?from=" + UtcDate() + "&to=" + UtcDate());
    ASSERT_EQ(r.status, 200) << r.body;
    day = Json(r.body);
    if (int64_t(simdjson::dom::array(day["days"]).at(0)["recommendations"]) == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto d = simdjson::dom::array(day["days"]).at(0);
  EXPECT_EQ(int64_t(d["recommendations"]), 4);
  EXPECT_EQ(int64_t(d["similar"]), 2);
  EXPECT_EQ(int64_t(d["items_scored"]), 4 * 200);  // 3 personalized + 1 similar
  EXPECT_EQ(int64_t(d["events_accepted"]), 1);
  EXPECT_EQ(int64_t(d["requests_refused"]), 0);
}

TEST_F(RecommendTest, TierChangeRemapsTheLiveModelUnderItsNewPolicy) {
  Keys keys = Onboard("acme");
  ASSERT_EQ(Upload("acme", "v1", Spec(1)).status, 201);
  ASSERT_EQ(Activate("acme", "v1").status, 200);
  Ingest(keys.ingest, "u1", {"sku-1"});
  const auto before = Items(Recommend(keys.server, R"({"user":"u1"})"));
  ASSERT_EQ(AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"tier":"premium"})").status, 200);
  EXPECT_NE(daemon_.Log().find("model v1 re-mapped (prefetched)"), std::string::npos)
      << daemon_.Log();
  HttpResult r = Recommend(keys.server, R"({"user":"u1"})");
  EXPECT_EQ(Strategy(r), "personalized");
  EXPECT_EQ(Items(r), before);
  EXPECT_EQ(Str(Json(r.body)["model_version"]), "v1");
}

// The other serving paths through the API: an int8 copy (scores from the quantised matrix) and
// an iALS model (the fold-in), next to the float32 reference of the same rows.
TEST_F(RecommendTest, Int8AndIalsModelsServeThroughTheApi) {
  Keys keys = Onboard("acme");
  mt::FolderSpec f32 = Spec(5, 400, 32);
  mt::FolderSpec i8 = f32;
  i8.extra = R"("half_life_s":0,"precision":"int8")";
  mt::FolderSpec ials = f32;
  ials.kind = "ials";
  ials.extra = R"("half_life_s":0,"alpha":2.0,"regularization":0.1)";
  ASSERT_EQ(Upload("acme", "int8", i8).status, 201);
  ASSERT_EQ(Upload("acme", "ials", ials).status, 201);
  Json list(AdminCall("GET", "/v1/admin/tenants/acme/models").body);
  std::map<std::string, std::string> precision;
  for (auto m : list["models"].get_array()) precision[Str(m["version"])] = Str(m["precision"]);
  EXPECT_EQ(precision["int8"], "int8");
  EXPECT_EQ(precision["ials"], "float32");

  Ingest(keys.ingest, "u1", {"sku-11", "sku-12", "sku-13"});
  ASSERT_EQ(Activate("acme", "int8").status, 200);
  HttpResult r = Recommend(keys.server, R"({"user":"u1","k":10})");
  ASSERT_EQ(Strategy(r), "personalized") << r.body;
  const std::vector<std::string> got = Items(r);
  const std::vector<std::string> want = ExpectedTopK(f32, {11, 12, 13}, 10);
  size_t overlap = 0;
  for (const auto& id : got) overlap += std::count(want.begin(), want.end(), id);
  EXPECT_GE(overlap, 9u) << "int8 top-10 strays from float32";

  ASSERT_EQ(Activate("acme", "ials").status, 200);
  r = Recommend(keys.server, R"({"user":"u1","k":10})");
  ASSERT_EQ(Strategy(r), "personalized") << r.body;
  EXPECT_EQ(Items(r).size(), 10u);
  for (const auto& id : Items(r)) {
    EXPECT_TRUE(id != "sku-11" && id != "sku-12" && id != "sku-13") << "seen item served";
  }
  // The fold-in is not the mean: with these confidences its ranking differs from it.
  EXPECT_NE(Items(r), want);
}

class PathImportTest : public RecommendTest {
 protected:
  void SetUp() override {
    root_ = std::make_unique<mt::TempDir>();
    outside_ = std::make_unique<mt::TempDir>();
    mt::MakeDirs(root_->path() + "/models");
    StartWithConfig("model_root = \"" + root_->path() + "/models\"\n");
  }
  HttpResult PutPath(const std::string& version, const std::string& path) {
    Headers h = Admin();
    h.emplace_back("Content-Type", "application/json");
    return client_->Send("PUT", "/v1/admin/tenants/acme/models/" + version,
                         R"({"path":")" + path + R"("})", h);
  }
  std::unique_ptr<mt::TempDir> root_, outside_;
};

TEST_F(PathImportTest, ImportsOnlyBelowTheModelRoot) {
  Onboard("acme");
  const std::string models = root_->path() + "/models";
  mt::WriteGoodFolder(models + "/v7", Spec(1));
  mt::WriteGoodFolder(outside_->path() + "/v8", Spec(1));
  HttpResult r = PutPath("v7", models + "/v7");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(PutPath("rel", "v7").status, 201) << "relative to the root";
  EXPECT_EQ(PutPath("out", outside_->path() + "/v8").status, 403);
  EXPECT_EQ(PutPath("dots", models + "/../models/v7").status, 400);
  EXPECT_EQ(PutPath("none", models + "/missing").status, 400);
  // A folder inside the root whose file links outside it.
  mt::MakeDirs(models + "/linked");
  for (const char* f : {"manifest.json", "items.txt", "item_embeddings.npy"}) {
    ASSERT_EQ(::symlink((outside_->path() + "/v8/" + f).c_str(), (models + "/linked/" + f).c_str()), 0);
  }
  EXPECT_EQ(PutPath("linked", models + "/linked").status, 403);
  Json list(AdminCall("GET", "/v1/admin/tenants/acme/models").body);
  EXPECT_EQ(list["models"].get_array().size(), 2u);
}

// Without model_root (the embedded default) any absolute folder recd can read imports (SPEC
// 2); relative paths and `..` are refused, and a folder that is not a model is a 400.
TEST_F(RecommendTest, PathImportWithoutModelRootTakesAbsoluteFolders) {
  Onboard("acme");
  mt::TempDir dir;
  mt::WriteGoodFolder(dir.Sub("v7"), Spec(1));
  auto put = [&](const std::string& version, const std::string& path) {
    Headers h = Admin();
    h.emplace_back("Content-Type", "application/json");
    return client_->Send("PUT", "/v1/admin/tenants/acme/models/" + version,
                         R"({"path":")" + path + R"("})", h);
  };
  HttpResult r = put("v7", dir.Sub("v7"));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(put("rel", "v7").status, 400);
  EXPECT_EQ(put("dots", dir.Sub("v7") + "/../v7").status, 400);
  EXPECT_EQ(put("tmp", "/tmp").status, 400) << "not a model folder";
  // A NUL would end the path for the OS: "<v7>\u0000junk" must not import <v7>.
  r = put("nul", dir.Sub("v7") + "\\u0000junk");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("control characters"), std::string::npos) << r.body;
  Json list(AdminCall("GET", "/v1/admin/tenants/acme/models").body);
  EXPECT_EQ(list["models"].get_array().size(), 1u);
}

// Float32 models from f32_prefilter_min_rows rows are imported with an int8 copy and scanned
// through it, on every tier. "basic" imports its model while the threshold is above its size
// (no copy: the full float32 scan), "gold" and "silver" after a restart that lowered it. All
// three must answer the same bytes, in the exact double-precision order.
class PrefilterTest : public RecommendTest {
 protected:
  void SetUp() override { StartWithConfig("f32_prefilter_min_rows = 100000\n"); }
};

TEST_F(PrefilterTest, AnswersThroughThePrefilterEqualTheFullScanOnEveryTier) {
  const mt::FolderSpec spec = Spec(9, 5000, 32);
  Keys basic = Onboard("basic");
  ASSERT_EQ(Upload("basic", "v1", spec).status, 201);
  mt::WriteFile(config_dir_->Sub("recd.toml"), "f32_prefilter_min_rows = 1000\n");
  RestartDaemon();
  Keys gold = Onboard("gold", "premium");
  Keys silver = Onboard("silver");
  ASSERT_EQ(Upload("gold", "v1", spec).status, 201);
  ASSERT_EQ(Upload("silver", "v1", spec).status, 201);
  for (const char* tenant : {"basic", "gold", "silver"}) {
    ASSERT_EQ(Activate(tenant, "v1").status, 200);
  }
  // The copies are verified on the background pool once a model goes live (at activation for
  // premium, on first use for standard) and used from then on; until then the float32 scan
  // answers. Put silver's model in use, then wait for both verifications.
  Ingest(silver.ingest, "warm-up", {"sku-1"});
  ASSERT_EQ(Recommend(silver.server, R"({"user":"warm-up"})").status, 200);
  const std::string bytes = R"(recd_models_live{measure="prefilter_bytes"})";
  ASSERT_EQ(AwaitGauge(daemon_.port(), bytes, 2.0 * 5000 * (64 + 4)), 2.0 * 5000 * (64 + 4));
  const std::string proved_series = R"(recd_scoring_prefilter_queries_total{result="proved"})";
  const std::string full_series = R"(recd_scoring_prefilter_queries_total{result="full_scan"})";
  const double proved_before = GaugeValue(daemon_.port(), proved_series);
  const double full_before = GaugeValue(daemon_.port(), full_series);
  const std::vector<std::vector<uint32_t>> histories = {{10}, {10, 20, 30}, {7, 4000, 4999}};
  for (size_t u = 0; u < histories.size(); ++u) {
    const std::string user = "u" + std::to_string(u);
    std::vector<std::string> items;
    for (uint32_t r : histories[u]) items.push_back("sku-" + std::to_string(r));
    for (const Keys* keys : {&basic, &gold, &silver}) Ingest(keys->ingest, user, items);
    for (int k : {1, 10, 100}) {
      const std::string body = R"({"user":")" + user + R"(","k":)" + std::to_string(k) + "}";
      // Everything from "items" up to the request id: items and scores, byte for byte.
      auto ranked = [](const std::string& b) {
        const size_t from = b.find("\"items\"");
        return b.substr(from, b.find("\"request_id\"") - from);
      };
      HttpResult full = Recommend(basic.server, body);
      ASSERT_EQ(full.status, 200) << full.body;
      EXPECT_EQ(Strategy(full), "personalized");
      EXPECT_EQ(Items(full), ExpectedTopK(spec, histories[u], k)) << user << " k=" << k;
      for (const Keys* keys : {&gold, &silver}) {
        HttpResult through = Recommend(keys->server, body);
        ASSERT_EQ(through.status, 200) << through.body;
        EXPECT_EQ(ranked(through.body), ranked(full.body)) << user << " k=" << k;
      }
    }
  }
  // The premium and the standard tenant's nine queries each went through their copies (the
  // standard one mapped on first use), basic's through none; these scores are far apart.
  const double proved = GaugeValue(daemon_.port(), proved_series) - proved_before;
  const double full = GaugeValue(daemon_.port(), full_series) - full_before;
  EXPECT_EQ(proved + full, 18.0);
  EXPECT_GE(proved, 16.0);
}

// Map time reads no catalogue-sized data, so a copy damaged on disk after import is found by
// its checksum when the model goes live: the model is then served by the full float32 scan,
// with the same answers, and the log says why.
TEST_F(PrefilterTest, ACopyDamagedOnDiskIsNotUsedAndTheAnswersStayExact) {
  const mt::FolderSpec spec = Spec(9, 5000, 32);
  mt::WriteFile(config_dir_->Sub("recd.toml"), "f32_prefilter_min_rows = 1000\n");
  RestartDaemon();
  Keys gold = Onboard("gold", "premium");
  ASSERT_EQ(Upload("gold", "v1", spec).status, 201);
  ASSERT_EQ(Activate("gold", "v1").status, 200);
  Ingest(gold.ingest, "u1", {"sku-10", "sku-20"});
  const std::string body = R"({"user":"u1","k":10})";
  const std::vector<std::string> want = ExpectedTopK(spec, {10, 20}, 10);
  EXPECT_EQ(Items(Recommend(gold.server, body)), want);
  const std::string bytes = R"(recd_models_live{measure="prefilter_bytes"})";
  EXPECT_EQ(AwaitGauge(daemon_.port(), bytes, 5000.0 * (64 + 4)), 5000.0 * (64 + 4));

  int damaged = 0;
  RestartDaemon([&] {
    // The int8 matrix is the file's last section: flip its last byte (row padding, which the
    // section checksum covers like any other byte).
    for (const auto& e : std::filesystem::recursive_directory_iterator(daemon_.data_dir())) {
      if (e.path().extension() != ".recdm") continue;
      std::string bytes = mt::ReadFile(e.path().string());
      bytes.back() = static_cast<char>(bytes.back() ^ 1);
      mt::WriteFile(e.path().string(), bytes);
      ++damaged;
    }
  });
  ASSERT_EQ(damaged, 1);
  // The verification runs on the background pool after start: wait for its verdict.
  for (int i = 0; i < 2000 && daemon_.Log().find("int8 prefilter not used") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(daemon_.Log().find("section matrix_i8 checksum mismatch"), std::string::npos)
      << daemon_.Log();
  HttpResult r = Recommend(gold.server, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Items(r), want);
  EXPECT_EQ(GaugeValue(daemon_.port(), bytes), 0.0);
  EXPECT_EQ(GaugeValue(daemon_.port(), R"(recd_scoring_prefilter_queries_total{result="proved"})"),
            0.0);
}

class UploadLimitTest : public RecommendTest {
 protected:
  void SetUp() override { StartWithConfig("max_concurrent_uploads = 1\n"); }
};

TEST_F(UploadLimitTest, UploadsBeyondTheLimitAre503) {
  Onboard("acme");
  // A first upload that stays in progress: headers and part of its body.
  RawConnection upload(daemon_.port());
  const std::string head = std::string("PUT /v1/admin/tenants/acme/models/slow HTTP/1.1\r\n") +
                           "Host: x\r\nAuthorization: Bearer " + DaemonProcess::kAdminToken +
                           "\r\nContent-Type: application/x-tar\r\nContent-Length: 100000\r\n\r\n" +
                           std::string(512, '\0');
  upload.Send(head);
  ASSERT_EQ(AwaitGauge(daemon_.port(), "recd_http_active_uploads", 1), 1);

  HttpResult r = Upload("acme", "v1", Spec(1));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "overloaded");
  EXPECT_FALSE(r.Header("retry-after").empty());

  upload.Close();  // the abandoned upload frees its slot
  ASSERT_EQ(AwaitGauge(daemon_.port(), "recd_http_active_uploads", 0), 0);
  client_->Close();  // the refusal closed it
  EXPECT_EQ(Upload("acme", "v1", Spec(1)).status, 201);
}

// `recd model check FOLDER`: the upload's validation, offline, with the same messages.
TEST(ModelCheckCommand, AcceptsGoodFoldersAndNamesTheProblemOfBadOnes) {
  mt::TempDir dir;
  mt::WriteGoodFolder(dir.Sub("good"), Spec(1));
  mt::WriteGoodFolder(dir.Sub("bad"), Spec(1));
  mt::WriteFile(dir.Sub("bad") + "/items.txt", mt::ItemsText(mt::MakeIds(199)));
  auto run = [](const std::string& args, std::string* out) {
    FILE* p = ::popen((std::string(RECD_BINARY) + " model check " + args + " 2>&1").c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
    return WEXITSTATUS(::pclose(p));
  };
  std::string out;
  EXPECT_EQ(run(dir.Sub("good"), &out), 0) << out;
  EXPECT_NE(out.find("ok: item_embeddings dot float32, dim 24, 200 items"), std::string::npos) << out;
  EXPECT_EQ(out.find("prefilter"), std::string::npos) << "200 items are below the default";
  out.clear();
  EXPECT_EQ(run(dir.Sub("good") + " --prefilter-min-rows 200", &out), 0) << out;
  EXPECT_NE(out.find("(with the int8 prefilter copy)"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run(dir.Sub("good") + " --prefilter-min-rows -1", &out), 2) << "a usage error";
  EXPECT_NE(out.find("--prefilter-min-rows needs an integer"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run(dir.Sub("bad"), &out), 1) << out;
  EXPECT_NE(out.find("items.txt"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run(dir.Sub("good") + " --max-model-bytes 1000", &out), 1) << out;
  out.clear();
  EXPECT_EQ(run(dir.Sub("missing"), &out), 1) << out;
}

}  // namespace
}  // namespace recd::testing
