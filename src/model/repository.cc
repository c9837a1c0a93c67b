#include "model/repository.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"
#include "model/compiler.h"
#include "model/file_util.h"
#include "model/json_util.h"
#include "model/tar_reader.h"
#include "recd/status.h"
#include "util/log.h"
#include "util/strings.h"

namespace recd::model {
namespace {

constexpr std::string_view kSuffix = ".recdm";

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

bool IsTenantDirName(std::string_view name) {
  return name.size() == 8 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

ModelInfo InfoOf(std::string version, const CompiledModel& m) {
  ModelInfo info;
  info.version = std::move(version);
  info.kind = m.kind();
  info.metric = m.metric();
  info.precision = m.precision();
  info.dim = m.dim();
  info.items = m.rows();
  info.bytes = m.file_bytes();
  info.created_unix_ms = m.created_unix_ms();
  return info;
}

absl::Status CheckVersion(std::string_view version) {
  if (IsValidModelVersion(version)) return absl::OkStatus();
  return absl::InvalidArgumentError(util::StrCat("model version ", json_internal::Quote(version),
                                                 " is invalid: it must match "
                                                 "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"));
}

absl::Status Exists(std::string_view version) {
  return absl::AlreadyExistsError(util::StrCat("model version \"", version, "\" already exists"));
}

}  // namespace

bool IsValidModelVersion(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!alnum(v[0])) return false;
  return std::all_of(v.begin() + 1, v.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Open(const std::string& root,
                                                                       const util::Clock* clock) {
  RECD_RETURN_IF_ERROR(MakeDir(root));
  std::unique_ptr<ModelRepository> repo(new ModelRepository(root, clock));
  // Leftovers of a crash: extraction dirs, tenants half-removed, unpublished compiles. None
  // of them was ever visible under a version name, so removing them loses nothing.
  RECD_RETURN_IF_ERROR(RemoveTree(repo->TmpDir()));
  for (const std::string& name : ListDir(root)) {
    if (name.starts_with(".trash-")) RECD_RETURN_IF_ERROR(RemoveTree(root + "/" + name));
    if (!IsTenantDirName(name)) continue;
    for (const std::string& file : ListDir(root + "/" + name)) {
      if (file[0] == '.') RECD_RETURN_IF_ERROR(RemoveTree(root + "/" + name + "/" + file));
    }
  }
  RECD_RETURN_IF_ERROR(MakeDir(repo->TmpDir()));
  return repo;
}

std::string ModelRepository::TenantDir(TenantIid tenant_iid) const {
  return absl::StrFormat("%s/%08x", root_, tenant_iid);
}

std::string ModelRepository::VersionPath(TenantIid tenant_iid, std::string_view version) const {
  return util::StrCat(TenantDir(tenant_iid), "/", version, kSuffix);
}

absl::StatusOr<uint64_t> ModelRepository::BeginImport(TenantIid tenant_iid,
                                                      const std::string& version) {
  absl::MutexLock lock(&mu_);
  if (!importing_.emplace(tenant_iid, version).second) {
    return absl::AlreadyExistsError(
        util::StrCat("model version \"", version, "\" is already being imported"));
  }
  return removals_[tenant_iid];
}

void ModelRepository::EndImport(TenantIid tenant_iid, const std::string& version) {
  absl::MutexLock lock(&mu_);
  importing_.erase({tenant_iid, version});
}

absl::StatusOr<ModelInfo> ModelRepository::Publish(TenantIid tenant_iid, const std::string& version,
                                                   uint64_t generation, const std::string& folder,
                                                   const ImportOptions& options) {
  RECD_ASSIGN_OR_RETURN(LoadedModel model, LoadModelFolder(folder, options));
  const std::string dir = TenantDir(tenant_iid);
  const std::string final_path = VersionPath(tenant_iid, version);
  RECD_RETURN_IF_ERROR(MakeDir(dir));
  CompileOptions compile;
  compile.created_unix_ms = clock_->NowMs();
  compile.hash_seed = options.hash_seed.value_or(RandomHashSeed());
  RECD_ASSIGN_OR_RETURN(StagedModel staged, StagedModel::Write(model, final_path, compile));
  ModelInfo info = InfoOf(version, staged.mapped());

  {
    // The rename is the commit point; under the lock it cannot interleave with RemoveTenant
    // moving the tenant's folder away, so a removed tenant never gets a model back.
    absl::MutexLock lock(&mu_);
    if (removals_[tenant_iid] != generation) {
      staged.Discard();
      ::rmdir(dir.c_str());  // only if this import recreated it (then it is empty now)
      return absl::AbortedError("the tenant's models were removed during the import");
    }
    absl::Status renamed = staged.Commit();
    if (absl::IsAlreadyExists(renamed)) return Exists(version);
    RECD_RETURN_IF_ERROR(renamed);
  }
  RECD_RETURN_IF_ERROR(FsyncDir(dir));
  RECD_RETURN_IF_ERROR(FsyncDir(root_));
  RECD_LOG(Info) << "imported model " << final_path << " (" << info.items << " items, dim "
                 << info.dim << ", " << info.bytes << " bytes)";
  return info;
}

absl::StatusOr<ModelInfo> ModelRepository::ImportFolder(TenantIid tenant_iid,
                                                        std::string_view version,
                                                        const std::string& folder,
                                                        const ImportOptions& options) {
  RECD_RETURN_IF_ERROR(CheckVersion(version));
  const std::string v(version);
  if (PathExists(VersionPath(tenant_iid, v))) return Exists(v);
  RECD_ASSIGN_OR_RETURN(uint64_t generation, BeginImport(tenant_iid, v));
  absl::Cleanup end = [&] { EndImport(tenant_iid, v); };
  return Publish(tenant_iid, v, generation, folder, options);
}

absl::StatusOr<ModelInfo> ModelRepository::ImportTar(TenantIid tenant_iid, std::string_view version,
                                                     const std::string& tar_path,
                                                     const ImportOptions& options) {
  RECD_RETURN_IF_ERROR(CheckVersion(version));
  RECD_ASSIGN_OR_RETURN(std::unique_ptr<FileByteSource> source, FileByteSource::Open(tar_path));
  return ImportArchive(tenant_iid, version, *source, options);
}

absl::StatusOr<ModelInfo> ModelRepository::ImportTarStream(TenantIid tenant_iid,
                                                           std::string_view version,
                                                           ByteSource& archive,
                                                           const ImportOptions& options) {
  return ImportArchive(tenant_iid, version, archive, options);
}

absl::StatusOr<ModelInfo> ModelRepository::ImportArchive(TenantIid tenant_iid,
                                                         std::string_view version,
                                                         ByteSource& archive,
                                                         const ImportOptions& options) {
  RECD_RETURN_IF_ERROR(CheckVersion(version));
  const std::string v(version);
  if (PathExists(VersionPath(tenant_iid, v))) return Exists(v);
  RECD_ASSIGN_OR_RETURN(uint64_t generation, BeginImport(tenant_iid, v));
  absl::Cleanup end = [&] { EndImport(tenant_iid, v); };

  RECD_RETURN_IF_ERROR(MakeDir(TmpDir()));
  RECD_ASSIGN_OR_RETURN(std::string extract_dir, MakeTempDir(TmpDir(), "import-"));
  absl::Cleanup remove_extracted = [&] {
    absl::Status s = RemoveTree(extract_dir);
    if (!s.ok()) RECD_LOG(Warning) << "cannot remove " << extract_dir << ": " << s;
  };
  TarLimits limits;
  limits.max_total_bytes = options.max_archive_bytes != 0
                               ? options.max_archive_bytes
                               : 2 * options.max_model_bytes + (uint64_t{1} << 20);
  RECD_RETURN_IF_ERROR(ExtractModelArchive(archive, extract_dir, limits).status());
  return Publish(tenant_iid, v, generation, extract_dir, options);
}

absl::StatusOr<std::vector<ModelInfo>> ModelRepository::List(TenantIid tenant_iid) const {
  std::vector<ModelInfo> out;
  const std::string dir = TenantDir(tenant_iid);
  for (const std::string& name : ListDir(dir)) {
    if (!name.ends_with(kSuffix)) continue;
    std::string version = name.substr(0, name.size() - kSuffix.size());
    if (!IsValidModelVersion(version)) continue;  // temporaries start with '.'
    // Mapping reads only the header and summary pages; nothing catalogue-sized.
    auto mapped = CompiledModel::Map(dir + "/" + name, MapOptions{});
    if (mapped.ok()) {
      out.push_back(InfoOf(std::move(version), **mapped));
    } else {
      ModelInfo info;
      info.version = std::move(version);
      info.problem = std::string(mapped.status().message());
      RECD_LOG(Warning) << "model listing: " << info.problem;
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const ModelInfo& a, const ModelInfo& b) {
    return std::tie(a.created_unix_ms, a.version) < std::tie(b.created_unix_ms, b.version);
  });
  return out;
}

absl::StatusOr<ModelInfo> ModelRepository::Info(TenantIid tenant_iid,
                                                std::string_view version) const {
  RECD_ASSIGN_OR_RETURN(auto mapped, Open(tenant_iid, version, MapOptions{}));
  return InfoOf(std::string(version), *mapped);
}

absl::StatusOr<std::shared_ptr<const CompiledModel>> ModelRepository::Open(
    TenantIid tenant_iid, std::string_view version, const MapOptions& options) const {
  RECD_RETURN_IF_ERROR(CheckVersion(version));
  auto mapped = CompiledModel::Map(VersionPath(tenant_iid, version), options);
  if (absl::IsNotFound(mapped.status())) {
    return absl::NotFoundError(util::StrCat("model version \"", version, "\" not found"));
  }
  return mapped;
}

absl::Status ModelRepository::Remove(TenantIid tenant_iid, std::string_view version) {
  RECD_RETURN_IF_ERROR(CheckVersion(version));
  const std::string path = VersionPath(tenant_iid, version);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return IoError("unlink", path, errno);
  }
  return FsyncDir(TenantDir(tenant_iid));
}

absl::Status ModelRepository::RemoveTenant(TenantIid tenant_iid) {
  const std::string dir = TenantDir(tenant_iid);
  std::string trash;
  {
    // Moving the folder away under the lock is atomic with respect to import commits (see
    // Publish); the slow recursive delete happens outside it.
    absl::MutexLock lock(&mu_);
    ++removals_[tenant_iid];
    trash = absl::StrFormat("%s/.trash-%08x-%d", root_, tenant_iid, ++trash_counter_);
    if (std::rename(dir.c_str(), trash.c_str()) != 0) {
      if (errno == ENOENT) return absl::OkStatus();
      return IoError("rename", dir, errno);
    }
  }
  RECD_RETURN_IF_ERROR(FsyncDir(root_));
  return RemoveTree(trash);
}

}  // namespace recd::model
