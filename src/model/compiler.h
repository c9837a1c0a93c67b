// Compilation of a validated model (model_folder.h) into one compiled model file
// (compiled_format.h, docs/formats/compiled_model.md). Thread-safe (no shared state); CPU- and
// I/O-heavy, so it runs on the background pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/compiled_model.h"
#include "model/model_folder.h"

namespace recd::model {

struct CompileOptions {
  int64_t created_unix_ms = 0;  // stored in the header, reported by ModelRepository::List
  uint64_t hash_seed = 0;       // seed of the id index hash
};

// Writes the compiled file at exactly `path`, which must not exist (O_EXCL), and fsyncs it.
// On failure the partial file is removed. Errors: Unavailable when the disk is full, Internal
// on other I/O failures.
absl::Status WriteCompiledModel(const LoadedModel& model, const std::string& path,
                                const CompileOptions& options);

// A compiled model written the way models are written once: under a hidden temporary name
// next to its destination (`<dir>/.<name>.tmp-<random>`, which ModelRepository::Open sweeps),
// fsynced, then mapped and its data checksum verified through the code that will serve it.
// Nothing appears under the destination until Commit; dropped uncommitted, it removes the
// temporary file. One owner; not thread-safe.
class StagedModel {
 public:
  // The destination's directory must exist. Errors: as WriteCompiledModel and
  // CompiledModel::Map, DataLoss if what was written does not read back.
  static absl::StatusOr<StagedModel> Write(const LoadedModel& model, const std::string& dest_path,
                                           const CompileOptions& options);
  StagedModel(StagedModel&& other) noexcept;
  StagedModel& operator=(StagedModel&&) = delete;
  ~StagedModel();

  // The verified file, mapped (also after Commit); released with this object.
  const CompiledModel& mapped() const { return *mapped_; }
  const std::string& dir() const { return dir_; }
  // Renames the file to its destination, never replacing an existing file (AlreadyExists,
  // and the temporary stays staged). The caller fsyncs dir() afterwards.
  absl::Status Commit();
  // Removes the temporary file now instead of at destruction (so the caller can remove the
  // directory). Idempotent; nothing to do after Commit.
  void Discard();

 private:
  StagedModel(std::string dir, std::string tmp, std::string dest,
              std::shared_ptr<const CompiledModel> mapped);
  std::string dir_, tmp_, dest_;  // tmp_ empty: committed or moved from
  std::shared_ptr<const CompiledModel> mapped_;
};

// Loads, validates and compiles `folder` into `dest_path` through StagedModel, then fsyncs
// the directory. Returns the file size. Errors: AlreadyExists if `dest_path` exists; as
// LoadModelFolder and StagedModel.
absl::StatusOr<uint64_t> CompileModelFolder(const std::string& folder, const std::string& dest_path,
                                            const ImportOptions& import_options,
                                            int64_t created_unix_ms);

// A random seed for the id index (std::random_device).
uint64_t RandomHashSeed();

}  // namespace recd::model
