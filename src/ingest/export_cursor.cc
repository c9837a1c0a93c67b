#include "ingest/export_cursor.h"

#include <utility>

namespace recd::ingest {
namespace {

class RangeCursor final : public ExportCursor {
 public:
  RangeCursor(const storage::Db* db, storage::Cf cf, std::string begin, std::string end,
              LineWriter write_line)
      : snapshot_(db->GetSnapshot()),
        it_(db->NewIterator(cf, snapshot_.get(), end)),  // the iterator keeps its own copy
        write_line_(std::move(write_line)) {
    it_.Seek(begin);
  }

  absl::StatusOr<bool> Next(std::string* out, size_t budget) override {
    const size_t start = out->size();
    for (; it_.Valid() && out->size() - start < budget; it_.Next()) {
      RECD_RETURN_IF_ERROR(write_line_(it_.key(), it_.value(), out));
    }
    RECD_RETURN_IF_ERROR(it_.status());
    return it_.Valid();
  }

 private:
  std::unique_ptr<storage::Snapshot> snapshot_;
  storage::Iterator it_;
  LineWriter write_line_;
};

}  // namespace

std::unique_ptr<ExportCursor> NewRangeCursor(const storage::Db* db, storage::Cf cf,
                                             std::string begin, std::string end,
                                             LineWriter write_line) {
  return std::make_unique<RangeCursor>(db, cf, std::move(begin), std::move(end),
                                       std::move(write_line));
}

}  // namespace recd::ingest
