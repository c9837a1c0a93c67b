// The per-tenant model repository of one data dir (SPEC 7.7):
//   <root>/<tenant internal id, 8 lowercase hex digits>/<version>.recdm
// Versions are immutable compiled files, written once (temporary file, fsync, rename, fsync
// of the directory). Which version is active is the control plane's business, not this one's.
//
// Thread-safety: every method may be called from any thread concurrently. Imports do their
// work outside the lock; the lock only guards the in-flight set and the final rename, so a
// version is published exactly once. Imports are slow (they read, validate and compile a
// whole model) and belong on the background pool. Bad input never leaves files behind.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/byte_source.h"
#include "model/compiled_model.h"
#include "model/model_folder.h"
#include "model/model_types.h"
#include "recd/types.h"
#include "util/clock.h"

namespace recd::model {

struct ModelInfo {
  std::string version;
  ModelKind kind = ModelKind::kItemEmbeddings;
  Metric metric = Metric::kDot;
  Precision precision = Precision::kFloat32;
  uint32_t dim = 0;
  uint32_t items = 0;
  uint64_t bytes = 0;           // compiled file size
  int64_t created_unix_ms = 0;  // when it was imported
  std::string problem;          // non-empty if the file no longer maps (then the rest is 0)
};

// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}` (SPEC 7.3).
bool IsValidModelVersion(std::string_view version);

class ModelRepository {
 public:
  // Creates `root` if needed and removes leftovers of interrupted imports. `clock` is
  // borrowed and stamps `created`.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Open(const std::string& root,
                                                               const util::Clock* clock);

  // Validates and compiles the model folder `folder` as `version` of the tenant.
  // Errors: InvalidArgument for a bad version or model (the message names the problem);
  // too_large (ResourceExhausted) above options.max_model_bytes; AlreadyExists if the
  // version exists or is being imported; Aborted if the tenant was removed meanwhile;
  // Unavailable when the disk is full.
  absl::StatusOr<ModelInfo> ImportFolder(TenantIid tenant_iid, std::string_view version,
                                         const std::string& folder, const ImportOptions& options);

  // The same from a tar archive (optionally gzipped): a file, or a stream read once.
  // Archive errors are InvalidArgument starting with "archive".
  absl::StatusOr<ModelInfo> ImportTar(TenantIid tenant_iid, std::string_view version,
                                      const std::string& tar_path, const ImportOptions& options);
  absl::StatusOr<ModelInfo> ImportTarStream(TenantIid tenant_iid, std::string_view version,
                                            ByteSource& archive, const ImportOptions& options);

  // The tenant's versions, oldest first (by created, then version). Unknown tenant: empty.
  absl::StatusOr<std::vector<ModelInfo>> List(TenantIid tenant_iid) const;
  // Errors: NotFound if absent.
  absl::StatusOr<ModelInfo> Info(TenantIid tenant_iid, std::string_view version) const;

  // Maps a version. Errors: InvalidArgument for a bad version, NotFound if absent, DataLoss
  // if the file is damaged.
  absl::StatusOr<std::shared_ptr<const CompiledModel>> Open(TenantIid tenant_iid,
                                                            std::string_view version,
                                                            const MapOptions& options) const;

  // Deletes a version's file (mapped copies stay valid until released). Absent is OK.
  absl::Status Remove(TenantIid tenant_iid, std::string_view version);
  // Deletes all of a tenant's versions; imports still running for it fail with Aborted.
  absl::Status RemoveTenant(TenantIid tenant_iid);

  const std::string& root() const { return root_; }
  std::string TenantDir(TenantIid tenant_iid) const;
  std::string VersionPath(TenantIid tenant_iid, std::string_view version) const;

 private:
  ModelRepository(std::string root, const util::Clock* clock)
      : root_(std::move(root)), clock_(clock) {}

  // Claims (tenant, version) for one import; returns the tenant's removal generation.
  absl::StatusOr<uint64_t> BeginImport(TenantIid tenant_iid, const std::string& version);
  void EndImport(TenantIid tenant_iid, const std::string& version);
  // Compiles a loaded, validated model and publishes it.
  absl::StatusOr<ModelInfo> Publish(TenantIid tenant_iid, const std::string& version,
                                    uint64_t generation, const std::string& folder,
                                    const ImportOptions& options);
  absl::StatusOr<ModelInfo> ImportArchive(TenantIid tenant_iid, std::string_view version,
                                          ByteSource& archive, const ImportOptions& options);
  std::string TmpDir() const { return root_ + "/.tmp"; }

  const std::string root_;
  const util::Clock* clock_;
  mutable absl::Mutex mu_;
  std::set<std::pair<TenantIid, std::string>> importing_ ABSL_GUARDED_BY(mu_);
  std::map<TenantIid, uint64_t> removals_ ABSL_GUARDED_BY(mu_);
  uint64_t trash_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recd::model
