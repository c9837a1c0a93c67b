#include "storage/db.h"

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include <cstring>

#include "util/log.h"

namespace recd::storage {
namespace {

absl::Status Convert(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = "storage: " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNoSpace() || s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Usage counters are 8-byte little-endian integers; a merge adds them.
class AddUint64 final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    uint64_t a = 0, b = 0;
    if (existing != nullptr) {
      if (existing->size() != 8) return false;
      std::memcpy(&a, existing->data(), 8);
    }
    if (value.size() != 8) return false;
    std::memcpy(&b, value.data(), 8);
    a += b;
    new_value->assign(reinterpret_cast<const char*>(&a), 8);
    return true;
  }
  const char* Name() const override { return "recd.AddUint64"; }
};

class PredicateFilter final : public rocksdb::CompactionFilter {
 public:
  explicit PredicateFilter(const DropPredicate* predicate) : predicate_(predicate) {}
  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    return predicate_->ShouldDrop({key.data(), key.size()}, {value.data(), value.size()});
  }
  const char* Name() const override { return "recd.PredicateFilter"; }

 private:
  const DropPredicate* predicate_;
};

class PredicateFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  explicit PredicateFilterFactory(std::shared_ptr<const DropPredicate> predicate)
      : predicate_(std::move(predicate)) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<PredicateFilter>(predicate_.get());
  }
  const char* Name() const override { return "recd.PredicateFilterFactory"; }

 private:
  std::shared_ptr<const DropPredicate> predicate_;
};

}  // namespace

std::string_view CfName(Cf cf) {
  static constexpr std::string_view kNames[kNumCfs] = {
      "default", "registry", "keys", "events", "history",
      "impressions", "usage", "idempotency", "state"};
  return kNames[static_cast<int>(cf)];
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xff) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

// ---- Batch ----
Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::Put(Cf cf, std::string_view key, std::string_view value) {
  RECD_CHECK(batch_->Put((*handles_)[static_cast<int>(cf)], ToSlice(key), ToSlice(value)).ok());
}
void Batch::Delete(Cf cf, std::string_view key) {
  RECD_CHECK(batch_->Delete((*handles_)[static_cast<int>(cf)], ToSlice(key)).ok());
}
void Batch::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  RECD_CHECK(
      batch_->DeleteRange((*handles_)[static_cast<int>(cf)], ToSlice(begin), ToSlice(end)).ok());
}
void Batch::Merge(Cf cf, std::string_view key, std::string_view value) {
  RECD_CHECK(batch_->Merge((*handles_)[static_cast<int>(cf)], ToSlice(key), ToSlice(value)).ok());
}
size_t Batch::Count() const { return batch_->Count(); }
size_t Batch::ByteSize() const { return batch_->GetDataSize(); }

// ---- Snapshot / Iterator ----
Snapshot::~Snapshot() { db_->ReleaseSnapshot(snap_); }

Iterator::Iterator(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
Iterator::~Iterator() = default;
void Iterator::Seek(std::string_view key) { it_->Seek(ToSlice(key)); }
void Iterator::SeekForPrev(std::string_view key) { it_->SeekForPrev(ToSlice(key)); }
bool Iterator::Valid() const { return it_->Valid(); }
void Iterator::Next() { it_->Next(); }
void Iterator::Prev() { it_->Prev(); }
std::string_view Iterator::key() const {
  auto k = it_->key();
  return {k.data(), k.size()};
}
std::string_view Iterator::value() const {
  auto v = it_->value();
  return {v.data(), v.size()};
}
absl::Status Iterator::status() const { return Convert(it_->status()); }

// ---- Db ----
absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& dir, const DbOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 256 << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.write_buffer_size = 32 << 20;
    if (options.periodic_compaction_seconds > 0) {
      cf_options.periodic_compaction_seconds = options.periodic_compaction_seconds;
    }
    auto cf = static_cast<Cf>(i);
    if (cf == Cf::kUsage) cf_options.merge_operator = std::make_shared<AddUint64>();
    if (cf == Cf::kEvents && options.events_drop) {
      cf_options.compaction_filter_factory =
          std::make_shared<PredicateFilterFactory>(options.events_drop);
    }
    if (cf == Cf::kIdempotency && options.idempotency_drop) {
      cf_options.compaction_filter_factory =
          std::make_shared<PredicateFilterFactory>(options.idempotency_drop);
    }
    if (cf == Cf::kImpressions && options.impressions_drop) {
      cf_options.compaction_filter_factory =
          std::make_shared<PredicateFilterFactory>(options.impressions_drop);
    }
    if (cf == Cf::kHistory && options.history_drop) {
      cf_options.compaction_filter_factory =
          std::make_shared<PredicateFilterFactory>(options.history_drop);
    }
    descriptors.emplace_back(std::string(CfName(cf)), cf_options);
  }

  rocksdb::DB* raw = nullptr;
  std::unique_ptr<Db> db(new Db());
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &db->handles_, &raw);
  if (!s.ok()) return Convert(s);
  db->db_.reset(raw);
  return db;
}

Db::~Db() {
  if (!db_) return;
  rocksdb::FlushOptions flush;
  for (auto* h : handles_) {
    (void)db_->Flush(flush, h);
    (void)db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::Status s = db_->Close();
  if (!s.ok()) RECD_LOG(Error) << "closing RocksDB: " << s.ToString();
}

Batch Db::NewBatch() const {
  Batch b;
  b.handles_ = &handles_;
  return b;
}

absl::Status Db::Write(Batch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return Convert(db_->Write(wo, batch.batch_.get()));
}

absl::StatusOr<std::optional<std::string>> Db::Get(Cf cf, std::string_view key,
                                                   const Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->snap_;
  std::string value;
  rocksdb::Status s = db_->Get(ro, handles_[static_cast<int>(cf)], ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Convert(s);
  return std::optional<std::string>(std::move(value));
}

Iterator Db::NewIterator(Cf cf, const Snapshot* snapshot, std::string_view upper_bound) const {
  // The bound must outlive the iterator: it is owned by a small holder iterator.
  struct Bounded final : rocksdb::Iterator {
    std::string bound_storage;
    rocksdb::Slice bound;
    std::unique_ptr<rocksdb::Iterator> inner;
    bool Valid() const override { return inner->Valid(); }
    void SeekToFirst() override { inner->SeekToFirst(); }
    void SeekToLast() override { inner->SeekToLast(); }
    void Seek(const rocksdb::Slice& t) override { inner->Seek(t); }
    void SeekForPrev(const rocksdb::Slice& t) override { inner->SeekForPrev(t); }
    void Next() override { inner->Next(); }
    void Prev() override { inner->Prev(); }
    rocksdb::Slice key() const override { return inner->key(); }
    rocksdb::Slice value() const override { return inner->value(); }
    rocksdb::Status status() const override { return inner->status(); }
  };
  auto holder = std::make_unique<Bounded>();
  rocksdb::ReadOptions ro;
  if (snapshot != nullptr) ro.snapshot = snapshot->snap_;
  if (!upper_bound.empty()) {
    holder->bound_storage.assign(upper_bound);
    holder->bound = rocksdb::Slice(holder->bound_storage);
    ro.iterate_upper_bound = &holder->bound;
  }
  holder->inner.reset(db_->NewIterator(ro, handles_[static_cast<int>(cf)]));
  return storage::Iterator(std::move(holder));
}

std::unique_ptr<Snapshot> Db::GetSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(db_.get(), db_->GetSnapshot()));
}

absl::Status Db::SyncWal() { return Convert(db_->SyncWAL()); }

absl::Status Db::CompactRange(Cf cf, std::string_view begin, std::string_view end) {
  rocksdb::Slice b = ToSlice(begin), e = ToSlice(end);
  rocksdb::CompactRangeOptions opts;
  opts.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return Convert(db_->CompactRange(opts, handles_[static_cast<int>(cf)],
                                   begin.empty() ? nullptr : &b, end.empty() ? nullptr : &e));
}

absl::Status Db::Flush() {
  rocksdb::FlushOptions flush;
  return Convert(db_->Flush(flush, handles_));
}

}  // namespace recd::storage
