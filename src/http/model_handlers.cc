// Control-plane routes of the model store (SPEC 2, 3, 7.3, 7.7): upload or import a version,
// list, activate, delete. Handlers run on the control pool, never on an I/O thread: an import
// reads, validates and compiles a whole model.
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "http/api.h"
#include "http/error_response.h"
#include "http/json_body.h"
#include "util/json_writer.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::http {
namespace {

constexpr uint64_t kMaxPathBodyBytes = 64 << 10;

void WriteModel(util::JsonWriter& w, const model::ModelInfo& m, bool active) {
  w.BeginObject()
      .Key("version").String(m.version)
      .Key("kind").String(model::KindName(m.kind))
      .Key("metric").String(model::MetricName(m.metric))
      .Key("dim").Uint(m.dim)
      .Key("items").Uint(m.items)
      .Key("bytes").Uint(m.bytes)
      .Key("precision").String(model::PrecisionName(m.precision))
      .Key("created").String(util::FormatIsoTimestamp(m.created_unix_ms))
      .Key("active").Bool(active);
  if (!m.problem.empty()) w.Key("problem").String(m.problem);
  w.EndObject();
}

std::string ModelEnvelope(const model::ModelInfo& m, bool active) {
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("model");
  WriteModel(w, m, active);
  w.EndObject();
  return out;
}

absl::Status CheckVersion(std::string_view version) {
  if (!model::IsValidModelVersion(version)) {
    return absl::InvalidArgumentError(
        "a model version matches [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  }
  return absl::OkStatus();
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

bool Within(const std::string& path, const std::string& root) {
  return root == "/" || path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
          path[root.size()] == '/');
}

// {"path": ...} names a folder on the server (SPEC 2). With model_root set, only below it:
// no `..`, and neither the folder nor any entry in it may resolve (through links) outside the
// root. Without it, any absolute folder recd can read (the route needs the admin token, who
// can upload any model anyway); `..` is still refused.
absl::StatusOr<std::string> ResolveImportPath(const ApiServices& s, const std::string& body_file) {
  const bool rooted = !s.model_root.empty();
  std::string body;
  {
    std::ifstream in(body_file, std::ios::binary);
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (body.size() > kMaxPathBodyBytes) {
    return TooLargeError("a {\"path\"} import body is at most 64 KiB");
  }
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  std::optional<std::string> path;
  RECD_RETURN_IF_ERROR(VisitJsonObject(body, [&](std::string_view key, JsonValue v) -> absl::Status {
    if (key != "path") return absl::InvalidArgumentError(util::StrCat("unknown field \"", key, "\""));
    RECD_ASSIGN_OR_RETURN(std::string_view p, GetString(v, "path"));
    path = std::string(p);
    return absl::OkStatus();
  }));
  if (!path || path->empty()) return absl::InvalidArgumentError("\"path\" is required");
  // The OS reads a path up to its first NUL: "/a\u0000b" would import /a. Control characters
  // are no part of a real model folder's name either.
  for (char ch : *path) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return absl::InvalidArgumentError("\"path\" must not contain control characters");
    }
  }
  for (std::string_view part : util::Split(*path, '/')) {
    if (part == "..") return absl::InvalidArgumentError("\"path\" must not contain \"..\"");
  }
  if (!rooted && (*path)[0] != '/') {
    return absl::InvalidArgumentError(
        "\"path\" must be absolute (relative paths need model_root in the config)");
  }
  const std::string root = rooted ? RealPath(s.model_root) : "/";
  if (root.empty()) {
    return absl::UnavailableError(util::StrCat("model_root ", s.model_root, " is not accessible"));
  }
  const std::string joined = (*path)[0] == '/' ? *path : s.model_root + "/" + *path;
  const std::string folder = RealPath(joined);
  if (folder.empty()) {
    return absl::InvalidArgumentError(util::StrCat("\"path\": ", *path, " does not exist"));
  }
  if (!Within(folder, root)) {
    return absl::PermissionDeniedError(util::StrCat("\"path\": ", *path, " is outside model_root"));
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (!entry.is_symlink()) continue;
    const std::string target = RealPath(entry.path().string());
    if (!target.empty() && !Within(target, root)) {
      return absl::PermissionDeniedError(util::StrCat(
          "\"path\": ", entry.path().filename().string(), " links outside model_root"));
    }
  }
  if (ec) {
    return absl::InvalidArgumentError(util::StrCat("\"path\": ", *path, " is not a readable folder"));
  }
  return folder;
}

Response PutModel(const ApiServices& s, Request& req) {
  auto tenant = s.registry->Get(req.params[0]);
  if (!tenant.ok()) return ErrorResponse(tenant.status());
  const std::string& version = req.params[1];
  absl::Status st = CheckVersion(version);
  if (!st.ok()) return ErrorResponse(st);
  const sched::Quotas quotas = s.tiers->Get()->QuotasFor((*tenant)->tier, (*tenant)->overrides);
  model::ImportOptions options;
  options.max_model_bytes = static_cast<uint64_t>(quotas.max_model_bytes);
  options.prefilter_min_rows = s.prefilter_min_rows;

  absl::StatusOr<model::ModelInfo> info;
  std::string_view media = req.Header("content-type").value_or("");
  media = media.substr(0, media.find(';'));
  if (util::EqualsIgnoreCase(util::StripWhitespace(media), "application/json")) {
    auto folder = ResolveImportPath(s, req.body_file);
    if (!folder.ok()) return ErrorResponse(folder.status());
    info = s.models->ImportFolder((*tenant)->iid, version, *folder, options);
  } else {
    info = s.models->ImportTar((*tenant)->iid, version, req.body_file, options);
  }
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(201, ModelEnvelope(*info, false));
}

Response ListModels(const ApiServices& s, Request& req) {
  auto tenant = s.registry->Get(req.params[0]);
  if (!tenant.ok()) return ErrorResponse(tenant.status());
  auto models = s.models->List((*tenant)->iid);
  if (!models.ok()) return ErrorResponse(models.status());
  std::string out;
  util::JsonWriter w(&out);
  w.BeginObject().Key("models").BeginArray();
  for (const auto& m : *models) WriteModel(w, m, m.version == (*tenant)->active_model);
  w.EndArray().EndObject();
  return JsonResponse(200, std::move(out));
}

Response ActivateModel(const ApiServices& s, Request& req) {
  absl::Status st = CheckVersion(req.params[1]);
  if (!st.ok()) return ErrorResponse(st);
  auto info = s.model_store->Activate(req.params[0], req.params[1]);
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, ModelEnvelope(*info, true));
}

Response DeleteModel(const ApiServices& s, Request& req) {
  absl::Status st = CheckVersion(req.params[1]);
  if (st.ok()) st = s.model_store->Remove(req.params[0], req.params[1]);
  if (!st.ok()) return ErrorResponse(st);
  Response r;
  r.status = 204;
  return r;
}

}  // namespace

void AddModelRoutes(Router* router, const ApiServices& services) {
  auto bind = [services](Response (*fn)(const ApiServices&, Request&)) {
    return [services, fn](Request& req, const CallContext&) { return fn(services, req); };
  };
  auto add = [&](Method m, std::string pattern, std::string name, BodyKind body,
                 Response (*fn)(const ApiServices&, Request&)) {
    router->Add(Route{m, std::move(pattern), std::move(name), Auth::kAdmin, body, false, bind(fn)});
  };
  add(Method::kPut, "/v1/admin/tenants/{id}/models/{version}", "admin_model_put", BodyKind::kFile,
      PutModel);
  add(Method::kGet, "/v1/admin/tenants/{id}/models", "admin_model_list", BodyKind::kNone,
      ListModels);
  add(Method::kPost, "/v1/admin/tenants/{id}/models/{version}/activate", "admin_model_activate",
      BodyKind::kNone, ActivateModel);
  add(Method::kDelete, "/v1/admin/tenants/{id}/models/{version}", "admin_model_delete",
      BodyKind::kNone, DeleteModel);
}

}  // namespace recd::http
