// Compilation of a validated model (model_folder.h) into one compiled model file
// (compiled_format.h, docs/formats/compiled_model.md). Thread-safe (no shared state); CPU- and
// I/O-heavy, so it runs on the background pool.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

// Loads, validates and compiles `folder` into `dest_path` the way models are written once:
// a temporary file next to the destination, fsync, re-validation of what was written, a
// rename that never replaces an existing file (AlreadyExists), fsync of the directory.
// Returns the file size. Errors: as LoadModelFolder and WriteCompiledModel.
absl::StatusOr<uint64_t> CompileModelFolder(const std::string& folder, const std::string& dest_path,
                                            const ImportOptions& import_options,
                                            int64_t created_unix_ms);

// A random seed for the id index (std::random_device).
uint64_t RandomHashSeed();

}  // namespace recd::model
