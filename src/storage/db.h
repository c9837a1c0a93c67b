// The one RocksDB of a recd data directory: column families, batches, iterators.
// rocksdb::Status becomes absl::Status here and nowhere else. Thread-safe: any thread may
// read, write or iterate concurrently (RocksDB's own guarantees).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recd/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace recd::storage {

// Column families. Every key of a tenant-data family starts with the 4-byte internal
// tenant id, so scoping, export and deletion are prefix operations.
enum class Cf : int {
  kMeta = 0,      // "default": counters (next tenant id, sequence high-water mark)
  kRegistry,      // external tenant id -> tenant record
  kKeys,          // tid + key_id -> key record
  kEvents,        // tid + received + seq -> event (the log, export order)
  kHistory,       // tid + user + 0 + ~ts + ~seq -> event (newest first per user)
  kImpressions,   // tid + served + seq -> served recommendation
  kUsage,         // tid + day + counter -> uint64 (merge: add)
  kIdempotency,   // tid + idempotency key -> stored answer
  kState,         // tid + name -> derived state checkpoints (popularity)
};
inline constexpr int kNumCfs = 9;
std::string_view CfName(Cf cf);

class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);  // [begin, end)
  void Merge(Cf cf, std::string_view key, std::string_view value);
  size_t Count() const;
  size_t ByteSize() const;

 private:
  friend class Db;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles_ = nullptr;
};

// A consistent read view; release by destruction.
class Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  friend class Db;
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snap) : db_(db), snap_(snap) {}
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

class Iterator {
 public:
  explicit Iterator(std::unique_ptr<rocksdb::Iterator> it);
  ~Iterator();
  void Seek(std::string_view key);
  void SeekForPrev(std::string_view key);
  bool Valid() const;
  void Next();
  void Prev();
  std::string_view key() const;
  std::string_view value() const;
  absl::Status status() const;

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Decides during compaction whether a key/value is dropped (retention, erasure). Called on
// RocksDB's background threads: must be thread-safe and must not block.
class DropPredicate {
 public:
  virtual ~DropPredicate() = default;
  virtual bool ShouldDrop(std::string_view key, std::string_view value) const = 0;
};

struct DbOptions {
  // Per family compaction-time drop rule (retention); may be null.
  std::shared_ptr<const DropPredicate> events_drop;
  std::shared_ptr<const DropPredicate> history_drop;
  std::shared_ptr<const DropPredicate> impressions_drop;
  std::shared_ptr<const DropPredicate> idempotency_drop;
  // Files older than this are recompacted, so filters see every key within the bound.
  uint64_t periodic_compaction_seconds = 0;
  size_t block_cache_bytes = 128 << 20;
};

class Db {
 public:
  // Opens or creates `<dir>` with every column family. Fails if another process holds it.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& dir, const DbOptions& options);
  ~Db();  // Flushes and closes cleanly.

  // `sync`: the WAL is fsynced before returning (power-loss durability).
  absl::Status Write(Batch& batch, bool sync);
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key,
                                                 const Snapshot* snapshot = nullptr) const;
  Iterator NewIterator(Cf cf, const Snapshot* snapshot = nullptr,
                       std::string_view upper_bound = {}) const;
  std::unique_ptr<Snapshot> GetSnapshot() const;
  Batch NewBatch() const;
  // Syncs the WAL (group commit for `power` durability).
  absl::Status SyncWal();
  absl::Status CompactRange(Cf cf, std::string_view begin, std::string_view end);
  absl::Status Flush();

 private:
  Db() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// The exclusive upper bound of all keys that start with `prefix` ("" if none exists).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace recd::storage
