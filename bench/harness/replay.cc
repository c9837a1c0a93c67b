#include "bench/harness/replay.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "bench/harness/units.h"
#include "util/strings.h"
#include "util/text.h"

namespace recd::bench {
namespace {

// Reads logical lines through zlib, which passes plain files through unchanged.
class LineReader {
 public:
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) return absl::NotFoundError(util::StrCat("cannot open ", path));
    gzbuffer(file, 1 << 17);
    return std::unique_ptr<LineReader>(new LineReader(file));
  }
  ~LineReader() { gzclose(file_); }

  // False at the end; the line has no trailing "\n" or "\r\n".
  bool ReadLine(std::string* line) {
    line->clear();
    char buf[4096];
    while (gzgets(file_, buf, sizeof buf) != nullptr) {
      line->append(buf);
      if (!line->empty() && line->back() == '\n') {
        line->pop_back();
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
    }
    return !line->empty();
  }

  bool failed() const {
    int err = Z_OK;
    gzerror(file_, &err);
    return err != Z_OK && err != Z_STREAM_END;
  }

 private:
  explicit LineReader(gzFile file) : file_(file) {}
  gzFile file_;
};

int FindColumn(const std::vector<std::string>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitCsvRecord(std::string_view record) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  bool after_quote = false;  // just closed a quoted field: only a comma may follow
  for (size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    if (in_quotes) {
      if (c != '"') {
        fields.back().push_back(c);
      } else if (i + 1 < record.size() && record[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else {
        in_quotes = false;
        after_quote = true;
      }
    } else if (c == ',') {
      fields.emplace_back();
      after_quote = false;
    } else if (after_quote) {
      return absl::InvalidArgumentError(util::StrCat("junk after a closing quote at column ", i));
    } else if (c == '"' && fields.back().empty()) {
      in_quotes = true;
    } else {
      fields.back().push_back(c);
    }
  }
  if (in_quotes) return absl::InvalidArgumentError("unterminated quoted field");
  return fields;
}

absl::StatusOr<int64_t> ParseDateTimeUtcMs(std::string_view text) {
  // Fixed positions: YYYY-MM-DD HH:MM with optional :SS.
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool ok = (text.size() == 16 || text.size() == 19) && digits(0, 4, &year) &&
                  text[4] == '-' && digits(5, 2, &month) && text[7] == '-' && digits(8, 2, &day) &&
                  (text[10] == ' ' || text[10] == 'T') && digits(11, 2, &hour) && text[13] == ':' &&
                  digits(14, 2, &minute) &&
                  (text.size() == 16 || (text[16] == ':' && digits(17, 2, &second)));
  if (!ok || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return absl::InvalidArgumentError(
        util::StrCat("bad date-time \"", text, "\" (want YYYY-MM-DD HH:MM:SS)"));
  }
  const int64_t days =
      util::DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000 + int64_t{second} * 1000;
}

absl::StatusOr<std::vector<ReplayEvent>> ReadReplayFile(const std::string& path,
                                                        std::string_view format, int64_t limit,
                                                        ReplayReadStats* stats) {
  const bool movielens = format == "movielens";
  if (!movielens && format != "online-retail") {
    return absl::InvalidArgumentError(
        util::StrCat("unknown replay format \"", format, "\" (movielens, online-retail)"));
  }
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string line;
  if (!(*reader)->ReadLine(&line)) return absl::InvalidArgumentError(path + ": empty file");
  absl::StatusOr<std::vector<std::string>> header = SplitCsvRecord(line);
  if (!header.ok())
    return absl::InvalidArgumentError(util::StrCat(path, ":1: ", header.status().message()));
  int user_col, item_col, time_col, qty_col = -1, invoice_col = -1;
  if (movielens) {
    user_col = FindColumn(*header, "userId");
    item_col = FindColumn(*header, "movieId");
    time_col = FindColumn(*header, "timestamp");
  } else {
    user_col = FindColumn(*header, "CustomerID");
    item_col = FindColumn(*header, "StockCode");
    time_col = FindColumn(*header, "InvoiceDate");
    qty_col = FindColumn(*header, "Quantity");
    invoice_col = FindColumn(*header, "InvoiceNo");
  }
  if (user_col < 0 || item_col < 0 || time_col < 0 ||
      (!movielens && (qty_col < 0 || invoice_col < 0))) {
    return absl::InvalidArgumentError(
        util::StrCat(path, ":1: header \"", line, "\" lacks the columns of format ", format,
                     movielens ? " (userId,movieId,rating,timestamp)"
                               : " (InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID)"));
  }
  const size_t needed =
      static_cast<size_t>(std::max({user_col, item_col, time_col, qty_col, invoice_col}) + 1);
  std::vector<ReplayEvent> events;
  ReplayReadStats local;
  int64_t line_no = 1;
  std::string record;
  while ((*reader)->ReadLine(&line)) {
    ++line_no;
    record = line;
    // A quoted field may hold a newline: keep reading while the quotes are unbalanced.
    while (std::count(record.begin(), record.end(), '"') % 2 == 1 && (*reader)->ReadLine(&line)) {
      util::StrAppend(&record, "\n", line);
      ++line_no;
    }
    if (record.empty()) continue;
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvRecord(record);
    if (!fields.ok()) {
      return absl::InvalidArgumentError(
          util::StrCat(path, ":", line_no, ": ", fields.status().message()));
    }
    if (fields->size() < needed) {
      return absl::InvalidArgumentError(util::StrCat(path, ":", line_no, ": ", fields->size(),
                                                     " fields, want at least ", needed));
    }
    ++local.rows;
    ReplayEvent event;
    if (movielens) {
      int64_t seconds = 0;
      if (!util::ParseInt((*fields)[time_col], &seconds) || seconds < 0) {
        return absl::InvalidArgumentError(
            util::StrCat(path, ":", line_no, ": bad timestamp \"", (*fields)[time_col], "\""));
      }
      event.ts_ms = seconds * 1000;
    } else {
      std::string_view customer = (*fields)[user_col];
      double quantity = 0;
      const bool keep = !customer.empty() && ParseDouble((*fields)[qty_col], &quantity) &&
                        quantity > 0 && !(*fields)[invoice_col].starts_with('C');
      if (!keep) {
        ++local.skipped;
        continue;
      }
      // Some exports write the customer number as a float ("17850.0").
      ConsumeSuffix(&customer, ".0");
      (*fields)[user_col] = std::string(customer);
      absl::StatusOr<int64_t> ts = ParseDateTimeUtcMs((*fields)[time_col]);
      if (!ts.ok()) {
        return absl::InvalidArgumentError(
            util::StrCat(path, ":", line_no, ": ", ts.status().message()));
      }
      event.ts_ms = *ts;
    }
    event.user = std::move((*fields)[user_col]);
    event.item = std::move((*fields)[item_col]);
    if (event.user.empty() || event.item.empty()) {
      ++local.skipped;
      continue;
    }
    events.push_back(std::move(event));
  }
  if ((*reader)->failed())
    return absl::DataLossError(util::StrCat(path, ": read error (corrupt gzip?)"));
  std::stable_sort(events.begin(), events.end(),
                   [](const ReplayEvent& a, const ReplayEvent& b) { return a.ts_ms < b.ts_ms; });
  if (limit > 0 && static_cast<int64_t>(events.size()) > limit) {
    events.resize(static_cast<size_t>(limit));
  }
  if (stats != nullptr) *stats = local;
  return events;
}

}  // namespace recd::bench
