// The collector: durable event appends (one RocksDB batch per request: log, per-user history,
// idempotency record), the user's latest events, erasure, export, retention and popularity.
// Thread-safe: pool threads call it concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "ingest/event.h"
#include "ingest/export_cursor.h"
#include "ingest/popularity.h"
#include "metering/usage_delta.h"
#include "storage/db.h"
#include "util/clock.h"

namespace recd::ingest {

// Which events are past retention. The lookup is installed once the registry is open; until
// then nothing is considered expired. Thread-safe (compaction threads call it); the lookup
// runs under a shared lock, so it must be quick and must not call back into Retention.
class Retention {
 public:
  explicit Retention(const util::Clock* clock) : clock_(clock) {}
  // Returns the tenant's retention in ms, or nullopt for a tenant that no longer exists.
  using Lookup = std::function<std::optional<int64_t>(TenantIid)>;
  void SetLookup(Lookup lookup);
  // Events received before this instant are expired (INT64_MIN: keep everything).
  int64_t CutoffMs(TenantIid tid) const;

  // The newest log key of the tenant whose event popularity no longer counts, as of the last
  // popularity checkpoint (Collector). Compaction drops an expired log event only at or below
  // it: one removed before its weight was taken back out (and checkpointed) would stay in
  // popularity for good.
  void SetExpiredThrough(TenantIid tid, std::string log_key);
  void ForgetTenant(TenantIid tid);
  // True when `log_key` is at or below the tenant's SetExpiredThrough key.
  bool LogKeyExpiredThrough(TenantIid tid, std::string_view log_key) const;

  std::shared_ptr<const storage::DropPredicate> EventsPredicate() const;
  std::shared_ptr<const storage::DropPredicate> HistoryPredicate() const;
  // Impressions share the log's key layout (tid + received + seq) and its retention.
  std::shared_ptr<const storage::DropPredicate> ImpressionsPredicate() const;
  // Idempotency records past their 24 h window (they answer nothing any more).
  std::shared_ptr<const storage::DropPredicate> IdempotencyPredicate() const;

 private:
  const util::Clock* clock_;
  mutable absl::Mutex mu_;
  Lookup lookup_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex expired_mu_;
  absl::flat_hash_map<TenantIid, std::string> expired_through_ ABSL_GUARDED_BY(expired_mu_);
};

// Group commit for `power` durability: a caller whose write is in the WAL asks for a sync and
// returns once a SyncWAL that began after its request completed. Writes that need no fsync
// never wait on one. Thread-safe.
class WalSyncer {
 public:
  explicit WalSyncer(storage::Db* db);
  ~WalSyncer();
  absl::Status Sync();

 private:
  void Run();
  storage::Db* db_;
  absl::Mutex mu_;
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Commits write batches on one thread at the process's normal priority (SPEC 7.6). Pool
// threads of lower tiers run niced; one that commits its own batch can become RocksDB's
// write-group leader and, starved by the scheduler, hold every other tier's writes behind it.
// Handing the batch to this thread (and waiting) keeps commits at nice 0. Construct it from a
// nice-0 thread (threads inherit their creator's nice). Thread-safe.
class PriorityWriter {
 public:
  explicit PriorityWriter(storage::Db* db);
  ~PriorityWriter();
  // Blocks until `batch` is in the WAL and memtable (no fsync). A caller that is not niced
  // writes it itself.
  absl::Status Write(storage::Batch& batch);

 private:
  struct Job {
    storage::Batch* batch;
    absl::Status status;
    bool done = false;
  };
  void Run();
  storage::Db* db_;
  absl::Mutex mu_;
  std::deque<Job*> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct CollectorOptions {
  PopularityWeights popularity;
  int64_t checkpoint_interval_ms = 30'000;
};

class Collector {
 public:
  // Restores popularity from its checkpoints and replays the log tail after them.
  static absl::StatusOr<std::unique_ptr<Collector>> Open(storage::Db* db, const util::Clock* clock,
                                                         Retention* retention,
                                                         CollectorOptions options);
  ~Collector();  // Writes a final popularity checkpoint.

  struct Idempotent {
    std::string key;
    std::string answer;  // the 200 body to replay for a repeat
  };
  // Stores the events (already validated; user/item/type/ts/request_id set) in one batch,
  // assigning received and seq. Returns after the WAL write, and after an fsync when `sync`.
  // `usage` (events accepted/rejected, bytes) is merged into the tenant's usage of the day of
  // `received` in the same batch, so billing is exact across crashes. `events` may be empty
  // (a batch of rejected events still bills its rejections).
  absl::Status Append(TenantIid tid, std::vector<Event>* events, bool sync,
                      const Idempotent* idempotent,
                      const metering::UsageDelta* usage = nullptr);

  // Idempotency (SPEC 7.5). Begin: 409 if the same key is in flight; else the stored answer of
  // an earlier success within 24 h, or nullopt (then End must follow).
  absl::StatusOr<std::optional<std::string>> BeginIdempotent(TenantIid tid, std::string_view key);
  void EndIdempotent(TenantIid tid, std::string_view key);

  // The user's newest `limit` events (newest first), expired ones skipped.
  absl::StatusOr<std::vector<Event>> UserEvents(TenantIid tid, std::string_view user,
                                                size_t limit) const;
  // Erases the user's events from history and log; cost proportional to the user's events.
  absl::Status EraseUser(TenantIid tid, std::string_view user);
  // Events with received in [from, to), oldest first, from one snapshot.
  std::unique_ptr<ExportCursor> Export(TenantIid tid, int64_t from_ms, int64_t to_ms) const;

  Popularity& popularity() { return popularity_; }
  void DropTenant(TenantIid tid);
  // Takes events past their tenant's retention back out of popularity (SPEC 7.8: over the
  // retained events). Runs every second on the checkpoint thread; public for tests.
  absl::Status ExpireEvents();
  // Writes every tenant's popularity with its log position and expiry point, then lets
  // compaction drop the log events that popularity no longer counts.
  absl::Status Checkpoint();

 private:
  Collector(storage::Db* db, const util::Clock* clock, Retention* retention,
            CollectorOptions options);
  absl::Status Recover();
  absl::Status ReplayTenant(TenantIid tid, std::string_view from_key);
  // Append up to the point where popularity counts the events (under the append lock).
  absl::Status AppendCounted(TenantIid tid, std::vector<Event>* events,
                             const Idempotent* idempotent, const metering::UsageDelta* usage);
  absl::Status ReserveSeq(uint64_t n, uint64_t* first);
  absl::Status ExpireTenant(TenantIid tid, int64_t cutoff_ms);
  void CheckpointLoop();

  storage::Db* const db_;
  const util::Clock* const clock_;
  Retention* const retention_;
  const CollectorOptions options_;
  Popularity popularity_;
  WalSyncer syncer_;
  PriorityWriter writer_;

  // Appends hold it shared from key assignment until popularity is updated; a checkpoint holds
  // it exclusively, so that it sees every assigned key committed and counted.
  absl::Mutex append_mu_;
  std::atomic<int64_t> last_received_{0};

  absl::Mutex seq_mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(seq_mu_) = 0;
  uint64_t seq_limit_ ABSL_GUARDED_BY(seq_mu_) = 0;
  // Per tenant, the newest log key counted in popularity: where a checkpoint's replay starts.
  absl::flat_hash_map<TenantIid, std::string> position_ ABSL_GUARDED_BY(seq_mu_);
  // Per tenant, the newest log key whose event was taken back out of popularity on expiry
  // (absent: none yet), and the `received` of the next event that can expire (kNoExpiry: none
  // known, kLookForExpiry: look), so that a pass over many idle tenants seeks nothing.
  absl::flat_hash_map<TenantIid, std::string> expired_ ABSL_GUARDED_BY(seq_mu_);
  absl::flat_hash_map<TenantIid, int64_t> next_expiry_ms_ ABSL_GUARDED_BY(seq_mu_);
  // Held by each expiry chunk, a checkpoint and an erasure: a checkpoint sees popularity and
  // the expiry keys agree, and an event is taken out once.
  absl::Mutex expire_mu_ ABSL_ACQUIRED_BEFORE(append_mu_);
  std::atomic<bool> stop_expiry_{false};

  absl::Mutex idem_mu_;
  absl::flat_hash_set<std::string> idem_in_flight_ ABSL_GUARDED_BY(idem_mu_);

  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread checkpointer_;
};

}  // namespace recd::ingest
