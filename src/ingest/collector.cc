#include "ingest/collector.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "metering/usage_meter.h"
#include "storage/tenant_key.h"
#include "util/coding.h"
#include "util/json_writer.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::ingest {
namespace {

constexpr std::string_view kSeqHwmKey = "seq_hwm";
constexpr std::string_view kPopularityState = "popularity";
// The newest log key popularity no longer counts (expired), checkpointed with it.
constexpr std::string_view kExpiredState = "popularity_expired";
// Events taken out of popularity per hold of expire_mu_ during an expiry pass.
constexpr size_t kExpireChunk = 4096;
// Values of Collector::next_expiry_ms_ other than a time: no event can expire (none past the
// last pass), or unknown (look on the next pass).
constexpr int64_t kNoExpiry = std::numeric_limits<int64_t>::max();
constexpr int64_t kLookForExpiry = std::numeric_limits<int64_t>::min();
constexpr uint64_t kSeqBlock = 1 << 20;
constexpr int64_t kIdempotencyWindowMs = 24 * 3600 * 1000;

std::string StateKey(TenantIid tid, std::string_view name) { return storage::TenantKey(tid, name); }

std::string IdempotencyKey(TenantIid tid, std::string_view key) {
  return storage::TenantKey(tid, key);
}

// The log and the impressions (same key layout): past the tenant's retention cutoff, or of an
// offboarded tenant. The log also waits until popularity no longer counts an event (its
// checkpointed expiry point); popularity never counts impressions.
class LogDrop final : public storage::DropPredicate {
 public:
  LogDrop(const Retention* r, bool wait_for_popularity)
      : retention_(r), wait_for_popularity_(wait_for_popularity) {}
  bool ShouldDrop(std::string_view key, std::string_view) const override {
    const std::optional<int64_t> received = LogKeyReceived(key);
    if (!received) return false;
    const TenantIid tid = storage::KeyTenant(key);
    const int64_t cutoff = retention_->CutoffMs(tid);
    if (cutoff == std::numeric_limits<int64_t>::max()) return true;  // offboarded
    return *received < cutoff &&
           (!wait_for_popularity_ || retention_->LogKeyExpiredThrough(tid, key));
  }

 private:
  const Retention* retention_;
  const bool wait_for_popularity_;
};

class IdempotencyDrop final : public storage::DropPredicate {
 public:
  explicit IdempotencyDrop(const util::Clock* clock) : clock_(clock) {}
  bool ShouldDrop(std::string_view, std::string_view value) const override {
    uint64_t at = 0;
    if (!util::GetVarint64(&value, &at)) return false;
    return clock_->NowMs() - static_cast<int64_t>(at) >= kIdempotencyWindowMs;
  }

 private:
  const util::Clock* clock_;
};

class HistoryDrop final : public storage::DropPredicate {
 public:
  explicit HistoryDrop(const Retention* r) : retention_(r) {}
  bool ShouldDrop(std::string_view key, std::string_view value) const override {
    int64_t received = 0;
    if (!DecodeHistoryReceived(key, value, &received)) return false;  // keep what we cannot read
    return received < retention_->CutoffMs(storage::KeyTenant(key));
  }

 private:
  const Retention* retention_;
};

void WriteExportLine(std::string* out, const Event& e) {
  util::JsonWriter w(out);
  w.BeginObject().Key("user").String(e.user).Key("item").String(e.item).Key("type").String(e.type);
  w.Key("ts").Int(e.ts).Key("received").Int(e.received);
  if (!e.request_id.empty()) w.Key("request_id").String(e.request_id);
  w.EndObject();
  out->push_back('\n');
}


}  // namespace

// ---- Retention ----

void Retention::SetLookup(Lookup lookup) {
  absl::MutexLock lock(&mu_);
  lookup_ = std::move(lookup);
}

int64_t Retention::CutoffMs(TenantIid tid) const {
  std::optional<int64_t> retention;
  {
    // Compaction calls this for every key: call the lookup under a shared lock instead of
    // copying the std::function out. Readers never wait on each other, the lookup only reads
    // in-memory snapshots, and the exclusive side (SetLookup) runs once at start.
    absl::ReaderMutexLock lock(&mu_);
    if (!lookup_) return std::numeric_limits<int64_t>::min();
    retention = lookup_(tid);
  }
  // An unknown tenant was offboarded: its range tombstones already hide everything.
  if (!retention) return std::numeric_limits<int64_t>::max();
  return clock_->NowMs() - *retention;
}

void Retention::SetExpiredThrough(TenantIid tid, std::string log_key) {
  absl::MutexLock lock(&expired_mu_);
  expired_through_[tid] = std::move(log_key);
}

void Retention::ForgetTenant(TenantIid tid) {
  absl::MutexLock lock(&expired_mu_);
  expired_through_.erase(tid);
}

bool Retention::LogKeyExpiredThrough(TenantIid tid, std::string_view log_key) const {
  absl::MutexLock lock(&expired_mu_);
  auto it = expired_through_.find(tid);
  return it != expired_through_.end() && log_key <= it->second;
}

std::shared_ptr<const storage::DropPredicate> Retention::EventsPredicate() const {
  return std::make_shared<LogDrop>(this, /*wait_for_popularity=*/true);
}

std::shared_ptr<const storage::DropPredicate> Retention::ImpressionsPredicate() const {
  return std::make_shared<LogDrop>(this, /*wait_for_popularity=*/false);
}

std::shared_ptr<const storage::DropPredicate> Retention::HistoryPredicate() const {
  return std::make_shared<HistoryDrop>(this);
}

std::shared_ptr<const storage::DropPredicate> Retention::IdempotencyPredicate() const {
  return std::make_shared<IdempotencyDrop>(clock_);
}

// ---- WalSyncer ----

WalSyncer::WalSyncer(storage::Db* db) : db_(db), thread_([this] { Run(); }) {}

WalSyncer::~WalSyncer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::Status WalSyncer::Sync() {
  absl::MutexLock lock(&mu_);
  struct Waiter {
    WalSyncer* syncer;
    uint64_t mine;
  } waiter{this, ++requested_};
  const uint64_t mine = waiter.mine;
  mu_.Await(absl::Condition(
      +[](Waiter* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return w->syncer->done_ >= w->mine || w->syncer->stop_;
      },
      &waiter));
  return done_ >= mine ? last_ : absl::UnavailableError("shutting down before the WAL sync");
}

void WalSyncer::Run() {
  for (;;) {
    uint64_t target;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WalSyncer* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->stop_ || s->requested_ > s->done_;
          },
          this));
      if (stop_ && requested_ == done_) return;
      target = requested_;
    }
    // One fsync covers every request made before it started.
    absl::Status st = db_->SyncWal();
    absl::MutexLock lock(&mu_);
    last_ = st;
    done_ = target;
  }
}

// ---- PriorityWriter ----

PriorityWriter::PriorityWriter(storage::Db* db) : db_(db), thread_([this] { Run(); }) {}

PriorityWriter::~PriorityWriter() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::Status PriorityWriter::Write(storage::Batch& batch) {
  // A thread's nice is fixed when its pool starts it. Nice-0 callers (enterprise pools, the
  // control pool, tools) commit directly: the hand-off costs a wake-up per batch (measured
  // about 100 us on a busy 2-core box), worth paying only to keep niced threads out of
  // RocksDB's write path.
  static thread_local const bool niced =
      ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))) > 0;
  if (!niced) return db_->Write(batch, /*sync=*/false);
  Job job{&batch, absl::OkStatus(), false};
  absl::MutexLock lock(&mu_);
  if (stop_) return absl::UnavailableError("shutting down");
  queue_.push_back(&job);
  mu_.Await(absl::Condition(&job.done));
  return job.status;
}

void PriorityWriter::Run() {
  pthread_setname_np(pthread_self(), "recd-writer");
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](PriorityWriter* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return w->stop_ || !w->queue_.empty();
        },
        this));
    if (queue_.empty()) return;  // stopping and drained
    Job* job = queue_.front();
    queue_.pop_front();
    mu_.Unlock();
    absl::Status st = db_->Write(*job->batch, /*sync=*/false);
    mu_.Lock();
    job->status = std::move(st);
    job->done = true;
  }
}

// ---- Collector ----

Collector::Collector(storage::Db* db, const util::Clock* clock, Retention* retention,
                     CollectorOptions options)
    : db_(db),
      clock_(clock),
      retention_(retention),
      options_(std::move(options)),
      popularity_(options_.popularity),
      syncer_(db),
      writer_(db) {}

absl::StatusOr<std::unique_ptr<Collector>> Collector::Open(storage::Db* db,
                                                           const util::Clock* clock,
                                                           Retention* retention,
                                                           CollectorOptions options) {
  std::unique_ptr<Collector> c(new Collector(db, clock, retention, std::move(options)));
  RECD_RETURN_IF_ERROR(c->Recover());
  if (c->options_.checkpoint_interval_ms > 0) {
    c->checkpointer_ = std::thread([p = c.get()] { p->CheckpointLoop(); });
  }
  return c;
}

Collector::~Collector() {
  stop_expiry_.store(true);
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  absl::Status st = Checkpoint();
  if (!st.ok()) RECD_LOG(Error) << "final popularity checkpoint: " << st;
}

absl::Status Collector::Recover() {
  RECD_ASSIGN_OR_RETURN(auto hwm, db_->Get(storage::Cf::kMeta, kSeqHwmKey));
  {
    absl::MutexLock lock(&seq_mu_);
    next_seq_ = seq_limit_ = hwm && hwm->size() == 8 ? util::DecodeFixed64BE(hwm->data()) : 0;
  }
  // Walk the tenants present in the log, one seek per tenant.
  auto it = db_->NewIterator(storage::Cf::kEvents);
  std::string seek;
  size_t tenants = 0;
  for (it.Seek(seek); it.Valid(); it.Seek(seek)) {
    const TenantIid tid = storage::KeyTenant(it.key());
    std::string from;  // empty: the tenant's whole log
    std::optional<std::string> expired;
    RECD_ASSIGN_OR_RETURN(auto state, db_->Get(storage::Cf::kState, StateKey(tid, kPopularityState)));
    RECD_ASSIGN_OR_RETURN(expired, db_->Get(storage::Cf::kState, StateKey(tid, kExpiredState)));
    if (state) {
      std::string_view in(*state);
      std::string_view position;
      // A checkpoint from before expiry was tracked may count events compaction has removed
      // since: rebuild from the log, which holds exactly the events not yet dropped.
      if (expired && util::GetLengthPrefixed(&in, &position) && popularity_.Restore(tid, in).ok()) {
        from = std::string(position);
      } else {
        RECD_LOG(Warning) << "tenant " << tid << ": popularity checkpoint unusable, rebuilding";
        popularity_.DropTenant(tid);
        expired.reset();
      }
    }
    {
      absl::MutexLock lock(&seq_mu_);
      if (expired && !expired->empty()) {
        expired_[tid] = *expired;
        retention_->SetExpiredThrough(tid, *std::move(expired));
      }
      next_expiry_ms_[tid] = kLookForExpiry;
    }
    RECD_RETURN_IF_ERROR(ReplayTenant(tid, from));
    ++tenants;
    seek = storage::PrefixSuccessor(storage::TenantKey(tid));
    if (seek.empty()) break;
  }
  RECD_RETURN_IF_ERROR(it.status());
  if (tenants > 0) RECD_LOG(Info) << "popularity recovered for " << tenants << " tenants";
  return absl::OkStatus();
}

absl::Status Collector::ReplayTenant(TenantIid tid, std::string_view from_key) {
  const std::string prefix = storage::TenantKey(tid);
  const std::string end = storage::PrefixSuccessor(prefix);
  auto it = db_->NewIterator(storage::Cf::kEvents, nullptr, end);
  if (from_key.empty()) {
    it.Seek(prefix);
  } else {
    it.Seek(from_key);
    if (it.Valid() && it.key() == from_key) it.Next();  // already counted
  }
  std::string last(from_key);
  size_t n = 0;
  for (; it.Valid(); it.Next()) {
    RECD_ASSIGN_OR_RETURN(Event e, DecodeLog(it.key(), it.value()));
    popularity_.Add(tid, e.item, e.type, e.ts);
    last.assign(it.key());
    ++n;
  }
  RECD_RETURN_IF_ERROR(it.status());
  absl::MutexLock lock(&seq_mu_);
  if (!last.empty()) {
    position_[tid] = last;
    const int64_t received = LogKeyReceived(last).value_or(0);
    int64_t prev = last_received_.load();
    while (received > prev && !last_received_.compare_exchange_weak(prev, received)) {
    }
  }
  if (n > 0) RECD_LOG(Debug) << "tenant " << tid << ": replayed " << n << " events";
  return absl::OkStatus();
}

absl::Status Collector::ReserveSeq(uint64_t n, uint64_t* first) {
  absl::MutexLock lock(&seq_mu_);
  if (next_seq_ + n > seq_limit_) {
    // Persist the new high-water mark before using any number under it, so a restart can
    // never hand out a sequence number twice.
    const uint64_t limit = next_seq_ + std::max(n, kSeqBlock);
    storage::Batch b = db_->NewBatch();
    std::string v;
    util::PutFixed64BE(&v, limit);
    b.Put(storage::Cf::kMeta, kSeqHwmKey, v);
    RECD_RETURN_IF_ERROR(db_->Write(b, /*sync=*/true));
    seq_limit_ = limit;
  }
  *first = next_seq_;
  next_seq_ += n;
  return absl::OkStatus();
}

absl::Status Collector::Append(TenantIid tid, std::vector<Event>* events, bool sync,
                               const Idempotent* idempotent, const metering::UsageDelta* usage) {
  RECD_RETURN_IF_ERROR(AppendCounted(tid, events, idempotent, usage));
  // Outside the append lock: a checkpoint waiting for it must not also wait out an fsync (nor
  // must the appends queued behind that checkpoint).
  if (sync) RECD_RETURN_IF_ERROR(syncer_.Sync());
  return absl::OkStatus();
}

absl::Status Collector::AppendCounted(TenantIid tid, std::vector<Event>* events,
                                      const Idempotent* idempotent,
                                      const metering::UsageDelta* usage) {
  absl::ReaderMutexLock shared(&append_mu_);
  uint64_t seq = 0;
  RECD_RETURN_IF_ERROR(ReserveSeq(events->size(), &seq));
  // received never goes backwards, so log keys only grow and a checkpoint position is exact.
  int64_t received = clock_->NowMs();
  int64_t prev = last_received_.load();
  while (true) {
    if (received < prev) received = prev;
    if (last_received_.compare_exchange_weak(prev, received)) break;
  }
  storage::Batch batch = db_->NewBatch();
  std::string last_key;
  for (Event& e : *events) {
    e.received = received;
    e.seq = seq++;
    last_key = LogKey(tid, e.received, e.seq);
    batch.Put(storage::Cf::kEvents, last_key, EncodeLogValue(e));
    batch.Put(storage::Cf::kHistory, HistoryKey(tid, e.user, e.ts, e.seq), EncodeHistoryValue(e));
  }
  if (idempotent != nullptr) {
    std::string v;
    util::PutVarint64(&v, static_cast<uint64_t>(received));
    v.append(idempotent->answer);
    batch.Put(storage::Cf::kIdempotency, IdempotencyKey(tid, idempotent->key), v);
  }
  if (usage != nullptr) metering::AddUsageMerges(&batch, tid, util::DayOfUnixMs(received), *usage);
  RECD_RETURN_IF_ERROR(writer_.Write(batch));
  for (const Event& e : *events) popularity_.Add(tid, e.item, e.type, e.ts);
  {
    absl::MutexLock lock(&seq_mu_);
    std::string& pos = position_[tid];
    if (last_key > pos) pos = std::move(last_key);
    auto [next, fresh] = next_expiry_ms_.try_emplace(tid, received);
    if (!fresh && next->second == kNoExpiry) next->second = received;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Collector::BeginIdempotent(TenantIid tid,
                                                                      std::string_view key) {
  const std::string k = IdempotencyKey(tid, key);
  {
    absl::MutexLock lock(&idem_mu_);
    if (!idem_in_flight_.insert(k).second) {
      return absl::FailedPreconditionError(
          "a batch with this Idempotency-Key is still being processed");
    }
  }
  auto stored = db_->Get(storage::Cf::kIdempotency, k);
  if (stored.ok() && stored->has_value()) {
    std::string_view v(**stored);
    uint64_t at = 0;
    if (util::GetVarint64(&v, &at) &&
        clock_->NowMs() - static_cast<int64_t>(at) < kIdempotencyWindowMs) {
      EndIdempotent(tid, key);
      return std::optional<std::string>(std::string(v));
    }
  }
  if (!stored.ok()) {
    EndIdempotent(tid, key);
    return stored.status();
  }
  return std::optional<std::string>();
}

void Collector::EndIdempotent(TenantIid tid, std::string_view key) {
  absl::MutexLock lock(&idem_mu_);
  idem_in_flight_.erase(IdempotencyKey(tid, key));
}

absl::StatusOr<std::vector<Event>> Collector::UserEvents(TenantIid tid, std::string_view user,
                                                         size_t limit) const {
  std::vector<Event> out;
  const std::string prefix = HistoryPrefix(tid, user);
  const int64_t cutoff = retention_->CutoffMs(tid);
  auto it = db_->NewIterator(storage::Cf::kHistory, nullptr, storage::PrefixSuccessor(prefix));
  for (it.Seek(prefix); it.Valid() && out.size() < limit; it.Next()) {
    Event e;
    RECD_RETURN_IF_ERROR(DecodeHistory(it.key(), it.value(), &e));
    if (e.received < cutoff) continue;
    e.user = user;
    out.push_back(std::move(e));
  }
  RECD_RETURN_IF_ERROR(it.status());
  return out;
}

absl::Status Collector::EraseUser(TenantIid tid, std::string_view user) {
  // Not during an expiry chunk: each event must be taken out of popularity once, by one of them.
  absl::MutexLock expiring(&expire_mu_);
  absl::ReaderMutexLock shared(&append_mu_);
  const std::string prefix = HistoryPrefix(tid, user);
  storage::Batch batch = db_->NewBatch();
  std::vector<Event> erased;
  auto it = db_->NewIterator(storage::Cf::kHistory, nullptr, storage::PrefixSuccessor(prefix));
  for (it.Seek(prefix); it.Valid(); it.Next()) {
    Event e;
    RECD_RETURN_IF_ERROR(DecodeHistory(it.key(), it.value(), &e));
    batch.Delete(storage::Cf::kHistory, it.key());
    batch.Delete(storage::Cf::kEvents, LogKey(tid, e.received, e.seq));
    erased.push_back(std::move(e));
  }
  RECD_RETURN_IF_ERROR(it.status());
  if (erased.empty()) return absl::OkStatus();
  // Erasure requests are rare and must be durable once answered.
  RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
  std::string expired;
  {
    absl::MutexLock lock(&seq_mu_);
    auto it = expired_.find(tid);
    if (it != expired_.end()) expired = it->second;
  }
  for (const Event& e : erased) {
    // An event already taken out on expiry must not be taken out twice.
    if (!expired.empty() && LogKey(tid, e.received, e.seq) <= expired) continue;
    popularity_.Add(tid, e.item, e.type, e.ts, -1);
  }
  return absl::OkStatus();
}

std::unique_ptr<ExportCursor> Collector::Export(TenantIid tid, int64_t from_ms,
                                                int64_t to_ms) const {
  const int64_t cutoff = retention_->CutoffMs(tid);
  return NewRangeCursor(
      db_, storage::Cf::kEvents, LogKey(tid, std::max<int64_t>(from_ms, 0), 0),
      LogKey(tid, to_ms, 0),
      [cutoff](std::string_view key, std::string_view value, std::string* out) -> absl::Status {
        RECD_ASSIGN_OR_RETURN(Event e, DecodeLog(key, value));
        if (e.received >= cutoff) WriteExportLine(out, e);  // else expired, not yet compacted
        return absl::OkStatus();
      });
}

void Collector::DropTenant(TenantIid tid) {
  absl::MutexLock expiring(&expire_mu_);
  popularity_.DropTenant(tid);
  retention_->ForgetTenant(tid);
  absl::MutexLock lock(&seq_mu_);
  position_.erase(tid);
  expired_.erase(tid);
  next_expiry_ms_.erase(tid);
}

absl::Status Collector::ExpireEvents() {
  std::vector<TenantIid> due;
  {
    absl::MutexLock lock(&seq_mu_);
    for (const auto& [tid, next] : next_expiry_ms_) {
      if (next != kNoExpiry) due.push_back(tid);
    }
  }
  absl::Status first_error;
  for (TenantIid tid : due) {
    if (stop_expiry_.load()) break;
    const int64_t cutoff = retention_->CutoffMs(tid);
    // max: offboarded (its data goes with the tenant); <= 0: no retention known yet, or a
    // clock set before the retention period (nothing can have expired).
    if (cutoff <= 0 || cutoff == std::numeric_limits<int64_t>::max()) continue;
    {
      absl::MutexLock lock(&seq_mu_);
      auto it = next_expiry_ms_.find(tid);
      if (it == next_expiry_ms_.end() || it->second >= cutoff) continue;
    }
    // One tenant's trouble must not stop expiry (and so compaction) for the others.
    absl::Status st = ExpireTenant(tid, cutoff);
    if (!st.ok()) {
      RECD_LOG(Warning) << "tenant " << tid << ": popularity expiry: " << st;
      if (first_error.ok()) first_error = st;
    }
  }
  return first_error;
}

absl::Status Collector::ExpireTenant(TenantIid tid, int64_t cutoff_ms) {
  const std::string end = LogKey(tid, cutoff_ms, 0);
  size_t taken = 0;
  for (bool more = true; more && !stop_expiry_.load();) {
    // A chunk at a time under expire_mu_: a checkpoint or an erasure waits for one chunk at
    // most, and sees popularity and the expiry key agree. Appends never wait: they add events
    // received after the cutoff, never one of these.
    absl::MutexLock expiring(&expire_mu_);
    std::string start;
    {
      absl::MutexLock lock(&seq_mu_);
      if (!next_expiry_ms_.contains(tid)) return absl::OkStatus();  // offboarded meanwhile
      auto it = expired_.find(tid);
      // The first key after the last one taken out (keys are fixed-size: append a zero byte).
      start = it != expired_.end() ? it->second + std::string(1, '\0') : LogKey(tid, 0, 0);
    }
    auto it = db_->NewIterator(storage::Cf::kEvents, nullptr, end);
    std::string last;
    std::vector<Event> chunk;
    for (it.Seek(start); it.Valid() && chunk.size() < kExpireChunk; it.Next()) {
      last.assign(it.key());
      absl::StatusOr<Event> e = DecodeLog(it.key(), it.value());
      if (!e.ok()) {
        // What cannot be read cannot be taken out; expiry moves past it rather than stall.
        RECD_LOG(Warning) << "tenant " << tid
                          << ": unreadable log record skipped by expiry: " << e.status();
        continue;
      }
      chunk.push_back(*std::move(e));
    }
    // The whole chunk is read before any of it is taken out: an error leaves popularity and
    // the expiry key as they were, so the next pass retries the same chunk.
    RECD_RETURN_IF_ERROR(it.status());
    more = it.Valid();
    for (const Event& e : chunk) popularity_.Add(tid, e.item, e.type, e.ts, -1);
    taken += chunk.size();
    if (!last.empty()) {
      absl::MutexLock lock(&seq_mu_);
      expired_[tid] = std::move(last);
    }
  }
  // When the next event expires: the first one at or after the cutoff. The slot is cleared
  // first, so an append that lands after the seek below sets it again (Append fills an empty
  // slot) and is not lost to this pass's answer.
  {
    absl::MutexLock lock(&seq_mu_);
    auto slot = next_expiry_ms_.find(tid);
    if (slot == next_expiry_ms_.end()) return absl::OkStatus();
    slot->second = kNoExpiry;
  }
  auto next = db_->NewIterator(storage::Cf::kEvents, nullptr,
                               storage::PrefixSuccessor(storage::TenantKey(tid)));
  next.Seek(end);
  if (!next.status().ok()) {
    absl::MutexLock lock(&seq_mu_);
    auto slot = next_expiry_ms_.find(tid);
    if (slot != next_expiry_ms_.end()) slot->second = kLookForExpiry;
    return next.status();
  }
  const int64_t next_ms = next.Valid() ? LogKeyReceived(next.key()).value_or(kNoExpiry) : kNoExpiry;
  {
    absl::MutexLock lock(&seq_mu_);
    auto slot = next_expiry_ms_.find(tid);
    if (slot != next_expiry_ms_.end()) slot->second = std::min(slot->second, next_ms);
  }
  if (taken > 0) RECD_LOG(Debug) << "tenant " << tid << ": " << taken << " events expired";
  return absl::OkStatus();
}

absl::Status Collector::Checkpoint() {
  absl::MutexLock expiring(&expire_mu_);
  absl::flat_hash_map<TenantIid, std::string> expired;
  {
    absl::WriterMutexLock exclusive(&append_mu_);
    storage::Batch batch = db_->NewBatch();
    absl::flat_hash_map<TenantIid, std::string> positions;
    {
      absl::MutexLock lock(&seq_mu_);
      positions = position_;
      expired = expired_;
    }
    for (const auto& [tid, position] : positions) {
      std::string v;
      util::PutLengthPrefixed(&v, position);
      v.append(popularity_.Serialize(tid));
      batch.Put(storage::Cf::kState, StateKey(tid, kPopularityState), v);
      auto it = expired.find(tid);
      batch.Put(storage::Cf::kState, StateKey(tid, kExpiredState),
                it == expired.end() ? std::string() : it->second);
    }
    if (batch.Count() == 0) return absl::OkStatus();
    RECD_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/false));
  }
  // Compaction may drop the log events this checkpoint stops counting, so the checkpoint must
  // be durable first (a power failure must not lose it while the events are gone). The fsync
  // runs outside the append lock: appends never wait on it (SPEC 7.5).
  RECD_RETURN_IF_ERROR(syncer_.Sync());
  for (auto& [tid, key] : expired) retention_->SetExpiredThrough(tid, std::move(key));
  return absl::OkStatus();
}

void Collector::CheckpointLoop() {
  absl::MutexLock lock(&stop_mu_);
  auto last_checkpoint = std::chrono::steady_clock::now();
  for (;;) {
    // Expiry every second (popularity is current within 1 s, SPEC 7.8), checkpoints at
    // their interval.
    stop_mu_.AwaitWithTimeout(
        absl::Condition(&stopping_),
        absl::Milliseconds(std::min<int64_t>(1000, options_.checkpoint_interval_ms)));
    if (stopping_) return;
    stop_mu_.Unlock();
    ExpireEvents().IgnoreError();  // each tenant's failure is logged where it happens
    const auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint >= std::chrono::milliseconds(options_.checkpoint_interval_ms)) {
      last_checkpoint = now;
      absl::Status st = Checkpoint();
      if (!st.ok()) RECD_LOG(Warning) << "popularity checkpoint: " << st;
    }
    stop_mu_.Lock();
  }
}

}  // namespace recd::ingest
